import * as ipaddr from 'ipaddr.js';
import type { IpFamily } from './model';

/**
 * Sets of integers as sorted, disjoint, non-adjacent inclusive ranges. One type serves every
 * dimension of a packet (addresses of either family, ports, protocol numbers, interface and
 * program indices), so the region arithmetic is written once.
 */
export type Ranges = ReadonlyArray<readonly [bigint, bigint]>;

export const EMPTY: Ranges = [];

export function span(lo: bigint, hi: bigint): Ranges {
  return lo <= hi ? [[lo, hi]] : EMPTY;
}

export function normalize(list: ReadonlyArray<readonly [bigint, bigint]>): Ranges {
  const sorted = [...list].filter(([a, b]) => a <= b).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1n) {
      if (b > last[1]) last[1] = b;
    } else out.push([a, b]);
  }
  return out;
}

export function union(a: Ranges, b: Ranges): Ranges {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return normalize([...a, ...b]);
}

export function intersect(a: Ranges, b: Ranges): Ranges {
  const out: Array<[bigint, bigint]> = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [a0, a1] = a[i]!;
    const [b0, b1] = b[j]!;
    const lo = a0 > b0 ? a0 : b0;
    const hi = a1 < b1 ? a1 : b1;
    if (lo <= hi) out.push([lo, hi]);
    if (a1 < b1) i++;
    else j++;
  }
  return out;
}

export function subtract(a: Ranges, b: Ranges): Ranges {
  if (a.length === 0 || b.length === 0) return a;
  const out: Array<[bigint, bigint]> = [];
  let j = 0;
  for (const [a0, a1] of a) {
    let lo = a0;
    while (j < b.length && b[j]![1] < lo) j++;
    let k = j;
    while (k < b.length && b[k]![0] <= a1 && lo <= a1) {
      const [b0, b1] = b[k]!;
      if (b0 > lo) out.push([lo, b0 - 1n]);
      lo = b1 + 1n;
      k++;
    }
    if (lo <= a1) out.push([lo, a1]);
  }
  return out;
}

export function complement(a: Ranges, within: Ranges): Ranges {
  return subtract(within, a);
}

export function sameRanges(a: Ranges, b: Ranges): boolean {
  return a.length === b.length && a.every(([x, y], i) => x === b[i]![0] && y === b[i]![1]);
}

/** Whether every value of `inner` is in `outer`. */
export function coversAll(outer: Ranges, inner: Ranges): boolean {
  return subtract(inner, outer).length === 0;
}

export function count(a: Ranges): bigint {
  let n = 0n;
  for (const [x, y] of a) n += y - x + 1n;
  return n;
}

export const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

export function addressSpace(family: IpFamily): Ranges {
  return [[0n, (1n << BigInt(BITS[family])) - 1n]];
}

/**
 * A CIDR (or a bare address) as a range of its family, or why not. Host bits are cleared, as the
 * kernel, pf and the cloud APIs do when they take such a network; the caller says so if it matters.
 */
export function cidrRange(text: string): { family: IpFamily; range: [bigint, bigint]; hostBits: boolean } | { error: string } {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addrText = slash < 0 ? t : t.slice(0, slash);
  if (!ipaddr.isValid(addrText) || (!addrText.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(addrText))) {
    return { error: `'${text}' is not an IP address or network` };
  }
  const addr = ipaddr.parse(addrText);
  const family: IpFamily = addr.kind() === 'ipv4' ? 4 : 6;
  const bits = BITS[family];
  let prefix = bits;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > bits) return { error: `'${text}': the prefix length must be a number from 0 to ${bits}` };
    prefix = Number(p);
  }
  let n = 0n;
  for (const byte of addr.toByteArray()) n = (n << 8n) | BigInt(byte);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const first = n & ~hostMask;
  return { family, range: [first, first | hostMask], hostBits: first !== n };
}

function addressText(n: bigint, family: IpFamily): string {
  const bytes: number[] = [];
  for (let i = BITS[family] / 8 - 1; i >= 0; i--) bytes.push(Number((n >> BigInt(i * 8)) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}

/** The fewest CIDRs that make up `ranges` (the reverse of cidrRange), canonical text. */
export function rangesToCidrs(ranges: Ranges, family: IpFamily): string[] {
  const bits = BITS[family];
  const out: string[] = [];
  for (const [lo, hi] of ranges) {
    let start = lo;
    while (start <= hi) {
      let size = bits;
      while (size > 0) {
        const block = 1n << BigInt(bits - size + 1);
        if (start % block !== 0n || start + block - 1n > hi) break;
        size--;
      }
      out.push(`${addressText(start, family)}/${size}`);
      start += 1n << BigInt(bits - size);
    }
  }
  return out;
}
