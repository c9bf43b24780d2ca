import * as ipaddr from 'ipaddr.js';

export type Family = 'ipv4' | 'ipv6';

const BITS: Record<Family, number> = { ipv4: 32, ipv6: 128 };

/**
 * One network, held as its first address in integers: an IPv4 address as a number
 * (0 to 2^32-1, exact in a double), an IPv6 address as a BigInt. A million of them must fit
 * in memory and sort fast, so the text and the ipaddr.js object are made only when asked.
 */
export class Cidr {
  private canonicalText: string | undefined;

  private constructor(
    readonly family: Family,
    /** The first address: a number for IPv4, a BigInt for IPv6. */
    readonly first: number | bigint,
    readonly prefix: number,
    text?: string,
  ) {
    this.canonicalText = text;
  }

  static ipv4(first: number, prefix: number): Cidr {
    return new Cidr('ipv4', first, prefix);
  }

  static ipv6(first: bigint, prefix: number, text?: string): Cidr {
    return new Cidr('ipv6', first, prefix, text);
  }

  /** Canonical text: dotted decimal or RFC 5952 IPv6, always with the prefix length. */
  get text(): string {
    return (this.canonicalText ??= flat(`${this.family === 'ipv4' ? ipv4Text(this.first as number) : fromBigInt(this.first as bigint).toString()}/${this.prefix}`));
  }

  /** Whether every address of `inner` is in this network. */
  covers(inner: Cidr): boolean {
    if (inner.family !== this.family || inner.prefix < this.prefix) return false;
    if (this.family === 'ipv4') return Math.floor((inner.first as number) / 2 ** (32 - this.prefix)) === Math.floor((this.first as number) / 2 ** (32 - this.prefix));
    const shift = BigInt(128 - this.prefix);
    return (inner.first as bigint) >> shift === (this.first as bigint) >> shift;
  }

  /** The first address as ipaddr.js reads it, for range lookups and matching. */
  get address(): ipaddr.IPv4 | ipaddr.IPv6 {
    return this.family === 'ipv4' ? ipaddr.IPv4.parse(ipv4Text(this.first as number)) : fromBigInt(this.first as bigint);
  }
}

export interface AddressSet {
  ipv4: string[];
  ipv6: string[];
}

/** Dotted decimal of a 32-bit address held as a number (>>> reads it as unsigned). */
function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

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

/**
 * The common case, plain dotted-decimal IPv4 with its network bits only (four parts of 0-255
 * without a leading zero, an optional prefix of 0-32 without one), read without ipaddr.js
 * trying IPv6 first and without a regular expression: a million addresses pass here. Anything
 * else (including every error) is left to the full parser, so acceptance and messages stay
 * those of parseCidr.
 */
function plainIpv4(text: string): Cidr | undefined {
  const length = text.length;
  let i = 0;
  let n = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (text.charCodeAt(i) !== 46 /* . */) return undefined;
      i++;
    }
    const begin = i;
    const value = decimalAt(text, i);
    i += value.digits;
    if (value.digits === 0 || value.digits > 3 || (value.digits > 1 && text.charCodeAt(begin) === 48) || value.value > 255) return undefined;
    n = n * 256 + value.value;
  }
  let prefix = 32;
  if (i < length) {
    if (text.charCodeAt(i) !== 47 /* / */) return undefined;
    const p = decimalAt(text, i + 1);
    if (p.digits === 0 || p.digits > 2 || (p.digits > 1 && text.charCodeAt(i + 1) === 48) || i + 1 + p.digits !== length || p.value > 32) return undefined;
    prefix = p.value;
  }
  if (prefix < 32 && n % 2 ** (32 - prefix) !== 0) return undefined;
  return Cidr.ipv4(n, prefix);
}

/** The run of ASCII digits at `from` (at most four read: longer is refused by every caller). */
function decimalAt(text: string, from: number): { value: number; digits: number } {
  let value = 0;
  let i = from;
  for (; i < text.length && i - from < 4; i++) {
    const ch = text.charCodeAt(i);
    if (ch < 48 || ch > 57) break;
    value = value * 10 + (ch - 48);
  }
  return { value, digits: i - from };
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
  let prefix = BITS[family];
  if (slash >= 0) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > BITS[family]) {
      return { error: `'${text}' is not a valid CIDR: the prefix length must be a number from 0 to ${BITS[family]}` };
    }
    prefix = Number(prefixText);
    const cidr = `${addr.toString()}/${prefix}`;
    const network = family === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
    if (network.toString() !== addr.toString()) {
      return { error: `'${text}' has host bits set; the network is ${canonical(network, prefix)}` };
    }
  }
  const first = toBigInt(addr);
  return family === 'ipv4' ? Cidr.ipv4(Number(first), prefix) : Cidr.ipv6(first, prefix, canonical(addr, prefix));
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

