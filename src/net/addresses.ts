import * as ipaddr from 'ipaddr.js';

export type Family = 'ipv4' | 'ipv6';

/** One network, kept as parsed by ipaddr.js plus its canonical text. */
export interface Cidr {
  family: Family;
  address: ipaddr.IPv4 | ipaddr.IPv6;
  prefix: number;
  text: string;
}

export interface AddressSet {
  ipv4: string[];
  ipv6: string[];
}

const BITS: Record<Family, number> = { ipv4: 32, ipv6: 128 };

function familyOf(addr: ipaddr.IPv4 | ipaddr.IPv6): Family {
  return addr.kind() === 'ipv4' ? 'ipv4' : 'ipv6';
}

function canonical(addr: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): string {
  return `${addr.toString()}/${prefix}`;
}

const DOTTED_PART = /^(?:0|[1-9][0-9]{0,2})$/;

/**
 * Why `text` is not an IPv4 address in plain dotted decimal, or undefined when it is.
 * Other spellings (010.020.000.010, 0xa.0.0.1, 10.1) are read differently by different
 * tools (inet_aton takes 010 as octal 8), so an address must mean the same thing everywhere.
 */
function dottedDecimalProblem(text: string): string | undefined {
  const parts = text.split('.');
  if (/[^0-9.]/.test(text) && !parts.some((p) => /^0x[0-9a-f]+$/i.test(p))) return 'an IPv4 address is four decimal numbers a.b.c.d';
  if (parts.some((p) => /^0x/i.test(p))) return 'hexadecimal parts (0x...) are not accepted; write the address in dotted decimal';
  if (parts.length !== 4) {
    return `has ${parts.length} part${parts.length === 1 ? '' : 's'}; an IPv4 address is four decimal numbers a.b.c.d (short forms like 10.1 are not accepted)`;
  }
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p)) return `'${p}' is not a decimal number`;
    if (!DOTTED_PART.test(p)) return `'${p}' has a leading zero, which some tools read as octal (010 is 8); write it without`;
    if (Number(p) > 255) return `'${p}' is more than 255`;
  }
  return undefined;
}

/** Why `text` is not a plain IPv6 address, or undefined when it is. */
function ipv6Problem(text: string): string | undefined {
  if (text.includes('%')) return 'IPv6 zone ids (%eth0) name an interface of one machine and are not accepted in rules';
  const embedded = /:([^:]*\.[^:]*)$/.exec(text);
  if (embedded) {
    const why = dottedDecimalProblem(embedded[1]!);
    if (why) return `its embedded IPv4 part ${why}`;
  }
  return ipaddr.IPv6.isValid(text) ? undefined : 'not a valid IPv6 address';
}

/** The one address parser: plain dotted-decimal IPv4 or plain IPv6, else why not. */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | { error: string } {
  const why = text.includes(':') ? ipv6Problem(text) : dottedDecimalProblem(text);
  return why ? { error: why } : ipaddr.parse(text);
}

const PLAIN_IPV4 = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})(?:\/(0|[1-9][0-9]?))?$/;

/**
 * The common case, plain dotted-decimal IPv4 with its network bits only, read without
 * ipaddr.js trying IPv6 first. Anything else (including every error) is left to the full
 * parser, so acceptance and messages stay those of parseCidr.
 */
function plainIpv4(text: string): Cidr | undefined {
  const m = PLAIN_IPV4.exec(text);
  if (!m) return undefined;
  const octets = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (octets[0]! > 255 || octets[1]! > 255 || octets[2]! > 255 || octets[3]! > 255) return undefined;
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (prefix > 32) return undefined;
  const n = ipv4Number(octets);
  if (prefix < 32 && n % 2 ** (32 - prefix) !== 0) return undefined;
  return { family: 'ipv4', address: new ipaddr.IPv4(octets), prefix, text: `${octets.join('.')}/${prefix}` };
}

function ipv4Number(octets: number[]): number {
  return ((octets[0]! * 256 + octets[1]!) * 256 + octets[2]!) * 256 + octets[3]!;
}

/**
 * Parses an address or CIDR. Host bits must be zero: "10.0.0.1/24" is almost always a
 * typo for a host or for 10.0.0.0/24, and guessing which would widen or narrow a rule.
 */
export function parseCidr(text: string): Cidr | { error: string } {
  const trimmed = text.trim();
  const fast = plainIpv4(trimmed);
  if (fast) return fast;
  const slash = trimmed.indexOf('/');
  const addrText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const addr = parseAddress(addrText);
  if ('error' in addr) return { error: `'${text}' is not a valid IP address: ${addr.error}` };
  const family = familyOf(addr);
  if (slash < 0) return { family, address: addr, prefix: BITS[family], text: canonical(addr, BITS[family]) };
  const prefixText = trimmed.slice(slash + 1);
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > BITS[family]) {
    return { error: `'${text}' is not a valid CIDR: the prefix length must be a number from 0 to ${BITS[family]}` };
  }
  const prefix = Number(prefixText);
  const cidr = `${addr.toString()}/${prefix}`;
  const network = family === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  if (network.toString() !== addr.toString()) {
    return { error: `'${text}' has host bits set; the network is ${canonical(network, prefix)}` };
  }
  return { family, address: addr, prefix, text: canonical(addr, prefix) };
}

