import type { Argv } from 'yargs';
import { EXIT, type Args, type Io } from './command';
import { explainLib, siteLib } from './libraries';
import { withCatalog } from './options';
import { catalogFor } from './workspace-of';

export function builder(y: Argv) {
  return withCatalog(y).option('profile', { alias: 'p', type: 'string', demandOption: true, describe: 'a site profile' });
}

export function handler(a: Args, io: Io): number {
  const { catalog, profile } = siteLib.loadSite(catalogFor(a, a.profile as string), a.profile as string);
  io.out(explainLib.explainSite(catalog, profile));
  return EXIT.ok;
}
