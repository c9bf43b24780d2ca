import * as fs from 'node:fs';
import * as path from 'node:path';
import { schemaAccepts, validateAgainst } from '../catalog/schema';
import { holdsUnsafeChar } from '../catalog/text-check';
import { YamlSource } from '../catalog/yaml-source';
import { FileError, InputError, type LocatedIssue } from '../errors';
import { isCidrError, parseCidr } from '../net/addresses';
import { parsePort } from '../net/ports';
import { codePoint } from '../util/unsafe-chars';
import { snapshotDigest, type PolicySnapshot } from '../policy/snapshot';
import { append } from '../util/append';

/** A committed snapshot larger than this is refused, not read: a site's policy is far smaller. */
export const SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A file of the base side, read as data from a tree a pull request may have written: no
 * part of its path may be a symbolic link (it could lead out of the tree) and it must be a
 * plain file of at most `maxBytes`. Undefined when it is not there.
 */
export function readBaseFile(root: string, rel: string, label: string, maxBytes = SNAPSHOT_MAX_BYTES): string | undefined {
  const st = statInside(root, rel, label);
  if (st === undefined) return undefined;
  if (!st.isFile()) throw new FileError(label, 'not a plain file');
  if (st.size > maxBytes) throw new FileError(label, `${st.size} bytes, more than the ${maxBytes} fwgen reads from a committed output file`);
  return fs.readFileSync(path.join(root, rel), 'utf8');
}

/** The files under a folder of the base side (relative to `root`, sorted), links refused as above. */
export function listBaseFiles(root: string, rel: string): string[] {
  const st = statInside(root, rel, rel);
  if (!st?.isDirectory()) return [];
  const out: string[] = [];
  for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
    const child = `${rel}/${name}`;
    const cst = statInside(root, child, child)!;
    if (cst.isDirectory()) append(out, listBaseFiles(root, child));
    else out.push(child);
  }
  return out;
}

/** lstat of each part of `rel` under `root`: undefined when one is missing, an error when one is a link. */
function statInside(root: string, rel: string, label: string): fs.Stats | undefined {
  const parts = rel.split('/');
  let st: fs.Stats | undefined;
  for (let i = 0; i < parts.length; i++) {
    st = fs.lstatSync(path.join(root, parts.slice(0, i + 1).join('/')), { throwIfNoEntry: false });
    if (st === undefined) return undefined;
    if (st.isSymbolicLink()) throw new FileError(label, `${parts.slice(0, i + 1).join('/')} is a symbolic link; fwgen reads committed output only as plain files inside the workspace`);
    if (i < parts.length - 1 && !st.isDirectory()) return undefined;
  }
  return st;
}

/**
 * A committed policy snapshot, checked as untrusted input: JSON, its schema, every network
 * and port, no control or reordering characters, and a digest that matches its content.
 * `name` is its path in the base tree; the caller (readingBase) says which base it is.
 */
export function parseSnapshot(text: string, name: string): PolicySnapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // The YAML reader places most syntax errors; JSON it cannot read as YAML is named at its start.
    YamlSource.parse(name, text);
    throw new InputError([{ loc: { file: name, line: 1, col: 1 }, field: '', message: `not JSON: ${(err as Error).message}` }]);
  }
  let source: YamlSource | undefined;
  const located = () => (source ??= YamlSource.parse(name, text));
  if (!schemaAccepts('policy', data)) throw new InputError(validateAgainst('policy', located()));
  const doc = data as PolicySnapshot;
  const problems: Array<{ at: Array<string | number>; message: string }> = [];
  unsafeStrings(doc, [], problems);
  const networks = (list: string[] | undefined, at: Array<string | number>) =>
    (list ?? []).forEach((n, i) => {
      const c = parseCidr(n);
      if (isCidrError(c)) problems.push({ at: [...at, i], message: c.error });
    });
  doc.deviceClasses.forEach((c, i) => networks(c.addresses, ['deviceClasses', i, 'addresses']));
  doc.rules.forEach((r, i) => {
    networks(r.networks, ['rules', i, 'networks']);
    r.ports.forEach((p, j) => {
      const range = parsePort(p);
      if ('error' in range) problems.push({ at: ['rules', i, 'ports', j], message: range.error });
    });
  });
  doc.names.forEach((n, i) => {
    networks(n.ipv4, ['names', i, 'ipv4']);
    networks(n.ipv6, ['names', i, 'ipv6']);
  });
  if (problems.length === 0 && snapshotDigest(doc) !== doc.digest) {
    problems.push({ at: ['digest'], message: 'does not match the content: the file was edited after fwgen wrote it; render the base again (fwgen check --update) and commit it' });
  }
  if (problems.length > 0) {
    const issues: LocatedIssue[] = problems.map((p) => located().issue(p.at, p.message));
    throw new InputError(issues);
  }
  return doc;
}

/** Strings that could reorder or hide what a report prints (newlines aside: every format escapes them). */
function unsafeStrings(data: unknown, at: Array<string | number>, out: Array<{ at: Array<string | number>; message: string }>): void {
  if (typeof data === 'string') {
    const bad = [...data].find((ch) => ch !== '\n' && holdsUnsafeChar(ch));
    if (bad !== undefined) out.push({ at, message: `holds ${codePoint(bad)}, a control or invisible character` });
  } else if (Array.isArray(data)) {
    data.forEach((x, i) => unsafeStrings(x, [...at, i], out));
  } else if (data !== null && typeof data === 'object') {
    for (const [k, v] of Object.entries(data)) {
      if (holdsUnsafeChar(k) || k.includes('\n')) out.push({ at, message: `a key holds a control or invisible character` });
      unsafeStrings(v, [...at, k], out);
    }
  }
}
