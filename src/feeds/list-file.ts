import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { readYaml, yamlFilesIn } from '../catalog/read-file';
import { validateAgainst } from '../catalog/schema';
import type { YamlSource } from '../catalog/yaml-source';
import { InputError, type LocatedIssue } from '../errors';
import { createNew, fileSystemError, isInside, LinkGuard, makeFoldersBelow, removeOwnTemp, tempFor, UnsafePathError } from '../fs';
import { isCidrError, parseCidr } from '../net/addresses';
import { formats } from './formats';
import type { FeedFilter, FeedFormat, FeedSpec, Redirect } from './types';
import { append } from '../util/append';

type Raw = Record<string, any>; // shape already checked by the JSON Schema

/** A list file as the update sees it: its text (to rewrite in place), addresses and feed. */
export interface ListFile {
  /** Absolute path, for writing. */
  path: string;
  src: YamlSource;
  text: string;
  id: string;
  addresses: string[];
  feed?: FeedSpec;
}

/** The feed block of a list file, filter values made lists. The schema has checked its shape. */
export function feedOf(raw: Raw | undefined, src: YamlSource): FeedSpec | undefined {
  if (!raw) return undefined;
  const filter: FeedFilter = {};
  for (const [k, v] of Object.entries<unknown>(raw.filter ?? {})) filter[k] = Array.isArray(v) ? v : [v as string | boolean];
  return {
    format: raw.format as FeedFormat,
    urls: raw.urls,
    filter,
    vendor: raw.vendor,
    widestPrefix: raw.widestPrefix,
    redirects: raw.redirects,
    version: raw.version,
    published: raw.published,
    fetched: raw.fetched,
    digest: raw.digest,
    origin: src.locate(['list', 'feed']),
  };
}

/** What the schema cannot say: which filter keys each format's entries have, and who may make a vendor file. */
function feedIssues(feed: FeedSpec, src: YamlSource): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const keys = Object.keys(formats[feed.format].filterKeys);
  for (const key of Object.keys(feed.filter)) {
    if (!keys.includes(key)) {
      const known = keys.length > 0 ? `its entries are filtered by ${keys.join(', ')}` : 'its entries cannot be filtered';
      issues.push(src.issue(['list', 'feed', 'filter', key], `a ${feed.format} feed has no field '${key}'; ${known}`, true));
    }
  }
  if (feed.vendor !== undefined && feed.format !== 'microsoft-365') {
    issues.push(src.issue(['list', 'feed', 'vendor'], `only a microsoft-365 feed makes a vendor file`, true));
  }
  return issues;
}

/** Reads every list file of a catalog; any that does not validate stops the update before anything is fetched. */
export function readListFiles(catalogRoot: string): ListFile[] {
  const issues: LocatedIssue[] = [];
  const out: ListFile[] = [];
  for (const file of yamlFilesIn(path.join(catalogRoot, 'lists'))) {
    const src = readYaml(file);
    const found = validateAgainst('list', src);
    if (found.length > 0) {
      append(issues, found);
      continue;
    }
    const raw = src.data as Raw;
    (raw.addresses as string[]).forEach((a, i) => {
      const c = parseCidr(a);
      if (isCidrError(c)) issues.push(src.issue(['addresses', i], c.error));
    });
    const feed = feedOf(raw.list.feed, src);
    if (feed) append(issues, feedIssues(feed, src));
    out.push({ path: path.resolve(file), src, text: fs.readFileSync(file, 'utf8'), id: raw.list.id, addresses: raw.addresses, feed });
  }
  if (issues.length > 0) throw new InputError(issues);
  return out;
}

/** Digest of a list's addresses, one a line: what tells whether a fetch changed anything. */
export function listDigest(addresses: string[]): string {
  return `sha256:${createHash('sha256').update(addresses.join('\n')).digest('hex').slice(0, 16)}`;
}

export interface ListUpdate {
  addresses: string[];
  fetched: string;
  digest: string;
  version?: string;
  published?: string;
  /** Redirects to another host this update followed; none removes the record of earlier ones. */
  redirects: Redirect[];
}

/**
 * The list file with new addresses and feed record, edited in place so that its comments,
 * notes and key order stay as the user wrote them.
 */
export function updatedListText(text: string, u: ListUpdate): string {
  const doc = parseDocument(text);
  doc.setIn(['list', 'source', 'recorded'], u.fetched);
  for (const key of ['version', 'published'] as const) {
    if (u[key] === undefined) doc.deleteIn(['list', 'feed', key]);
    else doc.setIn(['list', 'feed', key], u[key]);
  }
  if (u.redirects.length === 0) doc.deleteIn(['list', 'feed', 'redirects']);
  else doc.setIn(['list', 'feed', 'redirects'], doc.createNode(u.redirects));
  doc.setIn(['list', 'feed', 'fetched'], u.fetched);
  doc.setIn(['list', 'feed', 'digest'], u.digest);
  doc.setIn(['addresses'], doc.createNode(u.addresses));
  return doc.toString({ lineWidth: 0 });
}

/** A list or vendor file an update writes, and its new text. */
export interface CatalogWrite {
  path: string;
  text: string;
}

/**
 * Checks that every file of an update may be written: inside one of the catalog folders it
 * may rewrite, with no link at it or on the way to it from that folder. Run before anything
 * is written, the copy the update is checked on included.
 */
export function checkCatalogWrites(writes: CatalogWrite[], folders: string[]): void {
  for (const w of writes) {
    const folder = folders.find((f) => isInside(f, w.path));
    if (folder === undefined) throw new UnsafePathError(w.path, 'outside the catalog folders this update may rewrite', 'no list or vendor file was changed');
    try {
      new LinkGuard(folder).check(path.relative(folder, w.path));
    } catch (err) {
      throw fileSystemError(err, 'no list or vendor file was changed', w.path);
    }
  }
}

/**
 * Writes the files of an update into the catalog folders it may rewrite (see
 * checkCatalogWrites). Each goes to a new temporary file beside it first; only when all are
 * written are they renamed into place, so a reader sees the old file or the new one, never
 * half of one, and a full disk or a read-only catalog stops the update before any file
 * changes. A missing folder (vendors/ before the first generated vendor file) is made.
 */
export function writeCatalogFiles(writes: CatalogWrite[], folders: string[]): void {
  checkCatalogWrites(writes, folders);
  const temps: string[] = [];
  try {
    for (const w of writes) {
      const folder = folders.find((f) => isInside(f, w.path))!;
      makeFoldersBelow(new LinkGuard(folder), path.relative(folder, path.dirname(w.path)));
      const tmp = tempFor(w.path);
      createNew(tmp, w.text, { leftover: 'replace' });
      temps.push(tmp);
    }
  } catch (err) {
    for (const t of temps) removeOwnTemp(t);
    throw fileSystemError(named(err, writes[temps.length]?.path), 'no list or vendor file was changed', folders[0] ?? '.');
  }
  writes.forEach((w, i) => {
    try {
      fs.renameSync(temps[i]!, w.path);
    } catch (err) {
      for (const t of temps.slice(i)) removeOwnTemp(t);
      throw fileSystemError(named(err, w.path), `${i} of ${writes.length} files were updated before this one; run the update again`, w.path);
    }
  });
}

/** An error of the file system named after the file the user knows, not its temporary file. */
function named(err: unknown, file: string | undefined): unknown {
  const e = err as NodeJS.ErrnoException;
  if (file !== undefined && typeof e?.code === 'string' && e.syscall) e.path = file;
  return err;
}
