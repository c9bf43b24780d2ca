import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { EXIT, type Args, type Io } from './command';
import { examplesLib, fleetOutputLib, incrementalLib, outputLib, registryLib, shardLib, shardMergeLib, sitesLib } from './libraries';
import { checkWholeNumbers, shardOf, withShards, withWorkspace } from './options';
import { printDiagnostics, reportSummary } from './report';
import { workspaceOf } from './workspace-of';
import { invocationIn } from './invocation';

export function builder(y: Argv) {
  return withShards(withWorkspace(y), "check only the fleet's inventory.yml and site.yml against the sites' inventories (after every part passed --shard K/N)")
    .option('output', { alias: 'o', type: 'string', defaultDescription: "the workspace's output folder", describe: 'the folder holding the rendered sites' })
    .example('$0 check', 'in CI: fail when a committed file is not what the inputs render')
    .example('$0 check --update', 'rewrite what is stale')
    .example('$0 check --shard 1/4', 'in a CI matrix: the first of four parts of the sites; and once: fwgen check --merge-shards')
    .option('update', { type: 'boolean', default: false, describe: 'rewrite what is stale instead of failing' })
    .option('wait', { type: 'number', default: 30, describe: 'with --update: seconds to wait while another fwgen run writes into the same output folder' })
    .option('base', {
      type: 'string',
      describe: "Git revision already reviewed (the pull request's target): a site whose inputs and committed files are as that revision's render records say is not rendered again",
    })
    .option('full', { type: 'boolean', default: false, describe: 'with --base: render every site all the same' })
    .conflicts('base', 'merge-shards')
    .example('$0 check --base origin/main', 'in a pull request: render only the sites the change touches');
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
  const name = `${path.basename(output)}/`;
  const waitMs = (a.wait as number) * 1000;
  if (a.mergeShards) {
    const files = shardMergeLib.mergedFleetFiles(ws, output);
    if (a.update) reportSummary(outputLib.writeOutput(output, files, [], { waitMs }), output, io, 'updated');
    return reportStale(name, outputLib.staleFiles(output, files, []), "the fleet inventory and playbook, as the sites' inventories make them", '--merge-shards', io);
  }
  const shard = shardOf(a);
  const cut = a.base !== undefined && !a.full ? await incrementalLib.unchangedSince(ws, a.base as string, output) : undefined;
  if (cut) io.err(`${incrementalLib.shortcutNote(cut)}\n`);
  const run = { output, chosen: registryLib.targets, siteFiles: cut?.render ?? ws.siteFiles, everySite: true, shard, kept: cut?.kept, fleetCurrent: cut?.fleetCurrent };
  // With --update the render writes what is stale; a render that committed leaves nothing stale.
  const result = a.update ? await fleetOutputLib.writeFleet(ws, run, waitMs) : await fleetOutputLib.checkFleet(ws, run);
  // Errors, and the policy's own warnings (an explicit any); target warnings belong to render.
  const errors = printDiagnostics(result.diagnostics.filter((d) => d.severity === 'error' || d.target === 'policy'), io);
  if (errors > 0) return EXIT.error;
  // As render says it: one site's files one by one, a fleet's one line per site folder.
  if ('summary' in result && result.summary) reportSummary(result.summary, output, io, 'updated', result.sites > 1);
  const what = `${result.sites} profiles, ${registryLib.targets.length} targets${shard ? `, ${shardLib.describeShard(shard)}` : ''}`;
  return reportStale(name, 'stale' in result ? result.stale : [], what, shard ? `--shard ${shard.index}/${shard.count}` : '', io);
}

function reportStale(name: string, stale: string[], what: string, also: string, io: Io): number {
  if (stale.length > 0) {
    io.err(`${name} is stale; run: ${invocationIn(process.cwd()).command} check --update${also ? ` ${also}` : ''}\n${stale.map((s) => `  ${s}`).join('\n')}\n`);
    return EXIT.stale;
  }
  io.out(`${name} is current (${what})\n`);
  return EXIT.ok;
}