function fromBigInt(n: bigint): ipaddr.IPv6 {
  const bytes: number[] = new Array(16);
  for (let i = 15; i >= 0; i--) {
    bytes[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return ipaddr.fromByteArray(bytes) as ipaddr.IPv6;
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
 * Canonical aggregated lists. A list made here is canonical by construction (and frozen), so
 * the policy's last gate need not read it again; any other list is read in full.
 */
const canonicalLists = new WeakSet<readonly string[]>();

/** Whether `list` was made by aggregate (sorted, canonical, minimal) and not changed since. */
export function isAggregated(list: readonly string[]): boolean {
  return canonicalLists.has(list);
}

function sealed(list: string[]): string[] {
  Object.freeze(list);
  canonicalLists.add(list);
  return list;
}

/**
 * The minimal CIDR cover of the inputs of one family: overlapping and adjacent networks
 * merged, then each merged range cut into the fewest aligned blocks. Sorted by address.
 * The result is frozen: sets are shared between rules and targets.
 */
export function aggregate(cidrs: readonly Cidr[], family: Family): string[] {
  return family === 'ipv4' ? ipv4List(aggregateIpv4([cidrs])) : sealed(aggregateIpv6([cidrs]));
}

function aggregateIpv6(groups: ReadonlyArray<readonly Cidr[]>): string[] {
  const intervals: { start: bigint; end: bigint }[] = [];
  for (const cidrs of groups) {
    for (const c of cidrs) {
      if (c.family !== 'ipv6') continue;
      const start = c.first as bigint;
      intervals.push({ start, end: start + (1n << BigInt(128 - c.prefix)) - 1n });
    }
  }
  intervals.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: string[] = [];
  let i = 0;
  while (i < intervals.length) {
    let { start } = intervals[i]!;
    let end = intervals[i]!.end;
    for (i++; i < intervals.length && intervals[i]!.start <= end + 1n; i++) if (intervals[i]!.end > end) end = intervals[i]!.end;
    while (start <= end) {
      const prefix = largestBlock(start, end, 128);
      out.push(canonical(fromBigInt(start), prefix));
      start += 1n << BigInt(128 - prefix);
    }
  }
  return out;
}

/** How many low bits of a 32-bit address are zero (32 for 0): the largest block it can start. */
function alignment(n: number): number {
  return n === 0 ? 32 : 31 - Math.clz32(n & -n);
}

/** The largest k with 2^k <= count, for 1 <= count <= 2^32. */
function floorLog2(count: number): number {
  return count >= 2 ** 32 ? 32 : 31 - Math.clz32(count);
}

/**
 * aggregate for IPv4 in plain numbers, as the keys of the networks it makes. Each network is
 * packed into one double, start * 64 + prefix (below 2^38, so exact), and the packed keys
 * sorted as a Float64Array: by start, and at equal starts the larger block first. No object
 * per network, which is what lets a million addresses aggregate in well under a second; and
 * the result is numbers, so equal sets are found before any text is made (AddressSets).
 */
function aggregateIpv4(groups: ReadonlyArray<readonly Cidr[]>): Float64Array {
  let count = 0;
  for (const cidrs of groups) for (const c of cidrs) if (c.family === 'ipv4') count++;
  const keys = new Float64Array(count);
  let k = 0;
  for (const cidrs of groups) for (const c of cidrs) if (c.family === 'ipv4') keys[k++] = (c.first as number) * 64 + c.prefix;
  keys.sort();
  // The cover never has more networks than the inputs, save a range cut into blocks: grown then.
  let out = new Float64Array(count);
  let n = 0;
  let i = 0;
  while (i < count) {
    let start = Math.floor(keys[i]! / 64);
    let end = start + 2 ** (32 - (keys[i]! % 64)) - 1;
    for (i++; i < count; i++) {
      const next = Math.floor(keys[i]! / 64);
      if (next > end + 1) break;
      const nextEnd = next + 2 ** (32 - (keys[i]! % 64)) - 1;
      if (nextEnd > end) end = nextEnd;
    }
    while (start <= end) {
      const size = Math.min(alignment(start), floorLog2(end - start + 1));
      if (n === out.length) {
        const grown = new Float64Array(Math.max(16, out.length * 2));
        grown.set(out);
        out = grown;
      }
      out[n++] = start * 64 + (32 - size);
      start += 2 ** size;
    }
  }
  return n === out.length ? out : out.slice(0, n);
}

/** Dotted decimal of every octet value, so a network's text is one concatenation of table entries. */
const OCTETS = Array.from({ length: 256 }, (_, i) => String(i));

/**
 * The canonical list of aggregated IPv4 keys, sealed, its keys kept for distinctCount. Each
 * text is flattened once here: a cons string would be flattened again by every comparison,
 * hash and write that reads it, and a set of a million is read by several.
 */
function ipv4List(keys: Float64Array): string[] {
  const out = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const start = Math.floor(key / 64);
    const text = `${OCTETS[start >>> 24]}.${OCTETS[(start >>> 16) & 255]}.${OCTETS[(start >>> 8) & 255]}.${OCTETS[start & 255]}/${key % 64}`;
    out[i] = flat(text);
  }
  keysOfList.set(out, keys);
  return sealed(out);
}

/** `text` as one sequential string (V8 keeps a concatenation as a tree until something reads it). */
function flat(text: string): string {
  // A number read from the text forces V8 to flatten it in place; the value itself is not used.
  void text.charCodeAt(0);
  return text;
}

/**
 * How many distinct networks some lists of one family hold together. Aggregated IPv4 lists
 * (canonical text, from aggregate) are counted as numbers: each list's networks once, as
 * sorted keys kept per list, then one sort of them all. A set of 200,000 strings per port
 * was the largest part of a render that did not even write the aws files (its quota check).
 */
export function distinctCount(lists: ReadonlyArray<readonly string[]>, family: Family): number {
  if (family !== 'ipv4' || !lists.every(isAggregated)) {
    const distinct = new Set<string>();
    for (const list of lists) for (const c of list) distinct.add(c);
    return distinct.size;
  }
  const unique = [...new Set(lists)];
  let total = 0;
  for (const list of unique) total += list.length;
  const keys = new Float64Array(total);
  let k = 0;
  for (const list of unique) {
    keys.set(ipv4Keys(list), k);
    k += list.length;
  }
  keys.sort();
  let count = 0;
  for (let i = 0; i < total; i++) if (i === 0 || keys[i] !== keys[i - 1]) count++;
  return count;
}

const keysOfList = new WeakMap<readonly string[], Float64Array>();

/** An aggregated IPv4 list's networks as numbers, start * 64 + prefix, as aggregateIpv4 orders them. */
function ipv4Keys(list: readonly string[]): Float64Array {
  let keys = keysOfList.get(list);
  if (keys) return keys;
  keys = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const text = list[i]!;
    let address = 0;
    let octet = 0;
    let j = 0;
    for (; j < text.length; j++) {
      const ch = text.charCodeAt(j);
      if (ch === 46 /* . */) {
        address = address * 256 + octet;
        octet = 0;
      } else if (ch === 47 /* / */) break;
      else octet = octet * 10 + (ch - 48);
    }
    address = address * 256 + octet;
    keys[i] = address * 64 + Number(text.slice(j + 1));
  }
  keysOfList.set(list, keys);
  return keys;
}

/**
 * What equal aggregated lists share, without spelling out their networks (a list may hold a
 * million): the count and the two ends. Lists with the same bucket are compared with sameList.
 */
export function listBucket(list: readonly string[]): string {
  return `${list.length}|${list[0] ?? ''}|${list[list.length - 1] ?? ''}`;
}

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  // A plain loop: this compares lists of a million, and a callback per element is most of the cost.
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Values kept by the content of a list of networks: a map from a list to what was made for
 * it, which finds an equal list in time linear in its length (not in all the lists held).
 */
export class ByList<V> {
  private readonly buckets = new Map<string, Array<{ list: readonly string[]; value: V }>>();

  get(prefix: string, list: readonly string[]): V | undefined {
    return this.buckets.get(`${prefix}|${listBucket(list)}`)?.find((e) => sameList(e.list, list))?.value;
  }

  set(prefix: string, list: readonly string[], value: V): void {
    const key = `${prefix}|${listBucket(list)}`;
    const bucket = this.buckets.get(key);
    if (bucket) bucket.push({ list, value });
    else this.buckets.set(key, [{ list, value }]);
  }
}

/** Splits and aggregates a mixed list into the two families. */
export function toAddressSet(cidrs: readonly Cidr[]): AddressSet {
  return { ipv4: aggregate(cidrs, 'ipv4'), ipv6: aggregate(cidrs, 'ipv6') };
}

/**
 * Aggregated sets made once per content: toAddressSet over several lists of networks, where
 * lists that aggregate alike give the very same frozen lists. A policy's flows often repeat a
 * set (one per protocol of a service); sharing it spares its text being made twice, and every
 * later comparison (targets naming their shared sets, the quota count) meets the same list
 * and stops at once instead of reading a million networks twice.
 */
export class AddressSets {
  private readonly ipv4 = new Map<string, Array<{ keys: Float64Array; list: string[] }>>();
  private readonly ipv6 = new ByList<string[]>();

  /** The aggregated union of `groups`, without concatenating them first. */
  of(groups: ReadonlyArray<readonly Cidr[]>): AddressSet {
    return { ipv4: this.ipv4List(aggregateIpv4(groups)), ipv6: this.ipv6List(aggregateIpv6(groups)) };
  }

  private ipv4List(keys: Float64Array): string[] {
    const bucketKey = `${keys.length}|${keys[0] ?? ''}|${keys[keys.length - 1] ?? ''}`;
    let bucket = this.ipv4.get(bucketKey);
    const known = bucket?.find((e) => sameKeys(e.keys, keys));
    if (known) return known.list;
    if (!bucket) this.ipv4.set(bucketKey, (bucket = []));
    const list = ipv4List(keys);
    bucket.push({ keys, list });
    return list;
  }

  private ipv6List(list: string[]): string[] {
    const known = this.ipv6.get('', list);
    if (known) return known;
    sealed(list);
    this.ipv6.set('', list, list);
    return list;
  }
}

function sameKeys(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Re-parses canonical texts (already validated) to aggregate them with more. */
export function parseKnown(texts: readonly string[]): Cidr[] {
  return texts.map((t) => {
    const c = parseCidr(t);
    if (isCidrError(c)) throw new Error(`internal: invalid canonical CIDR ${t}`);
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

/**
 * The network an address with a prefix length lies in, host bits cleared, as firewalls read
 * "10.0.0.1/24" (nft and iptables keep 10.0.0.0/24). For rule sets read back, where the file's
 * tool has already decided what it means; fwgen's own inputs refuse host bits (parseCidr).
 */
export function networkOf(text: string): Cidr | { error: string } {
  const slash = text.indexOf('/');
  if (slash < 0) return parseCidr(text);
  const addr = parseAddress(text.slice(0, slash));
  if ('error' in addr) return { error: `'${text}' is not a valid IP address: ${addr.error}` };
  const prefix = text.slice(slash + 1);
  const max = BITS[familyOf(addr)];
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > max) return { error: `'${text}' is not a valid CIDR: the prefix length must be a number from 0 to ${max}` };
  const cidr = `${addr.toString()}/${prefix}`;
  const network = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  return parseCidr(`${network.toString()}/${prefix}`);
}

/** The fewest canonical CIDRs that cover an address range first-last (both included, one family). */
export function rangeCidrs(firstText: string, lastText: string): string[] | { error: string } {
  const first = parseAddress(firstText);
  const last = parseAddress(lastText);
  if ('error' in first) return { error: `'${firstText}' is not a valid IP address: ${first.error}` };
  if ('error' in last) return { error: `'${lastText}' is not a valid IP address: ${last.error}` };
  if (first.kind() !== last.kind()) return { error: `the range ${firstText}-${lastText} mixes IPv4 and IPv6` };
  let start = toBigInt(first);
  const end = toBigInt(last);
  if (start > end) return { error: `the range ${firstText}-${lastText} is inverted` };
  const bits = BITS[familyOf(first)];
  const out: string[] = [];
  while (start <= end) {
    const prefix = largestBlock(start, end, bits);
    const at = bits === 32 ? ipaddr.fromByteArray([24, 16, 8, 0].map((s) => Number((start >> BigInt(s)) & 0xffn))) : fromBigInt(start);
    out.push(canonical(at, prefix));
    start += 1n << BigInt(bits - prefix);
  }
  return out;
}

/** The first and last address of a network, as text without a prefix length. */
export function networkEnds(c: Cidr): [string, string] {
  if (c.family === 'ipv4') {
    const first = c.first as number;
    return [ipv4Text(first), ipv4Text(first + 2 ** (32 - c.prefix) - 1)];
  }
  const first = c.first as bigint;
  return [fromBigInt(first).toString(), fromBigInt(first + (1n << BigInt(128 - c.prefix)) - 1n).toString()];
}
