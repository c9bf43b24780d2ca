import { isCidrError, parseCidr } from '../net/addresses';
import { FeedError, type BodyShape, type FeedFilter, type FeedFormat, type FetchedBody, type M365Endpoint, type ParsedFeed } from './types';

/**
 * How each published feed is read. Shapes follow the providers' documentation:
 * Cloudflare's ips-v4/ips-v6 text, AWS ip-ranges.json, Google goog.json/cloud.json and the
 * Microsoft 365 endpoints web service (see test/feeds/fixtures/README.md for the sources).
 */
export interface FormatSpec {
  id: FeedFormat;
  describe: string;
  /** How its documents are read and counted while they arrive. */
  shape: BodyShape;
  /** Filter keys this feed's entries have, and the entry field each reads. */
  filterKeys: Record<string, string>;
  /** The URLs to fetch for the feed URLs a list names (Microsoft 365 adds its version URL and a request id). */
  fetchUrls(urls: string[], requestId: string): string[];
  parse(bodies: FetchedBody[], filter: FeedFilter): ParsedFeed;
}

type Entry = Record<string, unknown>;

function json(body: FetchedBody): unknown {
  try {
    return JSON.parse(body.text);
  } catch (err) {
    throw new FeedError(`${body.url}: not JSON (${(err as Error).message})`);
  }
}

function arrayAt(doc: unknown, key: string, body: FetchedBody, optional = false): Entry[] {
  const v = doc !== null && typeof doc === 'object' ? (doc as Entry)[key] : undefined;
  if (v === undefined && optional) return [];
  if (!Array.isArray(v)) throw new FeedError(`${body.url}: no '${key}' array; this is not the expected feed format`);
  return v as Entry[];
}

