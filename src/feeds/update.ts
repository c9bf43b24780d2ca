import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCatalog } from '../catalog/load-catalog';
import { InputError } from '../errors';
import { displayPath } from '../paths';
import { isCidrError, parseCidr, parseKnown, toAddressSet, type Cidr } from '../policy/addresses';
import type { Fetcher } from './fetch';
import { formats } from './formats';
import { notPublicUnicast, shrinkage, SHRINK_LIMIT } from './guard';
import { listDigest, readListFiles, updatedListText, type ListFile } from './list-file';
import { isGenerated, recordedVendorDigest, vendorText } from './m365-vendor';
import { FeedError, type FeedSpec, type ParsedFeed } from './types';

export interface UpdateOptions {
  catalog: string;
  /** List ids to update; none: every list that names a feed. */
  lists: string[];
  acceptShrink: boolean;
  /** The day written as the fetch date (YYYY-MM-DD). */
  today: string;
  /** Sent to the Microsoft 365 web service as its client request id. */
  requestId: string;
  fetcher: Fetcher;
}

export interface ListOutcome {
  id: string;
  file: string;
  status: 'updated' | 'unchanged' | 'refused';
  /** Why a feed was refused. */
  reason?: string;
  added: string[];
  removed: string[];
  version?: string;
  previousVersion?: string;
  /** Said loudly: a shrink taken because of --accept-shrink. */
  warnings: string[];
  vendorFile?: { file: string; status: 'updated' | 'unchanged' };
}

export interface UpdateReport {
  outcomes: ListOutcome[];
  /** Files written (display paths); empty when anything was refused. */
  written: string[];
}

