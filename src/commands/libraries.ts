/**
 * The libraries the commands run, each loaded when a command first uses it: a command's
 * options (and its --help) need none of them, and some take longer to load than the help
 * takes to print. One list, so that each is declared once.
 */
import type * as AnsibleModule from '../targets/ansible';
import type * as CatalogModule from '../catalog/load-catalog';
import type * as CryptoModule from 'node:crypto';
import type * as DiffModule from '../diff';
import type * as ExamplesModule from '../workspace/examples';
import type * as ExplainModule from '../report/explain';
import type * as FeedsCommandModule from '../feeds/command';
import type * as FeedsFetchModule from '../feeds/fetch';
import type * as FeedsLayersModule from '../feeds/layers';
import type * as FeedsReportModule from '../feeds/report';
import type * as FeedsUpdateModule from '../feeds/update';
import type * as FleetModule from '../workspace/fleet';
import type * as FleetWorkersModule from '../workspace/fleet-workers';
import type * as FleetOutputModule from '../workspace/fleet-output';
import type * as ShardMergeModule from '../workspace/shard-merge';
import type * as ShardModule from '../workspace/shard';
import type * as FlowsModule from '../report/flows';
import type * as IncrementalModule from '../workspace/incremental';
import type * as InitModule from '../workspace/init';
import type * as InventoryModule from '../workspace/inventory';
import type * as OutputModule from '../output';
import type * as RegistryModule from '../targets/registry';
import type * as RenderModule from '../render/site';
import type * as ResolveModule from '../resolve/command';
import type * as SelectModule from '../policy/select';
import type * as ServersModule from '../resolve/servers';
import type * as SiteModule from '../site/load';
import type * as SiteTargetsModule from '../catalog/site-targets';
import type * as SitesModule from '../workspace/sites';
import type * as ValidateModule from '../workspace/validate';
import type * as WorkspaceFileModule from '../site/workspace-file';
import { lazy } from './lazy';

export const ansibleLib = lazy<typeof AnsibleModule>(() => require('../targets/ansible'));
export const catalogLib = lazy<typeof CatalogModule>(() => require('../catalog/load-catalog'));
export const cryptoLib = lazy<typeof CryptoModule>(() => require('node:crypto'));
export const diffLib = lazy<typeof DiffModule>(() => require('../diff'));
export const examplesLib = lazy<typeof ExamplesModule>(() => require('../workspace/examples'));
export const explainLib = lazy<typeof ExplainModule>(() => require('../report/explain'));
export const feedsCommandLib = lazy<typeof FeedsCommandModule>(() => require('../feeds/command'));
export const feedsFetchLib = lazy<typeof FeedsFetchModule>(() => require('../feeds/fetch'));
export const feedsLayersLib = lazy<typeof FeedsLayersModule>(() => require('../feeds/layers'));
export const feedsReportLib = lazy<typeof FeedsReportModule>(() => require('../feeds/report'));
export const feedsUpdateLib = lazy<typeof FeedsUpdateModule>(() => require('../feeds/update'));
export const fleetLib = lazy<typeof FleetModule>(() => require('../workspace/fleet'));
export const fleetWorkersLib = lazy<typeof FleetWorkersModule>(() => require('../workspace/fleet-workers'));
export const fleetOutputLib = lazy<typeof FleetOutputModule>(() => require('../workspace/fleet-output'));
export const shardMergeLib = lazy<typeof ShardMergeModule>(() => require('../workspace/shard-merge'));
export const shardLib = lazy<typeof ShardModule>(() => require('../workspace/shard'));
export const flowsLib = lazy<typeof FlowsModule>(() => require('../report/flows'));
export const incrementalLib = lazy<typeof IncrementalModule>(() => require('../workspace/incremental'));
export const initLib = lazy<typeof InitModule>(() => require('../workspace/init'));
export const inventoryLib = lazy<typeof InventoryModule>(() => require('../workspace/inventory'));
export const outputLib = lazy<typeof OutputModule>(() => require('../output'));
export const registryLib = lazy<typeof RegistryModule>(() => require('../targets/registry'));
export const renderLib = lazy<typeof RenderModule>(() => require('../render/site'));
export const resolveLib = lazy<typeof ResolveModule>(() => require('../resolve/command'));
export const selectLib = lazy<typeof SelectModule>(() => require('../policy/select'));
export const serversLib = lazy<typeof ServersModule>(() => require('../resolve/servers'));
export const siteLib = lazy<typeof SiteModule>(() => require('../site/load'));
export const siteTargetsLib = lazy<typeof SiteTargetsModule>(() => require('../catalog/site-targets'));
export const sitesLib = lazy<typeof SitesModule>(() => require('../workspace/sites'));
export const validateLib = lazy<typeof ValidateModule>(() => require('../workspace/validate'));
export const workspaceFileLib = lazy<typeof WorkspaceFileModule>(() => require('../site/workspace-file'));
