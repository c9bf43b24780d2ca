import * as ipaddr from 'ipaddr.js';
import { aggregate, parseKnown, type Cidr, type Family } from '../net/addresses';

/** A feed that loses more than this share of the addresses it covered is refused unless --accept-shrink. */
export const SHRINK_LIMIT = 0.3;

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** ipaddr.js's special ranges (private, loopback, documentation, ...) of one family, by name. */
function specialRanges(family: Family): Array<[string, Cidr]> {
  const table = (family === 'ipv4' ? ipaddr.IPv4.prototype : ipaddr.IPv6.prototype) as unknown as { SpecialRanges: Record<string, Range | Range[]> };
  const out: Array<[string, Cidr]> = [];
  for (const [name, v] of Object.entries(table.SpecialRanges)) {
    const ranges = (Array.isArray(v[0]) ? v : [v]) as Range[];
    for (const [addr, bits] of ranges) if (addr.kind() === family) out.push([name, parseKnown([`${addr.toString()}/${bits}`])[0]!]);
  }
  return out;
}

const SPECIAL: Record<Family, Array<[string, Cidr]>> = { ipv4: specialRanges('ipv4'), ipv6: specialRanges('ipv6') };

/**
 * Why a network is not public unicast, or undefined when it is. A network is refused when
 * it overlaps any of ipaddr.js's special ranges (private, loopback, link-local, multicast,
 * documentation, reserved, ...): 64.0.0.0/2 starts on a public address and still holds 127/8.
 */
export function notPublicUnicast(c: Cidr): string | undefined {
  const own = c.address.range();
  if (own !== 'unicast') return own;
  for (const [name, special] of SPECIAL[c.family]) {
    if (special.covers(c) || c.covers(special)) return `${name} (overlaps ${special.text})`;
  }
  return undefined;
}

function size(texts: string[], family: Family): bigint {
  const bits = family === 'ipv4' ? 32 : 128;
  return texts.reduce((n, t) => n + (1n << BigInt(bits - Number(t.split('/')[1]))), 0n);
}

export interface Shrink {
  family: Family;
  /** Share of the old list's addresses the new one no longer covers, 0..1. */
  lost: number;
}

/** Per family, how much of what the old list covered the new one drops (what is lost, not how many lines). */
export function shrinkage(oldTexts: string[], newTexts: string[]): Shrink[] {
  const out: Shrink[] = [];
  const oldC = parseKnown(oldTexts);
  const newC = parseKnown(newTexts);
  for (const family of ['ipv4', 'ipv6'] as Family[]) {
    const before = size(aggregate(oldC, family), family);
    if (before === 0n) continue;
    const union = size(aggregate([...oldC, ...newC], family), family);
    const after = size(aggregate(newC, family), family);
    const lostScaled = ((union - after) * 1_000_000n) / before;
    out.push({ family, lost: Number(lostScaled) / 1_000_000 });
  }
  return out;
}