function stringAt(doc: unknown, key: string): string | undefined {
  const v = doc !== null && typeof doc === 'object' ? (doc as Entry)[key] : undefined;
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** An entry passes when, for every filter key, its field holds one of the values given. */
export function matches(entry: Entry, filter: FeedFilter, keys: Record<string, string>): boolean {
  return Object.entries(filter).every(([key, allowed]) => allowed.some((a) => entry[keys[key]!] === a));
}

function prefixField(entry: Entry, fields: string[], body: FetchedBody, index: number): string {
  for (const f of fields) if (typeof entry[f] === 'string') return entry[f] as string;
  throw new FeedError(`${body.url}: entry ${index} has none of ${fields.join(', ')}`);
}

/** Many documents with the same sync token (AWS, Google) must agree on it; it is the feed's version. */
function single(values: Array<string | undefined>, what: string): string | undefined {
  const set = [...new Set(values.filter((v): v is string => v !== undefined))];
  if (set.length > 1) throw new FeedError(`the documents disagree on ${what}: ${set.join(', ')}`);
  return set[0];
}

const cloudflare: FormatSpec = {
  id: 'cloudflare',
  describe: 'plain text, one CIDR a line (https://www.cloudflare.com/ips-v4, /ips-v6)',
  shape: 'lines',
  filterKeys: {},
  fetchUrls: (urls) => urls,
  parse(bodies) {
    const prefixes: string[] = [];
    for (const body of bodies) {
      body.text.split(/\r?\n/).forEach((line, i) => {
        const t = line.trim();
        if (t === '') return;
        if (isCidrError(parseCidr(t))) throw new FeedError(`${body.url}: line ${i + 1}: '${t.slice(0, 80)}' is not an address or CIDR`);
        prefixes.push(t);
      });
    }
    return { prefixes };
  },
};

/** Where a JSON prefix feed (AWS, Google) keeps its entries, their prefix and its own serial and date. */
interface PrefixFeedShape {
  /** Arrays of entries; the optional ones may be missing. */
  arrays: Array<{ key: string; optional?: boolean }>;
  prefixFields: string[];
  date: string;
}

function prefixFeed(id: FeedFormat, describe: string, filterKeys: Record<string, string>, shape: PrefixFeedShape): FormatSpec {
  return {
    id,
    describe,
    shape: 'json',
    filterKeys,
    fetchUrls: (urls) => urls,
    parse(bodies, filter) {
      const prefixes: string[] = [];
      const tokens: Array<string | undefined> = [];
      const dates: Array<string | undefined> = [];
      for (const body of bodies) {
        const doc = json(body);
        tokens.push(stringAt(doc, 'syncToken'));
        dates.push(stringAt(doc, shape.date));
        const entries = shape.arrays.flatMap((a) => arrayAt(doc, a.key, body, a.optional));
        entries.forEach((e, i) => {
          if (matches(e, filter, filterKeys)) prefixes.push(prefixField(e, shape.prefixFields, body, i));
        });
      }
      return { prefixes, version: single(tokens, 'syncToken'), published: single(dates, shape.date) };
    },
  };
}

const aws = prefixFeed(
  'aws',
  'AWS ip-ranges.json (prefixes, ipv6_prefixes; filter by service, region, networkBorderGroup)',
  { service: 'service', region: 'region', networkBorderGroup: 'network_border_group' },
  { arrays: [{ key: 'prefixes' }, { key: 'ipv6_prefixes', optional: true }], prefixFields: ['ip_prefix', 'ipv6_prefix'], date: 'createDate' },
);

const google = prefixFeed(
  'google',
  'Google goog.json or cloud.json (prefixes with ipv4Prefix/ipv6Prefix; cloud.json filters by scope, service)',
  { scope: 'scope', service: 'service' },
  { arrays: [{ key: 'prefixes' }], prefixFields: ['ipv4Prefix', 'ipv6Prefix'], date: 'creationTime' },
);

/** The version web method sits beside the endpoints method: /endpoints/<instance> → /version/<instance>. */
export function m365VersionUrl(endpointsUrl: string): string {
  const u = new URL(endpointsUrl);
  if (!/\/endpoints\/[^/]+$/i.test(u.pathname)) {
    throw new FeedError(`${endpointsUrl}: a Microsoft 365 feed URL ends in /endpoints/<instance> (e.g. /endpoints/worldwide)`);
  }
  u.pathname = u.pathname.replace(/\/endpoints\/([^/]+)$/i, '/version/$1');
  return u.toString();
}

/**
 * The web service wants a client request id on every call; one is made per run when the
 * list's URL does not carry one, so the catalog holds no id shared by every user.
 */
function withClientRequestId(url: string, id: string): string {
  const u = new URL(url);
  if (![...u.searchParams.keys()].some((k) => k.toLowerCase() === 'clientrequestid')) u.searchParams.set('clientrequestid', id);
  return u.toString();
}

function m365Endpoint(e: Entry, body: FetchedBody, i: number): M365Endpoint {
  const strings = (k: string): string[] => {
    const v = e[k];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new FeedError(`${body.url}: endpoint set ${i}: '${k}' is not a list of strings`);
    return v as string[];
  };
  if (typeof e.id !== 'number' || typeof e.serviceArea !== 'string' || typeof e.category !== 'string' || typeof e.required !== 'boolean') {
    throw new FeedError(`${body.url}: endpoint set ${i} lacks id, serviceArea, category or required; this is not the endpoints web service format`);
  }
  const opt = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : undefined);
  return {
    id: e.id,
    serviceArea: e.serviceArea,
    serviceAreaDisplayName: opt('serviceAreaDisplayName'),
    urls: strings('urls'),
    ips: strings('ips'),
    tcpPorts: opt('tcpPorts'),
    udpPorts: opt('udpPorts'),
    expressRoute: typeof e.expressRoute === 'boolean' ? e.expressRoute : undefined,
    category: e.category,
    required: e.required,
    notes: opt('notes'),
  };
}

const microsoft365: FormatSpec = {
  id: 'microsoft-365',
  describe: 'Microsoft 365 endpoints web service JSON (filter by serviceArea, category, required); its version from /version/<instance>',
  shape: 'json',
  filterKeys: { serviceArea: 'serviceArea', category: 'category', required: 'required' },
  fetchUrls: (urls, requestId) => urls.flatMap((u) => [withClientRequestId(u, requestId), withClientRequestId(m365VersionUrl(u), requestId)]),
  parse(bodies, filter) {
    const endpoints: M365Endpoint[] = [];
    const versions: Array<string | undefined> = [];
    for (let b = 0; b < bodies.length; b += 2) {
      const body = bodies[b]!;
      const versionBody = bodies[b + 1]!;
      const doc = json(body);
      if (!Array.isArray(doc)) throw new FeedError(`${body.url}: expected a JSON array of endpoint sets`);
      doc.forEach((e, i) => endpoints.push(m365Endpoint(e as Entry, body, i)));
      const latest = stringAt(json(versionBody), 'latest');
      if (latest === undefined) throw new FeedError(`${versionBody.url}: no 'latest' version in the answer`);
      versions.push(latest);
    }
    const prefixes = endpoints.filter((e) => matches(e as unknown as Entry, filter, this.filterKeys)).flatMap((e) => e.ips);
    return { prefixes, version: single(versions, 'the version'), endpoints };
  },
};

export const formats: Record<FeedFormat, FormatSpec> = {
  cloudflare,
  aws,
  google,
  'microsoft-365': microsoft365,
};
