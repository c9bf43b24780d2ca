import * as path from 'node:path';
import type { Argv } from 'yargs';
import { formatLocation, UsageError } from '../errors';
import type { Policy } from '../policy/types';
import type { AnyTarget } from '../targets/types';
import type { OpenWorkspace } from '../workspace/sites';
import { EXIT, type Args, type Io } from './command';
import { fleetOutputLib, outputLib, registryLib, renderLib, shardLib, shardMergeLib, siteTargetsLib, sitesLib } from './libraries';
import { checkWholeNumbers, shardOf, withCatalog, withShards, withWorkspace } from './options';
import { printDiagnostics, reportNothingWritten, reportWrite, writeAndReport } from './report';
import { catalogFor, workspaceOf } from './workspace-of';

export function builder(y: Argv) {
  return withShards(withWorkspace(withCatalog(y)), "write only the fleet's inventory.yml and site.yml, from the sites' inventories the parts (--shard) rendered")
    .positional('sites', { type: 'string', array: true, describe: 'workspace sites to render (file name without .yaml, or path); default: all' })
    .option('profile', { alias: 'p', type: 'string', describe: 'a site profile (outside a workspace, or one file of it)' })
    .example('$0 render', 'every site of the workspace into its output folder')
    .example('$0 render store-0042 -t nftables', 'one site, one target')
    .example('$0 render -p site.yaml -t nftables -o -', 'the one file of one target to stdout, for a pipe (--only FILE when it writes several)')
    .option('target', {
      alias: 't',
      type: 'string',
      array: true,
      defaultDescription: "each site's own",
      describe:
        "render only these of each site's targets (a site's targets: its profile.targets, else targets in fwgen.yaml, else every target): " +
        `${registryLib.targets.map((t) => t.id).join(', ')}; naming only targets no site uses is an error`,
    })
    .option('output', {
      alias: 'o',
      type: 'string',
      defaultDescription: "the workspace's output folder, else out",
      describe: 'output folder (<output>/<site>/<target>/), or - to print one file of one site and one target on stdout',
    })
    .option('only', { type: 'string', describe: "with --output -: which of the target's files, when it writes several (e.g. boh-server.nft)" })
    .option('allow-unresolved', { type: 'boolean', default: false, describe: 'leave out rules whose host names the lock does not hold (a warning), instead of failing' })
    .option('wait', { type: 'number', default: 30, describe: 'seconds to wait while another fwgen run writes into the same output folder' })
    .example('$0 render -p site.yaml -o out --wait 120', 'wait up to two minutes for a render already writing into out/')
    .example('$0 render --shard 2/4', 'the second of four parts of the sites (a CI matrix job); then: fwgen render --merge-shards')
    .epilogue(EXIT_NOTE);
}

const EXIT_NOTE =
  'What was written (each file for one site, one line per site for several) and warnings go to stderr; stdout carries only the file of --output -. Exit 0 written (warnings allowed), ' +
  '1 on an error (file:line:col: field: message): then nothing is written.';

