import type { Argv } from 'yargs';
import type * as ExplainModule from '../report/explain';
import type * as SiteModule from '../site/load';
import { EXIT, type Args, type Io } from './command';
import { lazy } from './lazy';
import { withCatalog } from './options';
import { catalogFor } from './workspace-of';

const siteLib = lazy<typeof SiteModule>(() => require('../site/load'));
const explainLib = lazy<typeof ExplainModule>(() => require('../report/explain'));

export function builder(y: Argv) {
  return withCatalog(y).option('profile', { alias: 'p', type: 'string', demandOption: true, describe: 'a site profile' });
}

export function handler(a: Args, io: Io): number {
  const { catalog, profile } = siteLib.loadSite(catalogFor(a, a.profile as string), a.profile as string);
  io.out(explainLib.explainSite(catalog, profile));
  return EXIT.ok;
}