/** Whether a canonical network is the whole of its family: 0.0.0.0/0 or ::/0. */
export function isAnyNetwork(text: string): boolean {
  return text === '0.0.0.0/0' || text === '::/0';
}

export function isCidrError(v: Cidr | { error: string }): v is { error: string } {
  return 'error' in v;
}

function toBigInt(addr: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let n = 0n;
  for (const b of addr.toByteArray()) n = (n << 8n) | BigInt(b);
  return n;
}

function fromBigInt(n: bigint, family: Family): ipaddr.IPv4 | ipaddr.IPv6 {
  const len = BITS[family] / 8;
  const bytes: number[] = new Array(len);
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return ipaddr.fromByteArray(bytes);
}

interface Interval {
  start: bigint;
  end: bigint;
}

function toInterval(c: Cidr): Interval {
  const hostBits = BigInt(BITS[c.family] - c.prefix);
  const start = toBigInt(c.address);
  return { start, end: start + (1n << hostBits) - 1n };
}

/** Intervals sorted by start, with overlapping and adjacent ones joined (`after` is the address after an end). */
function joinSorted<T extends number | bigint>(intervals: { start: T; end: T }[], after: (end: T) => T): { start: T; end: T }[] {
  const merged: { start: T; end: T }[] = [];
  for (const iv of intervals) {
    const last = merged[merged.length - 1];
    if (last && iv.start <= after(last.end)) {
      if (iv.end > last.end) last.end = iv.end;
    } else {
      merged.push({ ...iv });
    }
  }
  return merged;
}

/** Largest aligned block starting at `start` that does not pass `end`, as a prefix length. */
function largestBlock(start: bigint, end: bigint, bits: number): number {
  let size = bits;
  while (size > 0) {
    const block = 1n << BigInt(size);
    if ((start & (block - 1n)) === 0n && start + block - 1n <= end) break;
    size--;
  }
  return bits - size;
}

/**
 * The minimal CIDR cover of the inputs of one family: overlapping and adjacent networks
 * merged, then each merged range cut into the fewest aligned blocks. Sorted by address.
 */
export function aggregate(cidrs: Cidr[], family: Family): string[] {
  if (family === 'ipv4') return aggregateIpv4(cidrs);
  const bits = BITS[family];
  const intervals = cidrs
    .filter((c) => c.family === family)
    .map(toInterval)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged = joinSorted(intervals, (end) => end + 1n);
  const out: string[] = [];
  for (const iv of merged) {
    let start = iv.start;
    while (start <= iv.end) {
      const prefix = largestBlock(start, iv.end, bits);
      out.push(canonical(fromBigInt(start, family), prefix));
      start += 1n << BigInt(bits - prefix);
    }
  }
  return out;
}

/**
 * aggregate for IPv4 in plain numbers: 32-bit addresses and their sums stay exact in a
 * double, and this is the hot path of every render. Bit operators are avoided because
 * they work on signed 32-bit values.
 */
function aggregateIpv4(cidrs: Cidr[]): string[] {
  const intervals: { start: number; end: number }[] = [];
  for (const c of cidrs) {
    if (c.family !== 'ipv4') continue;
    const start = ipv4Number((c.address as ipaddr.IPv4).octets);
    intervals.push({ start, end: start + 2 ** (32 - c.prefix) - 1 });
  }
  intervals.sort((a, b) => a.start - b.start);
  const merged = joinSorted(intervals, (end) => end + 1);
  const out: string[] = [];
  for (const iv of merged) {
    let start = iv.start;
    while (start <= iv.end) {
      let size = 32;
      while (size > 0) {
        const block = 2 ** size;
        if (start % block === 0 && start + block - 1 <= iv.end) break;
        size--;
      }
      out.push(`${Math.floor(start / 16777216)}.${Math.floor(start / 65536) % 256}.${Math.floor(start / 256) % 256}.${start % 256}/${32 - size}`);
      start += 2 ** size;
    }
  }
  return out;
}

/** Splits and aggregates a mixed list into the two families. */
export function toAddressSet(cidrs: Cidr[]): AddressSet {
  return { ipv4: aggregate(cidrs, 'ipv4'), ipv6: aggregate(cidrs, 'ipv6') };
}

/**
 * Canonical text to its parsed network. The same sets are re-read for every rule of every
 * target; a Cidr is never changed once made, so sharing one is safe. Cleared when full to
 * bound memory on very large inputs.
 */
const known = new Map<string, Cidr>();
const KNOWN_MAX = 1 << 20;

/** Re-parses canonical texts (already validated) to aggregate them with more. */
export function parseKnown(texts: string[]): Cidr[] {
  return texts.map((t) => {
    const hit = known.get(t);
    if (hit) return hit;
    const c = parseCidr(t);
    if (isCidrError(c)) throw new Error(`internal: invalid canonical CIDR ${t}`);
    if (known.size >= KNOWN_MAX) known.clear();
    known.set(t, c);
    return c;
  });
}

/** A single host prints without its /32 or /128, as admins write it. */
export function hostOrCidr(text: string): string {
  const v6 = text.includes(':');
  if (!v6 && text.endsWith('/32')) return text.slice(0, -3);
  if (v6 && text.endsWith('/128')) return text.slice(0, -4);
  return text;
}
