import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCatalogLayers } from '../catalog/load-catalog';
import { InputError } from '../errors';
import { displayPath } from '../util/paths';
import { isInside } from '../fs';
import { isCidrError, parseCidr, parseKnown, toAddressSet, type Cidr } from '../net/addresses';
import type { Fetcher } from './fetch';
import { formats } from './formats';
import type { CatalogLayers } from './layers';
import { notPublicUnicast, shrinkage, SHRINK_LIMIT } from './guard';
import { listDigest, readListFiles, updatedListText, writeCatalogFiles, checkCatalogWrites, type ListFile } from './list-file';
import { isGenerated, recordedVendorDigest, vendorText } from './m365-vendor';
import { FeedError, FeedUsageError, type FeedSpec, type ParsedFeed, type Redirect } from './types';
import { feedHistory, prefixPolicy, widenings } from './widening';

export interface UpdateOptions {
  /** The catalog folders read (to find the lists and check the result) and those rewritten. */
  layers: CatalogLayers;
  /** List ids to update; none: every list that names a feed. */
  lists: string[];
  acceptShrink: boolean;
  /** Take new prefixes wider than the list's policy, wildcards on public suffixes and wider port ranges, each said on stderr. */
  acceptWidening: boolean;
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
  /** Said loudly: a shrink or widening taken because of --accept-shrink or --accept-widening. */
  warnings: string[];
  /** Documents that came from another host than the one asked. */
  redirects: Redirect[];
  vendorFile?: { file: string; status: 'updated' | 'unchanged' };
}

export interface UpdateReport {
  outcomes: ListOutcome[];
  /** Files written (display paths); empty when anything was refused. */
  written: string[];
  /** Lists that name a feed but lie in a folder that is only read (the shipped catalog of a workspace). */
  notWritten: Array<{ id: string; file: string; path: string }>;
}

