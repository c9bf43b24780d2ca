import { getDomain } from 'tldts';
import { parse } from 'yaml';
import { isCidrError, parseCidr, type Cidr } from '../net/addresses';
import { formatPorts, mergePorts, parsePort, type PortRange } from '../net/ports';
import { hostName } from './m365-vendor';
import type { M365Endpoint, PrefixPolicy } from './types';

/**
 * The widest new prefix a list takes by default: a /12 is 1,048,576 IPv4 addresses, more
 * than any one range the published feeds hold; a list that needs wider sets its own bound
 * (list.feed.widestPrefix).
 */
export const DEFAULT_WIDEST: PrefixPolicy = { ipv4: 12, ipv6: 24 };

export function prefixPolicy(own: Partial<PrefixPolicy> | undefined): PrefixPolicy {
  return { ...DEFAULT_WIDEST, ...own };
}

/** What the catalog holds now, against which a feed's update is judged. */
export interface FeedHistory {
  /** Networks the list and its generated vendor file hold. */
  networks: Cidr[];
  /** Host names the generated vendor file holds. */
  domains: Set<string>;
  /** Ports the vendor file holds, by `<endpoint set id>/<protocol>` and by `area:<service area>/<protocol>`. */
  ports: Map<string, PortRange[]>;
}

const CITE = /^endpoint set (\d+) \(serviceArea (.+)\)$/;

type Raw = Record<string, unknown>;
const items = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const record = (v: unknown): Raw => (v !== null && typeof v === 'object' ? (v as Raw) : {});

function addPorts(map: Map<string, PortRange[]>, key: string, ranges: PortRange[]): void {
  map.set(key, mergePorts([...(map.get(key) ?? []), ...ranges]));
}

/**
 * History from the list's addresses and the vendor file generated from the same feed (its
 * flows cite their endpoint set and service area). A hand-edited file is read as far as it
 * has that shape; whatever it lacks is simply not history.
 */
export function feedHistory(listAddresses: string[], vendorText: string | undefined): FeedHistory {
  const history: FeedHistory = { networks: [], domains: new Set(), ports: new Map() };
  const addNetwork = (t: unknown) => {
    const c = typeof t === 'string' ? parseCidr(t) : undefined;
    if (c && !isCidrError(c)) history.networks.push(c);
  };
  listAddresses.forEach(addNetwork);
  if (!vendorText) return history;
  let doc: unknown;
  try {
    doc = parse(vendorText);
  } catch {
    return history;
  }
  for (const service of items(record(doc).services)) {
    for (const flow of items(record(service).flows)) {
      const f = record(flow);
      items(f.addresses).forEach(addNetwork);
      for (const d of items(f.domains)) if (typeof d === 'string') history.domains.add(d);
      const cite = typeof f.cite === 'string' ? CITE.exec(f.cite) : null;
      if (!cite || typeof f.protocol !== 'string') continue;
      const ranges = items(f.ports).flatMap((p) => {
        const r = typeof p === 'string' || typeof p === 'number' ? parsePort(p) : { error: '' };
        return 'error' in r ? [] : [r];
      });
      addPorts(history.ports, `${cite[1]}/${f.protocol}`, ranges);
      addPorts(history.ports, `area:${cite[2]}/${f.protocol}`, ranges);
    }
  }
  return history;
}

/** New prefixes wider than the list's policy that nothing the list holds already covers. */
function widePrefixes(prefixes: string[], policy: PrefixPolicy, history: FeedHistory): string[] {
  const out = new Set<string>();
  for (const text of prefixes) {
    const c = parseCidr(text.trim());
    if (isCidrError(c) || c.prefix >= policy[c.family]) continue;
    if (history.networks.some((held) => held.covers(c))) continue;
    const family = c.family === 'ipv4' ? 'IPv4' : 'IPv6';
    out.add(`${c.text} is wider than /${policy[c.family]}, the widest new ${family} prefix the list takes (list.feed.widestPrefix.${c.family})`);
  }
  return [...out];
}

/**
 * Whether `*.<base>` stands for every name under a public suffix (`*.co.uk`, `*.com`): the
 * base has no registrable domain of its own in the Public Suffix List's ICANN section. The
 * private section (cloudfront.net, github.io) is left out: vendors do publish wildcards
 * under their own hosting domains, and those are theirs. A `{tenant}` label is a name.
 */
export function isPublicSuffix(base: string): boolean {
  return getDomain(base.replace(/\{[^}]*\}/g, 'tenant'), { allowPrivateDomains: false }) === null;
}

function suffixWildcards(endpoints: M365Endpoint[], history: FeedHistory): string[] {
  const out = new Set<string>();
  for (const e of endpoints) {
    for (const url of e.urls) {
      const name = hostName(url).name;
      if (!name?.startsWith('*.') || history.domains.has(name) || !isPublicSuffix(name.slice(2))) continue;
      out.add(`${name} (endpoint set ${e.id}) is a wildcard on the public suffix ${name.slice(2)}`);
    }
  }
  return [...out];
}

function covered(r: PortRange, held: PortRange[]): boolean {
  return held.some((h) => h.from <= r.from && r.to <= h.to);
}

/**
 * Port ranges an endpoint set opens beyond what the vendor file holds for it (for a new
 * set, for its service area). Single ports come and go with the service; a range is where
 * a feed can open a whole host (1-65535), so a range the history does not cover is a widening.
 */
function widePorts(endpoints: M365Endpoint[], history: FeedHistory): string[] {
  const out: string[] = [];
  for (const e of endpoints) {
    for (const [protocol, text] of [['tcp', e.tcpPorts], ['udp', e.udpPorts]] as const) {
      const held = history.ports.get(`${e.id}/${protocol}`) ?? history.ports.get(`area:${e.serviceArea}/${protocol}`) ?? [];
      for (const part of (text ?? '').split(',')) {
        const r = parsePort(part.trim());
        if ('error' in r || r.from === r.to || covered(r, held)) continue;
        const had = held.length > 0 ? formatPorts(held) : 'none';
        out.push(`endpoint set ${e.id} (${e.serviceArea}) ${protocol} ports ${r.from}-${r.to} are wider than the vendor file holds for it (${had})`);
      }
    }
  }
  return out;
}

export interface WideningInput {
  /** Every prefix the update would write (the list's, and the vendor file's when it makes one), as published. */
  prefixes: string[];
  policy: PrefixPolicy;
  /** Endpoint sets that go into a generated vendor file. */
  endpoints: M365Endpoint[];
  history: FeedHistory;
}

/** Each way the update would let more traffic through than the catalog does now, one line each. */
export function widenings(input: WideningInput): string[] {
  return [
    ...widePrefixes(input.prefixes, input.policy, input.history),
    ...suffixWildcards(input.endpoints, input.history),
    ...widePorts(input.endpoints, input.history),
  ];
}
