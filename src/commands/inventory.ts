import * as path from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { EXIT, type Args, type Io } from './command';
import { inventoryLib, outputLib, registryLib, renderLib } from './libraries';
import { withCatalog } from './options';
import { printDiagnostics, reportNothingWritten } from './report';
import { catalogFor } from './workspace-of';

export function builder(y: Argv) {
  return withCatalog(y)
    .option('profile', { alias: 'p', type: 'string', array: true, demandOption: true, describe: 'site profiles (repeat -p for each)' })
    .option('output', { alias: 'o', type: 'string', default: 'out', describe: 'output folder: <site>/<target>/ per site, inventory.yml and site.yml on top' })
    .example(
      '$0 inventory -p shop-a.yaml -p shop-b.yaml',
      'render both sites into out/ and write out/inventory.yml and out/site.yml; then a dry run of one site: ansible-playbook -i out/inventory.yml out/site.yml --limit shop_a --check --diff',
    )
    .epilogue("In a workspace, fwgen render writes the fleet's inventory.yml and site.yml itself. The two files' paths go to stdout, what was written to stderr; exit 0, or 1 on an error (nothing written).");
}

/** Renders every site for every target and writes the fleet's inventory and playbook beside them. */
export function handler(a: Args, io: Io): number {
  const sites = (a.profile as string[]).map((p) => renderLib.renderSite(catalogFor(a, p), p, registryLib.targets));
  const errors = printDiagnostics(sites.flatMap((s) => s.diagnostics.map((d) => ({ ...d, site: s.policy.profile.name }))), io);
  if (errors > 0) {
    reportNothingWritten(errors, io);
    return EXIT.error;
  }
  const names = sites.map((s) => s.policy.profile.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UsageError(`two profiles are named ${dup}; sites in one inventory need distinct names`);
  const files = [...sites.flatMap((s) => [...s.files, s.snapshot]), ...inventoryLib.fleetFiles(sites.map((s) => s.policy))];
  const owned = names.flatMap((n) => renderLib.ownedBy(n, registryLib.targets));
  const summary = outputLib.writeOutput(a.output as string, files, owned);
  io.err(`${summary.written.length} written, ${summary.unchanged.length} unchanged, ${summary.removed.length} removed\n`);
  io.out(`${path.join(a.output as string, 'inventory.yml')}\n${path.join(a.output as string, 'site.yml')}\n`);
  return EXIT.ok;
}