/** A list file and the catalog folder it belongs to. */
interface PlacedList {
  list: ListFile;
  layer: string;
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

async function fetchFeed(feed: FeedSpec, o: UpdateOptions): Promise<{ parsed: ParsedFeed; redirects: Redirect[] }> {
  const format = formats[feed.format];
  const bodies = [];
  for (const url of format.fetchUrls(feed.urls, o.requestId)) bodies.push(await o.fetcher(url, format.shape));
  const redirects = bodies.flatMap((b) => (b.redirect ? [b.redirect] : []));
  return { parsed: format.parse(bodies, feed.filter), redirects };
}

const sameRedirects = (a: Redirect[] | undefined, b: Redirect[]) => JSON.stringify(a ?? []) === JSON.stringify(b);

/** A refusal that lists what it found, the first few of them. */
function listed(what: string[], max = 5): string {
  return `${what.slice(0, max).join('; ')}${what.length > max ? `; and ${what.length - max} more` : ''}`;
}

/**
 * Where a generated vendor file goes: beside the list, in its catalog folder. The file that
 * would be loaded under that name must be one fwgen generated (never a hand-written vendor,
 * in any folder), and no later folder may hold one that would hide the update.
 */
function vendorPathFor(vendor: string, layer: string, layers: string[]): { path: string; existing: string; loaded?: string } {
  const own = path.join(layer, 'vendors', `${vendor}.yaml`);
  const holders = layers.filter((l) => fs.existsSync(path.join(l, 'vendors', `${vendor}.yaml`)));
  const loaded = holders.at(-1);
  let loadedText: string | undefined;
  if (loaded !== undefined) {
    const file = path.join(loaded, 'vendors', `${vendor}.yaml`);
    loadedText = fs.readFileSync(file, 'utf8');
    if (!isGenerated(loadedText)) {
      throw new FeedError(`${displayPath(file)} was not generated by fwgen lists update; it is not overwritten (choose another list.feed.vendor)`);
    }
    if (layers.indexOf(loaded) > layers.indexOf(layer)) {
      throw new FeedError(`${displayPath(file)} replaces ${displayPath(own)}, so the update would not be seen; move the list to ${displayPath(loaded)}/lists/`);
    }
  }
  return { path: own, existing: fs.existsSync(own) ? fs.readFileSync(own, 'utf8') : '', loaded: loadedText };
}

function newOutcome(list: ListFile, feed: FeedSpec): ListOutcome {
  return { id: list.id, file: list.src.file, status: 'unchanged', added: [], removed: [], previousVersion: feed.version, warnings: [], redirects: [] };
}

/** Fills in the outcome as it goes, so that a refusal still reports the redirects and version seen. */
async function updateOne({ list, layer }: PlacedList, feed: FeedSpec, o: UpdateOptions, writes: Write[], outcome: ListOutcome): Promise<void> {
  const { parsed, redirects } = await fetchFeed(feed, o);
  outcome.version = parsed.version;
  outcome.redirects = redirects;
  const vendorFile = feed.vendor ? vendorPathFor(feed.vendor, layer, o.layers.all) : undefined;
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

  const wider = widenings({
    prefixes: [...parsed.prefixes, ...vendorIps],
    policy: prefixPolicy(feed.widestPrefix),
    endpoints: feed.vendor ? (parsed.endpoints ?? []) : [],
    history: feedHistory(list.addresses, vendorFile?.loaded),
  });
  if (wider.length > 0 && !o.acceptWidening) {
    throw new FeedError(`the feed widens the list: ${listed(wider)}; if that is right, run again with --accept-widening`);
  }
  for (const w of wider) outcome.warnings.push(`widening taken because of --accept-widening: ${w}`);

  const oldText = new Set(old);
  const freshText = new Set(fresh);
  outcome.added = fresh.filter((a) => !oldText.has(a));
  outcome.removed = old.filter((a) => !freshText.has(a));
  const digest = listDigest(fresh);
  // A redirect newly taken, or no longer taken, is recorded even when the addresses stayed.
  if (digest !== listDigest(old) || !sameRedirects(feed.redirects, redirects)) {
    outcome.status = 'updated';
    writes.push({
      path: list.path,
      text: updatedListText(list.text, { addresses: fresh, fetched: o.today, digest, version: parsed.version, published: parsed.published, redirects }),
    });
  }

  if (feed.vendor && vendorFile) {
    const { path: vendorPath, existing } = vendorFile;
    const made = vendorText({
      vendorId: feed.vendor,
      listId: list.id,
      feedUrl: feed.urls[0]!,
      version: parsed.version ?? 'unknown',
      fetched: o.today,
      endpoints: parsed.endpoints ?? [],
      schemaDir: path.relative(path.dirname(vendorPath), path.join(o.layers.all[0]!, 'schema')).split(path.sep).join('/'),
    });
    const changed = recordedVendorDigest(existing) !== made.digest;
    if (changed) writes.push({ path: vendorPath, text: made.text });
    outcome.vendorFile = { file: displayPath(vendorPath), status: changed ? 'updated' : 'unchanged' };
  }
}

/**
 * Loads the catalog as it would be after the update, the folders written to copied to a
 * scratch folder: the new files must pass the same schema and reference checks, with the
 * same folders laid over each other, as when the catalog is used, before one is written.
 */
function checkCatalogWith(layers: string[], writes: Write[]): void {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fwgen-lists-'));
  const copies = new Map<string, string>(); // scratch folder -> the folder it stands for
  try {
    const roots = layers.map((layer, i) => {
      const mine = writes.filter((w) => isInside(layer, w.path));
      if (mine.length === 0) return layer;
      const copy = path.join(scratch, String(i));
      fs.cpSync(layer, copy, { recursive: true, filter: (src) => !path.relative(layer, src).split(path.sep).some((p) => p.startsWith('.')) });
      for (const w of mine) {
        const target = path.join(copy, path.relative(layer, w.path));
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, w.text);
      }
      copies.set(copy, layer);
      return copy;
    });
    loadCatalogLayers(roots);
  } catch (err) {
    if (err instanceof InputError) {
      const real = (file: string) => {
        for (const [copy, layer] of copies) if (isInside(copy, file)) return displayPath(path.join(layer, path.relative(copy, file)));
        return displayPath(file);
      };
      const first = err.issues.slice(0, 5).map((i) => `${real(i.loc.file)}:${i.loc.line}:${i.loc.col}: ${i.field}: ${i.message}`);
      throw new FeedError(`the updated catalog would not load: ${first.join('; ')}`);
    }
    throw err;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The list file each name stands for once the folders are laid over each other (a later one wins), by file name. */
function placedLists(layers: string[]): PlacedList[] {
  const byName = new Map<string, PlacedList>();
  for (const layer of layers) for (const list of readListFiles(layer)) byName.set(path.basename(list.path), { list, layer });
  return [...byName.keys()].sort().map((k) => byName.get(k)!);
}

function pickLists(all: PlacedList[], ids: string[], writable: string[]): Array<PlacedList & { feed: FeedSpec }> {
  const canWrite = (p: PlacedList) => writable.includes(p.layer);
  if (ids.length === 0) return all.flatMap((p) => (p.list.feed && canWrite(p) ? [{ ...p, feed: p.list.feed }] : []));
  return ids.map((id) => {
    const placed = all.find((p) => p.list.id === id);
    if (!placed) throw new UnknownListError(`no list '${id}' (known: ${all.map((p) => p.list.id).join(', ') || 'none'})`);
    const { list } = placed;
    if (!canWrite(placed)) {
      throw new UnknownListError(`list '${id}' (${displayPath(list.path)}) is the one shipped with fwgen, not a file of this workspace; to keep it current, copy it into a catalog folder's lists/ (a file of the same name replaces the shipped one)`);
    }
    if (!list.feed) throw new UnknownListError(`list '${id}' (${list.src.file}) names no feed; add list.feed with its format and URLs`);
    return { ...placed, feed: list.feed };
  });
}

export class UnknownListError extends FeedUsageError {}

/**
 * Lists that share a feed (AWS by service and by region) read the same document once. A
 * document is let go when the last list that reads it has, so the caps bound what is held
 * at a time by one list's documents, not by every document of the run.
 */
function sharedFetcher(o: UpdateOptions, feeds: FeedSpec[]): Fetcher {
  const keyOf = (url: string, shape: string) => `${shape} ${url}`;
  const readers = new Map<string, number>();
  for (const feed of feeds) {
    const format = formats[feed.format];
    let urls: string[];
    try {
      urls = format.fetchUrls(feed.urls, o.requestId);
    } catch (err) {
      if (err instanceof FeedError) continue; // said when that list is fetched
      throw err;
    }
    for (const url of urls) readers.set(keyOf(url, format.shape), (readers.get(keyOf(url, format.shape)) ?? 0) + 1);
  }
  const seen = new Map<string, ReturnType<Fetcher>>();
  return (url, shape) => {
    const key = keyOf(url, shape);
    const got = seen.get(key) ?? o.fetcher(url, shape);
    const left = (readers.get(key) ?? 1) - 1;
    readers.set(key, left);
    if (left > 0) seen.set(key, got);
    else seen.delete(key);
    return got;
  };
}

/**
 * Fetches every chosen list's feed, checks it (public unicast, not empty, not shrunk past the
 * limit, the catalog still loads) and only then writes the files whose content changed.
 * One refused feed means nothing is written: the catalog stays as reviewed.
 */
export async function updateLists(o: UpdateOptions): Promise<UpdateReport> {
  const all = placedLists(o.layers.all);
  const chosen = pickLists(all, o.lists, o.layers.writable);
  const notWritten = all
    .filter((p) => p.list.feed && !o.layers.writable.includes(p.layer))
    .map(({ list }) => ({ id: list.id, file: displayPath(list.path), path: list.path }));
  const fetcher = sharedFetcher(o, chosen.map((c) => c.feed));
  const vendors = new Map<string, string>();
  const writes: Write[] = [];
  const outcomes: ListOutcome[] = [];
  for (const { list, layer, feed } of chosen) {
    const outcome = newOutcome(list, feed);
    outcomes.push(outcome);
    try {
      const other = feed.vendor ? vendors.get(feed.vendor) : undefined;
      if (other) throw new FeedError(`list '${other}' already generates the vendor '${feed.vendor}'`);
      if (feed.vendor) vendors.set(feed.vendor, list.id);
      await updateOne({ list, layer }, feed, { ...o, fetcher }, writes, outcome);
    } catch (err) {
      if (!(err instanceof FeedError)) throw err;
      Object.assign(outcome, { status: 'refused', reason: err.message, warnings: [] });
    }
  }
  if (outcomes.some((x) => x.status === 'refused') || writes.length === 0) return { outcomes, written: [], notWritten };
  checkCatalogWrites(writes, o.layers.writable);
  try {
    checkCatalogWith(o.layers.all, writes);
  } catch (err) {
    if (!(err instanceof FeedError)) throw err;
    for (const x of outcomes) if (x.status === 'updated' || x.vendorFile?.status === 'updated') Object.assign(x, { status: 'refused', reason: err.message });
    return { outcomes, written: [], notWritten };
  }
  writeCatalogFiles(writes, o.layers.writable);
  return { outcomes, written: writes.map((w) => displayPath(w.path)), notWritten };
}
