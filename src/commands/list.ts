import type { Argv } from 'yargs';
import { EXIT, type Args, type Io } from './command';
import { catalogLib, flowsLib, selectLib, siteLib, sitesLib, workspaceFileLib } from './libraries';
import { catalogGiven, catalogOf, withCatalog } from './options';
import { catalogFor } from './workspace-of';

export function builder(y: Argv) {
  return withCatalog(y)
    .option('profile', { alias: 'p', type: 'string', describe: 'a site profile: list only what it selects, variables filled in' })
    .option('json', { type: 'boolean', default: false, describe: 'a JSON array on stdout, one object per flow (its fields: README, Commands), instead of the table' })
    .example('$0 list -p site.yaml', "a table of what the site's profile selects")
    .example('$0 list --json > flows.json', "every flow of the catalog (in a workspace: with its catalog layers), for tools");
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
