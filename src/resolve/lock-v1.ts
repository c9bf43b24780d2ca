import * as fs from 'node:fs';
import { readYaml } from '../catalog/read-file';
import type { YamlSource } from '../catalog/yaml-source';
import { InputError, type LocatedIssue } from '../errors';
import { isCidrError, parseCidr } from '../net/addresses';
import { FAMILIES, LOCK_VERSION, readLock, type Lock, type LockEntry } from './lock';

/**
 * A lock written by fwgen before lock version 2: no digest, and one `stale` line for the
 * whole name instead of one per family. Read only to carry its reviewed addresses into a
 * current lock (fwgen resolve --migrate); render never reads it.
 */
export function readLockV1(src: YamlSource): Lock {
  const raw = src.data as { lock: Record<string, unknown>; names?: unknown };
  const issues: LocatedIssue[] = [];
  const text = (at: Array<string | number>, v: unknown, required = true): string | undefined => {
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v === '' || /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(v)) {
      issues.push(src.issue(at, 'expected one line of text'));
      return undefined;
    }
    return v;
  };
  const timeAt = (at: Array<string | number>, v: unknown): string => {
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v)) return v;
    issues.push(src.issue(at, 'expected a UTC time (2026-01-31T12:00:00.000Z)'));
    return '';
  };
  const profile = text(['lock', 'profile'], raw.lock.profile);
  const selection = text(['lock', 'selection'], raw.lock.selection);
  const note = text(['lock', 'note'], raw.lock.note, false);
  const names = new Map<string, LockEntry>();
  if (raw.names !== undefined && (raw.names === null || typeof raw.names !== 'object' || Array.isArray(raw.names))) {
    issues.push(src.issue(['names'], 'expected a map of host names'));
  }
  for (const [name, given] of Object.entries((raw.names ?? {}) as Record<string, unknown>)) {
    if (given === null || typeof given !== 'object' || Array.isArray(given)) {
      issues.push(src.issue(['names', name], 'expected the entry of one host name'));
      continue;
    }
    const e = given as Record<string, unknown>;
    const addresses = Object.fromEntries(
      FAMILIES.map((fam) => {
        const list = e[fam] ?? [];
        if (!Array.isArray(list)) {
          issues.push(src.issue(['names', name, fam], 'expected a list of addresses'));
          return [fam, []];
        }
        list.forEach((a, i) => {
          const c = parseCidr(String(a));
          if (isCidrError(c)) issues.push(src.issue(['names', name, fam, i], c.error));
          else if (c.family !== fam) issues.push(src.issue(['names', name, fam, i], `${String(a)} is not an ${fam} address`));
        });
        return [fam, list.map(String)];
      }),
    ) as Record<(typeof FAMILIES)[number], string[]>;
    const ttl = e.ttl;
    if (ttl !== undefined && (!Number.isInteger(ttl) || (ttl as number) < 0)) issues.push(src.issue(['names', name, 'ttl'], 'expected a whole number of seconds'));
    const cnames = Array.isArray(e.cnames) ? e.cnames.map(String) : [];
    const stale = text(['names', name, 'stale'], e.stale, false);
    names.set(name, {
      ...addresses,
      ...(Number.isInteger(ttl) ? { ttl: ttl as number } : {}),
      cnames,
      server: text(['names', name, 'server'], e.server) ?? '',
      resolvedAt: timeAt(['names', name, 'resolvedAt'], e.resolvedAt),
      // Version 1 said a name was stale as a whole: both of its families are.
      ...(stale ? { stale: Object.fromEntries(FAMILIES.filter((f) => addresses[f].length > 0).map((f) => [f, stale])) } : {}),
    });
  }
  if (issues.length > 0) throw new InputError(issues);
  return { profile: profile!, selection: selection!, ...(note ? { note } : {}), names };
}

/**
 * The lock beside a profile, of any version fwgen has written, and which: what
 * fwgen resolve --migrate carries into a current lock. Undefined when there is none.
 */
export function readLockToMigrate(file: string): { lock: Lock; version: number } | undefined {
  if (!fs.existsSync(file)) return undefined;
  const src = readYaml(file);
  const version = (src.data as { lock?: { version?: unknown } } | null)?.lock?.version;
  if (version === 1) return { lock: readLockV1(src), version };
  return { lock: readLock(file).lock, version: LOCK_VERSION };
}