/** A file to write once every list has passed. */
interface Write {
  path: string;
  text: string;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Every address the feed would put into the catalog, checked: all must be public unicast networks. */
function publicNetworks(texts: string[]): Cidr[] {
  const bad: string[] = [];
  const ok: Cidr[] = [];
  for (const t of texts) {
    const c = parseCidr(t);
    if (isCidrError(c)) bad.push(c.error);
    else {
      const why = notPublicUnicast(c);
      if (why) bad.push(`${c.text} is ${why}`);
      else ok.push(c);
    }
  }
  if (bad.length > 0) {
    const shown = bad.slice(0, 5).join('; ');
    throw new FeedError(`${bad.length} entr${bad.length === 1 ? 'y is' : 'ies are'} not public unicast networks: ${shown}${bad.length > 5 ? '; ...' : ''}`);
  }
  return ok;
}

function describeFilter(feed: FeedSpec): string {
  const parts = Object.entries(feed.filter).map(([k, v]) => `${k} ${v.join('|')}`);
  return parts.length > 0 ? ` matching ${parts.join(', ')}` : '';
}

async function fetchFeed(feed: FeedSpec, o: UpdateOptions): Promise<ParsedFeed> {
  const format = formats[feed.format];
  const bodies = [];
  for (const url of format.fetchUrls(feed.urls, o.requestId)) bodies.push(await o.fetcher(url));
  return format.parse(bodies, feed.filter);
}

async function updateOne(list: ListFile, feed: FeedSpec, o: UpdateOptions, writes: Write[]): Promise<ListOutcome> {
  const outcome: ListOutcome = {
    id: list.id,
    file: list.src.file,
    status: 'unchanged',
    added: [],
    removed: [],
    previousVersion: feed.version,
    warnings: [],
  };
  const parsed = await fetchFeed(feed, o);
  outcome.version = parsed.version;
  const vendorIps = feed.vendor ? (parsed.endpoints ?? []).flatMap((e) => e.ips) : [];
  publicNetworks(vendorIps);
  if (parsed.prefixes.length === 0) throw new FeedError(`the feed lists no addresses${describeFilter(feed)}`);
  const set = toAddressSet(publicNetworks(parsed.prefixes));
  const fresh = [...set.ipv4, ...set.ipv6];
  const oldSet = toAddressSet(parseKnown(list.addresses));
  const old = [...oldSet.ipv4, ...oldSet.ipv6];

  for (const s of shrinkage(old, fresh)) {
    if (s.lost <= SHRINK_LIMIT) continue;
    const family = s.family === 'ipv4' ? 'IPv4' : 'IPv6';
    const what = `the feed drops ${pct(s.lost)} of the ${family} addresses the list covers (more than ${pct(SHRINK_LIMIT)})`;
    if (!o.acceptShrink) throw new FeedError(`${what}; if that is right, run again with --accept-shrink`);
    outcome.warnings.push(`${what}; taken because of --accept-shrink`);
  }

  const oldText = new Set(old);
  const freshText = new Set(fresh);
  outcome.added = fresh.filter((a) => !oldText.has(a));
  outcome.removed = old.filter((a) => !freshText.has(a));
  const digest = listDigest(fresh);
  if (digest !== listDigest(old)) {
    outcome.status = 'updated';
    writes.push({
      path: list.path,
      text: updatedListText(list.text, { addresses: fresh, fetched: o.today, digest, version: parsed.version, published: parsed.published }),
    });
  }

  if (feed.vendor) {
    const vendorPath = path.join(path.resolve(o.catalog), 'vendors', `${feed.vendor}.yaml`);
    const made = vendorText({
      vendorId: feed.vendor,
      listId: list.id,
      feedUrl: feed.urls[0]!,
      version: parsed.version ?? 'unknown',
      fetched: o.today,
      endpoints: parsed.endpoints ?? [],
    });
    const existing = fs.existsSync(vendorPath) ? fs.readFileSync(vendorPath, 'utf8') : '';
    if (existing !== '' && !isGenerated(existing)) {
      throw new FeedError(`${displayPath(vendorPath)} was not generated by fwgen lists update; it is not overwritten (choose another list.feed.vendor)`);
    }
    const changed = recordedVendorDigest(existing) !== made.digest;
    if (changed) writes.push({ path: vendorPath, text: made.text });
    outcome.vendorFile = { file: displayPath(vendorPath), status: changed ? 'updated' : 'unchanged' };
  }
  return outcome;
}

/**
 * Loads the catalog as it would be after the update, in a scratch copy: the new files must
 * pass the same schema and reference checks as any catalog before one of them is written.
 */
function checkCatalogWith(catalog: string, writes: Write[]): void {
  const root = path.resolve(catalog);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fwgen-lists-'));
  try {
    fs.cpSync(root, scratch, { recursive: true, filter: (src) => !src.includes(`${path.sep}.`) });
    for (const w of writes) {
      const target = path.join(scratch, path.relative(root, w.path));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, w.text);
    }
    loadCatalog(scratch);
  } catch (err) {
    if (err instanceof InputError) {
      const first = err.issues.slice(0, 5).map((i) => `${path.relative(scratch, i.loc.file) || i.loc.file}:${i.loc.line}:${i.loc.col}: ${i.field}: ${i.message}`);
      throw new FeedError(`the updated catalog would not load: ${first.join('; ')}`);
    }
    throw err;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Every file goes to a temporary file beside it first; only when all are written are they
 * renamed into place, so a reader sees the old file or the new one, never half of one, and
 * a full disk stops the update before any list changes.
 */
function writeAll(writes: Write[]): void {
  const temps = writes.map((w) => path.join(path.dirname(w.path), `.${path.basename(w.path)}.${process.pid}.tmp`));
  try {
    writes.forEach((w, i) => fs.writeFileSync(temps[i]!, w.text));
  } catch (err) {
    for (const t of temps) fs.rmSync(t, { force: true });
    throw err;
  }
  writes.forEach((w, i) => fs.renameSync(temps[i]!, w.path));
}

function pickLists(all: ListFile[], ids: string[]): Array<{ list: ListFile; feed: FeedSpec }> {
  if (ids.length === 0) return all.flatMap((list) => (list.feed ? [{ list, feed: list.feed }] : []));
  return ids.map((id) => {
    const list = all.find((l) => l.id === id);
    if (!list) throw new UnknownListError(`no list '${id}' (known: ${all.map((l) => l.id).join(', ') || 'none'})`);
    if (!list.feed) throw new UnknownListError(`list '${id}' (${list.src.file}) names no feed; add list.feed with its format and URLs`);
    return { list, feed: list.feed };
  });
}

export class UnknownListError extends Error {}

/**
 * Fetches every chosen list's feed, checks it (public unicast, not empty, not shrunk past the
 * limit, the catalog still loads) and only then writes the files whose content changed.
 * One refused feed means nothing is written: the catalog stays as reviewed.
 */
export async function updateLists(o: UpdateOptions): Promise<UpdateReport> {
  const chosen = pickLists(readListFiles(o.catalog), o.lists);
  // Lists that share a feed (AWS by service and by region) read the same document.
  const seen = new Map<string, ReturnType<Fetcher>>();
  const fetcher: Fetcher = (url) => {
    if (!seen.has(url)) seen.set(url, o.fetcher(url));
    return seen.get(url)!;
  };
  const vendors = new Map<string, string>();
  const writes: Write[] = [];
  const outcomes: ListOutcome[] = [];
  for (const { list, feed } of chosen) {
    try {
      const other = feed.vendor ? vendors.get(feed.vendor) : undefined;
      if (other) throw new FeedError(`list '${other}' already generates the vendor '${feed.vendor}'`);
      if (feed.vendor) vendors.set(feed.vendor, list.id);
      outcomes.push(await updateOne(list, feed, { ...o, fetcher }, writes));
    } catch (err) {
      if (!(err instanceof FeedError)) throw err;
      outcomes.push({ id: list.id, file: list.src.file, status: 'refused', reason: err.message, added: [], removed: [], warnings: [], previousVersion: feed.version });
    }
  }
  if (outcomes.some((x) => x.status === 'refused') || writes.length === 0) return { outcomes, written: [] };
  try {
    checkCatalogWith(o.catalog, writes);
  } catch (err) {
    if (!(err instanceof FeedError)) throw err;
    for (const x of outcomes) if (x.status === 'updated' || x.vendorFile?.status === 'updated') Object.assign(x, { status: 'refused', reason: err.message });
    return { outcomes, written: [] };
  }
  writeAll(writes);
  return { outcomes, written: writes.map((w) => displayPath(w.path)) };
}