export async function handler(a: Args, io: Io): Promise<number> {
  const chosen = renderLib.chooseTargets(a.target as string[] | undefined);
  const toStdout = a.output === '-';
  checkWholeNumbers(a, [['wait', 0]]);
  if (a.output !== undefined && (typeof a.output !== 'string' || a.output === '')) throw new UsageError('--output takes a folder, or - for stdout');
  if (toStdout && chosen.length !== 1) throw new UsageError('--output - writes one target; name it with --target');
  if (!toStdout && a.output !== undefined) outputLib.checkOutputFolder(a.output as string);
  if (!toStdout) outputLib.warmFlusher();
  const ws = workspaceOf(a, io);
  const sites = (a.sites as string[] | undefined) ?? [];
  let profileFile = a.profile as string | undefined;
  if ((a.shard !== undefined || a.mergeShards) && (!ws || profileFile !== undefined || toStdout)) {
    throw new UsageError('--shard and --merge-shards render the sites of a workspace into its output folder');
  }
  if (ws && profileFile === undefined) {
    if (!toStdout) return renderWorkspace(ws, a, sites, chosen, io);
    const picked = sitesLib.pickSites(ws, sites);
    if (picked.length !== 1) throw new UsageError('--output - writes one site; name it');
    profileFile = picked[0]!;
  }
  if (profileFile === undefined) {
    throw new UsageError('name a profile with -p, or run inside a workspace (a folder with fwgen.yaml; fwgen init makes one)');
  }
  if (!ws && sites.length > 0) throw new UsageError('site names need a workspace (fwgen.yaml); outside one, use -p PROFILE');
  const result = renderLib.renderSite(ws ? ws.file : catalogFor(a, profileFile), profileFile, chosen, a.allowUnresolved as boolean);
  refuseUnusedTargets(a, [result.policy.profile], chosen);
  const errors = printDiagnostics(result.diagnostics, io);
  if (errors > 0) {
    reportNothingWritten(errors, io);
    return EXIT.error;
  }
  if (toStdout) {
    const only = a.only as string | undefined;
    const picked = only ? result.files.filter((f) => path.posix.basename(f.path) === only) : result.files;
    if (picked.length !== 1) {
      const names = result.files.map((f) => path.posix.basename(f.path)).join(', ');
      throw new UsageError(
        only ? `no file '${only}' for this target (it writes: ${names})` : `this target writes ${result.files.length} files here (${names}); pick one with --only`,
      );
    }
    io.out(picked[0]!.content);
    return EXIT.ok;
  }
  const owned = renderLib.ownedBy(result.policy.profile.name, chosen);
  writeAndReport((a.output as string | undefined) ?? (ws ? ws.output : 'out'), [...result.files, result.snapshot], owned, a, io);
  return EXIT.ok;
}

/** Every site (or those named, or those of a shard) of a workspace, catalog loaded once, written as one set. */
async function renderWorkspace(ws: OpenWorkspace, a: Args, sites: string[], chosen: AnyTarget[], io: Io): Promise<number> {
  const output = a.output !== undefined ? path.resolve(a.output as string) : ws.output;
  const shown = path.relative(process.cwd(), output) || '.';
  if (a.mergeShards) {
    if (sites.length > 0) throw new UsageError('--merge-shards assembles every site; name none');
    writeAndReport(shown, shardMergeLib.mergedFleetFiles(ws, output), [], a, io);
    return EXIT.ok;
  }
  const shard = shardOf(a, sites);
  const siteFiles = sitesLib.pickSites(ws, sites);
  // Sites are rendered and released one by one, and a refusal must come before any is written:
  // which targets the sites use is read first, from their YAML, and only as far as it decides.
  if (a.target !== undefined) {
    const without = siteTargetsLib.sitesWithout(siteFiles, ws.root, ws.targets, chosen.map((t) => t.id));
    if (without) refuseUnusedTargets(a, without, chosen);
  }
  const run = { output, chosen, siteFiles, everySite: sites.length === 0, allowUnresolved: a.allowUnresolved as boolean, shard };
  const result = await fleetOutputLib.writeFleet(ws, run, (a.wait as number) * 1000);
  const errors = printDiagnostics(result.diagnostics, io);
  if (errors > 0 || !result.summary) {
    reportNothingWritten(errors, io);
    return EXIT.error;
  }
  // One site's files are listed one by one; a fleet's, one line per site (10,000 sites wrote 280,000 lines).
  reportWrite(shown, result.summary, io, result.sites > 1);
  io.err(`${result.sites} site${result.sites === 1 ? '' : 's'}, ${chosen.length} target${chosen.length === 1 ? '' : 's'}${shard ? `, ${shardLib.describeShard(shard)}` : ''}\n`);
  return EXIT.ok;
}

/**
 * --target naming only targets that none of the sites rendered uses: nothing would be
 * written, which reads as success. Said with where the site's list is.
 */
function refuseUnusedTargets(a: Args, profiles: Array<Pick<Policy['profile'], 'name' | 'uses'>>, chosen: AnyTarget[]): void {
  if (a.target === undefined || profiles.length === 0) return;
  if (profiles.some((p) => renderLib.siteTargets(p, chosen).length > 0)) return;
  const named = chosen.map((t) => t.id).join(', ');
  if (profiles.length > 1) throw new UsageError(`no site of the workspace uses --target ${named} (each site's targets: profile.targets, or targets in fwgen.yaml)`);
  const { name, uses } = profiles[0]!;
  throw new UsageError(`site ${name} does not use --target ${named}: its targets are ${uses!.ids.join(', ')} (${formatLocation(uses!.origin)})`);
}
