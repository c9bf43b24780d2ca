import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { readYaml } from '../catalog/read-file';
import { validateAgainst } from '../catalog/schema';
import { InputError, type LocatedIssue } from '../errors';
import { removeDeadTemps, replaceFile } from '../fs';
import { isCidrError, parseCidr, toAddressSet, type AddressSet, type Cidr } from '../net/addresses';
import type { AddressBook } from '../policy/types';
import { yamlPackage } from '../util/yaml-package';

export type Family = 'ipv4' | 'ipv6';
export const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];

/** What the lock records for one name. */
export interface LockEntry {
  ipv4: string[];
  ipv6: string[];
  /** The smallest TTL seen across the answers, in seconds. */
  ttl?: number;
  cnames: string[];
  server: string;
  resolvedAt: string;
  /**
   * Per family: the last lookup of it failed and its addresses are from an earlier one
   * (why, when, and since when). A whole-name failure marks both.
   */
  stale?: Partial<Record<Family, string>>;
}

export interface Lock {
  profile: string;
  selection: string;
  note?: string;
  names: Map<string, LockEntry>;
}

/**
 * Version 2: per-family stale marks and a digest. The digest (sha256 over the lock's data
 * as canonical JSON, the digest itself left out) makes a file that was cut short, or edited
 * by hand, fail to read rather than render with part of its names.
 */
export const LOCK_VERSION = 2;

export function lockPathFor(profileFile: string): string {
  const dir = path.dirname(profileFile);
  return path.join(dir, `${path.basename(profileFile).replace(/\.ya?ml$/, '')}.lock.yaml`);
}

/** JSON with object keys sorted at every level: the same data always gives the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

function digestOf(data: { lock: Record<string, unknown>; names: unknown }): string {
  const { digest: _left, ...header } = data.lock;
  return `sha256:${createHash('sha256').update(canonical({ lock: header, names: data.names })).digest('hex')}`;
}

/** The entry as the file holds it: the same fields, the stale map only when set. */
type RawEntry = LockEntry;
interface RawLock {
  lock: { version: number; profile: string; selection: string; note?: string; digest: string };
  names: Record<string, RawEntry>;
}

/**
 * Reads a lock file: checked against lock.schema.json, then whole (its digest), then every
 * address. Every problem carries file:line:col like any other input.
 */
export function readLock(file: string): { lock: Lock; book: AddressBook } {
  const src = readYaml(file);
  const top = src.data as { lock?: { version?: unknown } } | null;
  if (!top || typeof top !== 'object' || Array.isArray(top) || !top.lock || typeof top.lock !== 'object') {
    throw new InputError([src.issue([], `not a fwgen lock file (no 'lock' section)`)]);
  }
  if (top.lock.version !== LOCK_VERSION) {
    const earlier = typeof top.lock.version === 'number' && top.lock.version < LOCK_VERSION;
    throw new InputError([
      src.issue(
        ['lock', 'version'],
        earlier
          ? `lock version ${top.lock.version} was written by an earlier fwgen; run fwgen resolve --migrate to keep its addresses in a current lock (or delete this file and run fwgen resolve again)`
          : `unsupported lock version ${JSON.stringify(top.lock.version)}; expected ${LOCK_VERSION}`,
      ),
    ]);
  }
  const schemaIssues = validateAgainst('lock', src);
  if (schemaIssues.length > 0) throw new InputError(schemaIssues);
  const raw = src.data as RawLock;
  if (digestOf(raw) !== raw.lock.digest) {
    throw new InputError([
      src.issue(
        ['lock', 'digest'],
        'the file does not match its digest: it was cut short or edited by hand. Restore it from Git, or delete it and run fwgen resolve again',
      ),
    ]);
  }

  const issues: LocatedIssue[] = [];
  const names = new Map<string, LockEntry>();
  const sets = new Map<string, AddressSet>();
  for (const [name, e] of Object.entries(raw.names)) {
    const cidrs: Cidr[] = [];
    for (const fam of FAMILIES) {
      e[fam].forEach((a, i) => {
        const c = parseCidr(a);
        if (isCidrError(c)) issues.push(src.issue(['names', name, fam, i], c.error));
        else if (c.family !== fam) issues.push(src.issue(['names', name, fam, i], `${a} is not an ${fam} address`));
        else cidrs.push(c);
      });
    }
    sets.set(name, toAddressSet(cidrs));
    names.set(name, { ...e, ipv4: [...e.ipv4], ipv6: [...e.ipv6], cnames: [...e.cnames], ...(e.stale ? { stale: { ...e.stale } } : {}) });
  }
  if (issues.length > 0) throw new InputError(issues);
  const lock: Lock = { profile: raw.lock.profile, selection: raw.lock.selection, note: raw.lock.note, names };
  const book: AddressBook = {
    file: src.file,
    selection: lock.selection,
    lookup(name) {
      const entry = names.get(name);
      const addresses = sets.get(name);
      if (!entry || !addresses || addresses.ipv4.length + addresses.ipv6.length === 0) return undefined;
      return { addresses, ttl: entry.ttl, stale: describeStale(entry) };
    },
  };
  return { lock, book };
}

/** One line for render's warning: which family is stale and why. */
export function describeStale(e: LockEntry): string | undefined {
  const v4 = e.stale?.ipv4 && e.ipv4.length > 0 ? e.stale.ipv4 : undefined;
  const v6 = e.stale?.ipv6 && e.ipv6.length > 0 ? e.stale.ipv6 : undefined;
  if (v4 && v6) return v4 === v6 ? v4 : `IPv4: ${v4}; IPv6: ${v6}`;
  if (v4) return `IPv4: ${v4}`;
  if (v6) return `IPv6: ${v6}`;
  return undefined;
}

/**
 * The lock as text: sorted, one address per line, so a review diff shows exactly what moved.
 * The header is a YAML comment written by the YAML library, so no line of it can become data.
 */
export function formatLock(lock: Lock, headerComment: string[]): string {
  const names: Record<string, RawEntry> = {};
  for (const name of [...lock.names.keys()].sort()) {
    const e = lock.names.get(name)!;
    const stale = Object.fromEntries(FAMILIES.filter((f) => e.stale?.[f]).map((f) => [f, e.stale![f]!]));
    names[name] = {
      ipv4: [...e.ipv4].sort(),
      ipv6: [...e.ipv6].sort(),
      ...(e.ttl !== undefined ? { ttl: e.ttl } : {}),
      cnames: e.cnames,
      server: e.server,
      resolvedAt: e.resolvedAt,
      ...(Object.keys(stale).length > 0 ? { stale } : {}),
    };
  }
  const header = { version: LOCK_VERSION, profile: lock.profile, selection: lock.selection, ...(lock.note ? { note: lock.note } : {}) };
  const data = { lock: { ...header, digest: digestOf({ lock: header, names }) }, names };
  const doc = new (yamlPackage().Document)(data);
  doc.commentBefore = headerComment.map((l) => ` ${l}`.trimEnd()).join('\n');
  return doc.toString({ lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' });
}

/**
 * Writes the lock through a new temporary file and a rename, so a reader never sees half of
 * it, and a link planted at either name is refused rather than written through.
 */
export function writeLockAtomically(file: string, text: string): void {
  // what a resolve killed between writing and renaming left behind
  const prefix = path.basename(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  removeDeadTemps(path.dirname(file), new RegExp(`^${prefix}\\.tmp-(\\d+)$`));
  replaceFile(file, text);
}
