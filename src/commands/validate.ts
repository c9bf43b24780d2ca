import type { Argv } from 'yargs';
import { EXIT, type Args, type Io } from './command';
import { renderLib, validateLib } from './libraries';
import { catalogOf, withCatalog, withWorkspace } from './options';
import { printDiagnostics } from './report';
import { workspaceOf } from './workspace-of';

export function builder(y: Argv) {
  return withWorkspace(withCatalog(y))
    .positional('paths', { type: 'string', array: true, describe: 'files or folders to check (vendor, list, device-class, profile, lock or workspace files)' })
    .example('$0 validate', 'the workspace: its catalog layers and every site')
    .example('$0 validate --catalog my-catalog site.yaml', 'one profile against another catalog')
    .epilogue('Problems go to stderr as file:line:col: field: message, all at once: exit 1. Warnings go to stderr too; the ok: line goes to stdout, exit 0.');
}

export function handler(a: Args, io: Io): number {
  const paths = (a.paths as string[] | undefined) ?? [];
  const ws = workspaceOf(a, io);
  const report = ws ? validateLib.validateWorkspace(ws, paths) : validateLib.validatePaths(catalogOf(a), paths);
  printDiagnostics(renderLib.policyDiagnostics(report), io);
  io.out(`ok: ${report.vendors} vendors, ${report.lists} address lists, ${report.deviceClasses} device classes, ${report.profiles} profiles\n`);
  return EXIT.ok;
}
