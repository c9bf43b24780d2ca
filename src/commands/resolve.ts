import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { EXIT, type Args, type Io } from './command';
import { fleetLib, resolveLib, serversLib, sitesLib } from './libraries';
import { checkNote, checkWholeNumbers, withCatalog, withWorkspace } from './options';
import { catalogFor, workspaceOf } from './workspace-of';

export function builder(y: Argv) {
  return withWorkspace(withCatalog(y))
    .positional('sites', { type: 'string', array: true, describe: 'workspace sites to resolve; default: all' })
    .option('profile', { alias: 'p', type: 'string', describe: 'a site profile (outside a workspace, or one file of it)' })
    .example('$0 resolve', "refresh every site's lock file")
    .option('server', { type: 'string', array: true, describe: 'DNS server IP[:PORT] to ask instead of the system resolver' })
    .option('timeout', { type: 'number', default: 2000, describe: 'milliseconds per query attempt' })
    .option('tries', { type: 'number', default: 3, describe: 'attempts per query' })
    .option('concurrency', { type: 'number', default: 8, describe: 'names looked up at once' })
    .option('note', { type: 'string', describe: 'a line for the lock header (kept on later runs)' })
    .option('migrate', { type: 'boolean', default: false, describe: 'rewrite lock files an earlier fwgen wrote as current ones, keeping their addresses; looks nothing up' })
    .example('$0 resolve --migrate', 'after an upgrade: keep the reviewed addresses of version-1 locks')
    .epilogue(
      'Names that fail to resolve keep the addresses of their last lookup, marked stale, and are listed on stderr. ' +
        'Exit 0, or 1 when a required name has no fresh addresses (the lock is written all the same) or on bad input.',
    );
}

export async function handler(a: Args, io: Io): Promise<number> {
  checkWholeNumbers(a, [['timeout', 1], ['tries', 1], ['concurrency', 1]]);
  for (const s of (a.server as string[] | undefined) ?? []) {
    const problem = serversLib.serverProblem(String(s));
    if (problem) throw new UsageError(`--server ${problem}`);
  }
  checkNote(a.note);
  const ws = workspaceOf(a, io);
  const sites = (a.sites as string[] | undefined) ?? [];
  let profiles: string[];
  if (a.profile !== undefined) profiles = [a.profile as string];
  else if (ws) {
    profiles = sitesLib.pickSites(ws, sites);
    // Two sites of one name are refused before any lookup, as render refuses them.
    fleetLib.siteNames(ws, profiles);
  }
  else throw new UsageError('name a profile with -p, or run inside a workspace (a folder with fwgen.yaml; fwgen init makes one)');
  if (a.migrate) return migrate(profiles, ws ? () => ws.file : (p) => catalogFor(a, p), io);
  let failed = false;
  for (const profile of profiles) {
    const report = await resolveLib.resolveProfile({
      catalog: ws ? ws.file : catalogFor(a, profile),
      profile,
      servers: (a.server as string[] | undefined) ?? [],
      timeoutMs: a.timeout as number,
      tries: a.tries as number,
      concurrency: a.concurrency as number,
      note: a.note as string | undefined,
      progress: io.tty ? (done, total) => io.err(`\rresolving ${done}/${total}${done === total ? '\n' : ''}`) : undefined,
    });
    for (const o of report.outcomes) {
      if (o.status !== 'resolved') io.err(`${o.name}: ${o.message}\n`);
    }
    const resolved = report.outcomes.filter((o) => o.status === 'resolved').length;
    io.err(`wrote ${report.lockFile}: ${resolved} of ${report.outcomes.length} names resolved\n`);
    if (report.requiredFailures.length > 0) {
      io.err(`fwgen: required names without fresh addresses: ${report.requiredFailures.join(', ')}\n`);
      failed = true;
    }
  }
  return failed ? EXIT.error : EXIT.ok;
}

function migrate(profiles: string[], catalogOf: (profile: string) => string, io: Io): number {
  for (const profile of profiles) {
    const r = resolveLib.migrateProfileLock({ catalog: catalogOf(profile), profile });
    if (r.from === undefined) io.err(`${profile}: no lock file to migrate (fwgen resolve makes one)\n`);
    else if (r.from === resolveLib.LOCK_VERSION) io.err(`${r.lockFile} is current (version ${r.from}); left as it was\n`);
    else io.err(`wrote ${r.lockFile}: version ${r.from} to ${resolveLib.LOCK_VERSION}, ${r.names} name${r.names === 1 ? '' : 's'} and their addresses kept\n`);
  }
  return EXIT.ok;
}
