import { createHash } from 'node:crypto';
import type { Policy } from '../policy/types';
import type { Lock, LockEntry } from './lock';
import type { NameResult } from './resolver';

/** The names a lock must hold for a policy: every concrete (non-wildcard) host name, sorted. */
export function lockableNames(policy: Policy): string[] {
  return [...policy.names.values()].filter((n) => !n.wildcard).map((n) => n.name).sort();
}

/** Names that a required service needs; a failure on one of them fails `fwgen resolve`. */
export function requiredNames(policy: Policy): Set<string> {
  return new Set(policy.rules.filter((r) => r.requirement === 'required').flatMap((r) => r.remote.names));
}

/** A digest of what the lock was made for, so a changed selection shows as a stale lock. */
export function selectionDigest(names: string[]): string {
  return `sha256:${createHash('sha256').update(names.join('\n')).digest('hex').slice(0, 16)}`;
}

export interface Outcome {
  name: string;
  status: 'resolved' | 'kept-stale' | 'failed';
  message: string;
}

/**
 * The new lock from fresh answers and the previous lock. A failed lookup never erases what
 * an earlier lock held: those addresses are kept and marked stale, with the reason.
 */
export function updateLock(
  profile: string,
  names: string[],
  results: NameResult[],
  previous: Lock | undefined,
  server: string,
  now: string,
  note: string | undefined,
): { lock: Lock; outcomes: Outcome[] } {
  const entries = new Map<string, LockEntry>();
  const outcomes: Outcome[] = [];
  for (const r of results) {
    if (!r.error) {
      entries.set(r.name, { ipv4: r.ipv4, ipv6: r.ipv6, ttl: r.ttl, cnames: r.cnames, server, resolvedAt: now });
      const extra = r.notes.length ? ` (${r.notes.join(', ')})` : '';
      outcomes.push({ name: r.name, status: 'resolved', message: `${r.ipv4.length + r.ipv6.length} addresses, TTL ${r.ttl}s${extra}` });
      continue;
    }
    const old = previous?.names.get(r.name);
    if (old && old.ipv4.length + old.ipv6.length > 0) {
      const since = old.stale ? old.stale.replace(/^.*; addresses from /, '') : old.resolvedAt;
      entries.set(r.name, { ...old, stale: `${r.error} at ${now}; addresses from ${since}` });
      outcomes.push({ name: r.name, status: 'kept-stale', message: `${r.error}; kept ${old.ipv4.length + old.ipv6.length} addresses from ${since}, marked stale` });
    } else {
      outcomes.push({ name: r.name, status: 'failed', message: `${r.error}; no earlier addresses to keep` });
    }
  }
  return { lock: { profile, selection: selectionDigest(names), note, names: entries }, outcomes };
}
