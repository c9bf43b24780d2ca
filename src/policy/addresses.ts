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

/**
 * Parses an address or CIDR. Host bits must be zero: "10.0.0.1/24" is almost always a
 * typo for a host or for 10.0.0.0/24, and guessing which would widen or narrow a rule.
 */
export function parseCidr(text: string): Cidr | { error: string } {
  const trimmed = text.trim();
  try {
    if (trimmed.includes('/')) {
      if (!ipaddr.isValidCIDR(trimmed)) return { error: `'${text}' is not a valid CIDR` };
      const [addr, prefix] = ipaddr.parseCIDR(trimmed);
      const network =
        addr.kind() === 'ipv4'
          ? ipaddr.IPv4.networkAddressFromCIDR(trimmed)
          : ipaddr.IPv6.networkAddressFromCIDR(trimmed);
      if (network.toString() !== addr.toString()) {
        return { error: `'${text}' has host bits set; the network is ${canonical(network, prefix)}` };
      }
      return { family: familyOf(addr), address: addr, prefix, text: canonical(addr, prefix) };
    }
    if (!ipaddr.isValid(trimmed)) return { error: `'${text}' is not a valid IP address` };
    const addr = ipaddr.parse(trimmed);
    const prefix = BITS[familyOf(addr)];
    return { family: familyOf(addr), address: addr, prefix, text: canonical(addr, prefix) };
  } catch {
    return { error: `'${text}' is not a valid IP address or CIDR` };
  }
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
  const bits = BITS[family];
  const intervals = cidrs
    .filter((c) => c.family === family)
    .map(toInterval)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: Interval[] = [];
  for (const iv of intervals) {
    const last = merged[merged.length - 1];
    if (last && iv.start <= last.end + 1n) {
      if (iv.end > last.end) last.end = iv.end;
    } else {
      merged.push({ ...iv });
    }
  }
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

/** Splits and aggregates a mixed list into the two families. */
export function toAddressSet(cidrs: Cidr[]): AddressSet {
  return { ipv4: aggregate(cidrs, 'ipv4'), ipv6: aggregate(cidrs, 'ipv6') };
}

/** Re-parses canonical texts (already validated) to aggregate them with more. */
export function parseKnown(texts: string[]): Cidr[] {
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
