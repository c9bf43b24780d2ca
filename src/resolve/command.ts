import * as fs from 'node:fs';
import { reviewPolicy } from '../policy/build';
import { loadSite } from '../site/load';
import { formatLock, LOCK_VERSION, lockPathFor, readLock, writeLockAtomically, type Lock } from './lock';
import { readLockToMigrate } from './lock-v1';
import { resolveNames } from './resolver';
import { fileSystemError } from '../fs';
import { displayPath } from '../util/paths';
import { lockableNames, requiredNames, updateLock, type Outcome } from './update-lock';

export interface ResolveRequest {
  catalog: string;
  profile: string;
  servers: string[];
  timeoutMs: number;
  tries: number;
  concurrency: number;
  note?: string;
  progress?: (done: number, total: number) => void;
}

export interface ResolveReport {
  lockFile: string;
  outcomes: Outcome[];
  /** Required names that got no fresh answer. */
  requiredFailures: string[];
}

/** Resolves every concrete name a profile selects and writes its lock file beside it. */
export async function resolveProfile(req: ResolveRequest): Promise<ResolveReport> {
  const { catalog, profile } = loadSite(req.catalog, req.profile);
  // Names only: a lock-out the profile has yet to answer does not stop their lookup.
  const { policy } = reviewPolicy(catalog, profile);
  const names = lockableNames(policy);
  const lockFile = lockPathFor(req.profile);
  const previous: Lock | undefined = fs.existsSync(lockFile) ? readLock(lockFile).lock : undefined;
  const previousText = previous ? fs.readFileSync(lockFile, 'utf8') : undefined;
  const results = await resolveNames(names, {
    servers: req.servers,
    timeoutMs: req.timeoutMs,
    tries: req.tries,
    concurrency: req.concurrency,
    onDone: (_n, done, total) => req.progress?.(done, total),
  });
  const server = req.servers.length > 0 ? req.servers.join(' ') : 'system resolver';
  const note = req.note ?? previous?.note;
  const { lock, outcomes } = updateLock(profile.name, names, results, previous, server, new Date().toISOString(), note);
  // Unchanged answers make the same text: the file is left alone, its date included.
  writeIfChanged(lockFile, previousText, formatLock(lock, lockHeader(profile, note)));
  const required = requiredNames(policy);
  const requiredFailures = outcomes.filter((o) => o.status !== 'resolved' && required.has(o.name)).map((o) => o.name);
  return { lockFile, outcomes, requiredFailures };
}

function lockHeader(profile: { name: string; file: string }, note: string | undefined): string[] {
  return [
    `fwgen lock for profile ${profile.name} (${profile.file}), made by fwgen resolve.`,
    'fwgen render reads addresses from this file only, never from DNS. Review a change here like code:',
    'a moved address changes what the firewall allows.',
    ...(note ? [`Note: ${note}`] : []),
  ];
}

function writeIfChanged(lockFile: string, previousText: string | undefined, text: string): void {
  if (previousText === text) return;
  try {
    writeLockAtomically(lockFile, text);
  } catch (err) {
    throw fileSystemError(err, `${displayPath(lockFile)} was left as it was`, lockFile);
  }
}

export { LOCK_VERSION };

export interface MigrateReport {
  lockFile: string;
  /** The version the lock was read as; the current one means it was left as it was. */
  from: number | undefined;
  names: number;
}

/**
 * Rewrites a profile's lock of an earlier version as a current one with the same names,
 * addresses, times and stale marks: what was reviewed stays, and no name is looked up.
 * A current lock is left as it is; a profile without one has nothing to migrate.
 */
export function migrateProfileLock(req: Pick<ResolveRequest, 'catalog' | 'profile'>): MigrateReport {
  const lockFile = lockPathFor(req.profile);
  const found = readLockToMigrate(lockFile);
  if (!found) return { lockFile, from: undefined, names: 0 };
  if (found.version !== LOCK_VERSION) {
    const { profile } = loadSite(req.catalog, req.profile);
    writeIfChanged(lockFile, undefined, formatLock(found.lock, lockHeader(profile, found.lock.note)));
  }
  return { lockFile, from: found.version, names: found.lock.names.size };
}
