import type { Argv } from 'yargs';
import type * as CatalogModule from '../catalog/load-catalog';
import type * as SelectModule from '../policy/select';
import type * as FlowsModule from '../report/flows';
import type * as SiteModule from '../site/load';
import type * as WorkspaceFileModule from '../site/workspace-file';
import type * as SitesModule from '../workspace/sites';
import { EXIT, type Args, type Io } from './command';
import { lazy } from './lazy';
import { catalogGiven, catalogOf, withCatalog } from './options';
import { catalogFor } from './workspace-of';

const siteLib = lazy<typeof SiteModule>(() => require('../site/load'));
const selectLib = lazy<typeof SelectModule>(() => require('../policy/select'));
const flowsLib = lazy<typeof FlowsModule>(() => require('../report/flows'));
const catalogLib = lazy<typeof CatalogModule>(() => require('../catalog/load-catalog'));
const workspaceFileLib = lazy<typeof WorkspaceFileModule>(() => require('../site/workspace-file'));
const sitesLib = lazy<typeof SitesModule>(() => require('../workspace/sites'));

export function builder(y: Argv) {
  return withCatalog(y)
    .option('profile', { alias: 'p', type: 'string', describe: 'a site profile: list only what it selects, variables filled in' })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON object per flow' });
}

export function handler(a: Args, io: Io): number {
  let rows;
  if (a.profile) {
    const { catalog, profile } = siteLib.loadSite(catalogFor(a, a.profile as string), a.profile as string);
    rows = flowsLib.selectionRows(selectLib.select(catalog, profile));
  } else {
    const wsFile = catalogGiven(a) ? undefined : workspaceFileLib.findWorkspace(process.cwd());
    rows = flowsLib.catalogRows(wsFile ? sitesLib.openWorkspace(wsFile).catalog : catalogLib.loadCatalog(catalogOf(a)));
  }
  io.out(a.json ? JSON.stringify(rows, null, 2) + '\n' : flowsLib.formatTable(rows));
  return EXIT.ok;
}
