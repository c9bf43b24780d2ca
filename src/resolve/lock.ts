import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { readYaml } from '../catalog/read-file';
import { InputError, type LocatedIssue } from '../errors';
import { isCidrError, parseCidr, toAddressSet, type AddressSet, type Cidr } from '../policy/addresses';
import type { AddressBook } from '../policy/types';

/** What the lock records for one name. */
export interface LockEntry {
  ipv4: string[];
  ipv6: string[];
  /** The smallest TTL seen across the answers, in seconds. */
  ttl?: number;
  cnames: string[];
  server: string;
  resolvedAt: string;
  /** Set when the last lookup failed and these addresses are from an earlier one. */
  stale?: string;
}

export interface Lock {
  profile: string;
  selection: string;
  note?: string;
  names: Map<string, LockEntry>;
}

export function lockPathFor(profileFile: string): string {
  const dir = path.dirname(profileFile);
  return path.join(dir, `${path.basename(profileFile).replace(/\.ya?ml$/, '')}.lock.yaml`);
}

type Raw = Record<string, any>;

/** Reads a lock file, checking every address; errors carry file:line:col like any input. */
export function readLock(file: string): { lock: Lock; book: AddressBook } {
  const src = readYaml(file);
  const raw = src.data as Raw;
  const issues: LocatedIssue[] = [];
  if (!raw || typeof raw !== 'object' || !raw.lock || typeof raw.lock !== 'object') {
    throw new InputError([src.issue([], `not a fwgen lock file (no 'lock' section)`)]);
  }
  if (raw.lock.version !== 1) issues.push(src.issue(['lock', 'version'], `unsupported lock version ${JSON.stringify(raw.lock.version)}; expected 1`));
  const names = new Map<string, LockEntry>();
  const parsed = new Map<string, Cidr[]>();
  for (const [name, e] of Object.entries<Raw>(raw.names ?? {})) {
    const cidrs: Cidr[] = [];
    for (const fam of ['ipv4', 'ipv6'] as const) {
      (e?.[fam] ?? []).forEach((a: unknown, i: number) => {
        const c = parseCidr(String(a));
        if (isCidrError(c)) issues.push(src.issue(['names', name, fam, i], c.error));
        else if (c.family !== fam) issues.push(src.issue(['names', name, fam, i], `${String(a)} is not an ${fam} address`));
        else cidrs.push(c);
      });
    }
    parsed.set(name, cidrs);
    names.set(name, {
      ipv4: e?.ipv4 ?? [],
      ipv6: e?.ipv6 ?? [],
      ttl: e?.ttl,
      cnames: e?.cnames ?? [],
      server: String(e?.server ?? ''),
      resolvedAt: String(e?.resolvedAt ?? ''),
      stale: e?.stale,
    });
  }
  if (issues.length > 0) throw new InputError(issues);
  const lock: Lock = { profile: String(raw.lock.profile ?? ''), selection: String(raw.lock.selection ?? ''), note: raw.lock.note, names };
  const sets = new Map<string, AddressSet>([...parsed].map(([n, c]) => [n, toAddressSet(c)]));
  const book: AddressBook = {
    file: src.file,
    selection: lock.selection,
    lookup(name) {
      const entry = names.get(name);
      const addresses = sets.get(name);
      if (!entry || !addresses || addresses.ipv4.length + addresses.ipv6.length === 0) return undefined;
      return { addresses, ttl: entry.ttl, stale: entry.stale };
    },
  };
  return { lock, book };
}

/** The lock as text: sorted, one address per line, so a review diff shows exactly what moved. */
export function formatLock(lock: Lock, headerComment: string[]): string {
  const names: Record<string, unknown> = {};
  for (const name of [...lock.names.keys()].sort()) {
    const e = lock.names.get(name)!;
    names[name] = {
      ipv4: [...e.ipv4].sort(),
      ipv6: [...e.ipv6].sort(),
      ...(e.ttl !== undefined ? { ttl: e.ttl } : {}),
      cnames: e.cnames,
      server: e.server,
      resolvedAt: e.resolvedAt,
      ...(e.stale ? { stale: e.stale } : {}),
    };
  }
  const body = stringify(
    { lock: { version: 1, profile: lock.profile, selection: lock.selection, ...(lock.note ? { note: lock.note } : {}) }, names },
    { lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' },
  );
  return headerComment.map((l) => `# ${l}`.trimEnd()).join('\n') + '\n' + body;
}

/** Writes the lock through a temporary file and a rename, so a reader never sees half of it. */
export function writeLockAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
