import { createHash } from 'node:crypto';
import { sameList } from '../net/addresses';
import type { Policy } from '../policy/types';
import { FAMILIES, type Family, type Lock, type LockEntry } from './lock';
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
  status: 'resolved' | 'partly-stale' | 'kept-stale' | 'failed';
  message: string;
}

const LABEL: Record<Family, string> = { ipv4: 'A', ipv6: 'AAAA' };

const sameSet = (a: readonly string[], b: readonly string[]): boolean => sameList([...a].sort(), [...b].sort());

/**
 * Whether a fresh answer says what the lock already holds: the same addresses, CNAME chain
 * and server, and nothing marked stale. A TTL counted down by a cache is not a change.
 */
function sameAnswer(old: LockEntry, fresh: LockEntry): boolean {
  return (
    old.stale === undefined &&
    old.server === fresh.server &&
    sameSet(old.ipv4, fresh.ipv4) &&
    sameSet(old.ipv6, fresh.ipv6) &&
    sameList(old.cnames, fresh.cnames)
  );
}

/** "addresses from T": when the kept addresses were last fresh. */
function freshSince(old: LockEntry, fam: Family): string {
  const mark = old.stale?.[fam];
  return mark ? mark.replace(/^.*; addresses from /, '') : old.resolvedAt;
}

/**
 * The new lock from fresh answers and the previous lock. A failed lookup never erases what
 * an earlier lock held: a whole-name failure keeps the entry, a failure of one family (A
 * answers, AAAA gets SERVFAIL) keeps that family's addresses; either is marked stale per
 * family, with the reason. "No record" (NODATA) is an answer and replaces what was there.
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
    const old = previous?.names.get(r.name);
    if (r.error) {
      if (old && old.ipv4.length + old.ipv6.length > 0) {
        const stale = Object.fromEntries(FAMILIES.filter((f) => old[f].length > 0).map((f) => [f, `${r.error} at ${now}; addresses from ${freshSince(old, f)}`]));
        const since = [...new Set(FAMILIES.filter((f) => old[f].length > 0).map((f) => freshSince(old, f)))].join(', ');
        entries.set(r.name, { ...old, stale });
        outcomes.push({ name: r.name, status: 'kept-stale', message: `${r.error}; kept ${old.ipv4.length + old.ipv6.length} addresses from ${since}, marked stale` });
      } else {
        outcomes.push({ name: r.name, status: 'failed', message: `${r.error}; no earlier addresses to keep` });
      }
      continue;
    }
    const fresh: LockEntry = { ipv4: r.ipv4, ipv6: r.ipv6, ttl: r.ttl, cnames: r.cnames, server, resolvedAt: now };
    // The same answer as before keeps its entry, date and TTL as they were, so a daily resolve
    // that moved nothing leaves the lock byte-identical: no pull request for a changed date.
    const entry = old && sameAnswer(old, fresh) && Object.keys(r.familyErrors).length === 0 ? { ...old } : fresh;
    const said: string[] = [];
    for (const fam of FAMILIES) {
      const why = r.familyErrors[fam];
      if (!why) continue;
      const kept = old?.[fam] ?? [];
      if (kept.length > 0) {
        entry[fam] = kept;
        entry.stale = { ...entry.stale, [fam]: `${LABEL[fam]} lookup: ${why} at ${now}; addresses from ${freshSince(old!, fam)}` };
        if (old!.ttl !== undefined) entry.ttl = Math.min(entry.ttl ?? Infinity, old!.ttl);
        said.push(`${LABEL[fam]} lookup: ${why}; kept ${kept.length} ${fam === 'ipv4' ? 'IPv4' : 'IPv6'} address${kept.length === 1 ? '' : 'es'} from ${freshSince(old!, fam)}, marked stale`);
      } else {
        said.push(`${LABEL[fam]} lookup: ${why}; no earlier ${fam === 'ipv4' ? 'IPv4' : 'IPv6'} addresses to keep`);
      }
    }
    const count = entry.ipv4.length + entry.ipv6.length;
    if (count === 0) {
      outcomes.push({ name: r.name, status: 'failed', message: said.join('; ') });
      continue;
    }
    entries.set(r.name, entry);
    if (said.length > 0) {
      outcomes.push({ name: r.name, status: 'partly-stale', message: said.join('; ') });
    } else {
      const extra = r.notes.length ? ` (${r.notes.join(', ')})` : '';
      outcomes.push({ name: r.name, status: 'resolved', message: `${count} addresses, TTL ${entry.ttl ?? 'unknown'}s${extra}` });
    }
  }
  return { lock: { profile, selection: selectionDigest(names), note, names: entries }, outcomes };
}
