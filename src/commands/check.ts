import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { EXIT, type Args, type Io } from './command';
import { examplesLib, fleetWorkersLib, inventoryLib, outputLib, registryLib, sitesLib } from './libraries';
import { checkWholeNumbers, withWorkspace } from './options';
import { printDiagnostics, reportSummary } from './report';
import { workspaceOf } from './workspace-of';

export function builder(y: Argv) {
  return withWorkspace(y)
    .option('output', { alias: 'o', type: 'string', defaultDescription: "the workspace's output folder", describe: 'the folder holding the rendered sites' })
    .example('$0 check', 'in CI: fail when a committed file is not what the inputs render')
    .example('$0 check --update', 'rewrite what is stale')
    .option('update', { type: 'boolean', default: false, describe: 'rewrite what is stale instead of failing' })
    .option('wait', { type: 'number', default: 30, describe: 'with --update: seconds to wait while another fwgen run writes into the same output folder' });
}

export async function handler(a: Args, io: Io): Promise<number> {
  checkWholeNumbers(a, [['wait', 0]]);
  let ws = workspaceOf(a, io);
  if (!ws) {
    // Outside any workspace, fwgen's own checkout still checks its examples.
    if (!fs.existsSync(examplesLib.examplesWorkspaceFile)) {
      throw new UsageError('no fwgen.yaml in this folder or above; run fwgen init, or name one with --workspace');
    }
    ws = sitesLib.openWorkspace(examplesLib.examplesWorkspaceFile);
  }
  const output = a.output !== undefined ? path.resolve(a.output as string) : ws.output;
  const fleet = await fleetWorkersLib.renderFleetParallel(ws, ws.siteFiles, registryLib.targets, { sweep: output });
  // Errors, and the policy's own warnings (an explicit any); target warnings belong to render.
  const errors = printDiagnostics(fleet.diagnostics.filter((d) => d.severity === 'error' || d.target === 'policy'), io);
  if (errors > 0) return EXIT.error;
  const name = `${path.basename(output)}/`;
  // The whole workspace is rendered: the fleet's Ansible inventory and playbook belong to it.
  const files = [...fleet.files, ...inventoryLib.fleetFiles(fleet.policies)];
  if (a.update) reportSummary(outputLib.writeOutput(output, files, fleet.owned, { waitMs: (a.wait as number) * 1000 }), output, io, 'updated');
  const stale = outputLib.staleFiles(output, files, fleet.owned);
  if (stale.length > 0) {
    io.err(`${name} is stale; run: npx fwgen check --update\n${stale.map((s) => `  ${s}`).join('\n')}\n`);
    return EXIT.stale;
  }
  io.out(`${name} is current (${fleet.policies.length} profiles, ${registryLib.targets.length} targets)\n`);
  return EXIT.ok;
}
