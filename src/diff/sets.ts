import * as ipaddr from 'ipaddr.js';
import { aggregate, isCidrError, parseCidr, type Cidr, type Family } from '../net/addresses';
import { mergePorts, type PortRange } from '../net/ports';

function parsed(texts: string[]): Cidr[] {
  return texts.map((t) => {
    const c = parseCidr(t);
    if (isCidrError(c)) throw new Error(`internal: invalid canonical CIDR ${t}`);
    return c;
  });
}

/** The two halves of a network one bit longer: 10.0.0.0/23 → 10.0.0.0/24, 10.0.1.0/24. */
function halves(c: Cidr): [Cidr, Cidr] {
  const bytes = c.address.toByteArray();
  const bit = c.prefix; // the first host bit becomes part of the network
  const upper = [...bytes];
  upper[bit >> 3]! |= 0x80 >> (bit & 7);
  const low = parseCidr(`${c.address.toString()}/${c.prefix + 1}`);
  const high = parseCidr(`${ipaddr.fromByteArray(upper).toString()}/${c.prefix + 1}`);
  if (isCidrError(low) || isCidrError(high)) throw new Error(`internal: cannot split ${c.text}`);
  return [low, high];
}

/**
 * Networks in `a` that `b` does not cover, as the fewest CIDRs: what a change newly allows
 * when `a` is after and `b` before. A network partly covered is split in halves until each
 * piece is wholly in or wholly out.
 */
export function subtractCidrs(a: string[], b: string[]): string[] {
  const minus = parsed(b);
  const out: Cidr[] = [];
  const visit = (c: Cidr) => {
    if (minus.some((m) => m.covers(c))) return;
    if (!minus.some((m) => c.covers(m))) {
      out.push(c);
      return;
    }
    for (const h of halves(c)) visit(h);
  };
  for (const c of parsed(a)) visit(c);
  return (['ipv4', 'ipv6'] as Family[]).flatMap((f) => aggregate(out, f));
}

/** Ports in `a` that `b` does not hold. */
export function subtractPorts(a: PortRange[], b: PortRange[]): PortRange[] {
  const out: PortRange[] = [];
  for (const r of mergePorts(a)) {
    let pieces: PortRange[] = [{ ...r }];
    for (const m of mergePorts(b)) {
      pieces = pieces.flatMap((p) => {
        if (m.to < p.from || m.from > p.to) return [p];
        const left = m.from > p.from ? [{ from: p.from, to: m.from - 1 }] : [];
        const right = m.to < p.to ? [{ from: m.to + 1, to: p.to }] : [];
        return [...left, ...right];
      });
    }
    out.push(...pieces);
  }
  return mergePorts(out);
}

export function subtractStrings(a: string[], b: string[]): string[] {
  const have = new Set(b);
  return [...new Set(a)].filter((x) => !have.has(x)).sort();
}
