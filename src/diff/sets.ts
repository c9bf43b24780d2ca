import { aggregate, Cidr, parseKnown, type Family } from '../net/addresses';
import { mergePorts, type PortRange } from '../net/ports';
import { append } from '../util/append';

/** The two halves of a network one bit longer: 10.0.0.0/23 → 10.0.0.0/24, 10.0.1.0/24. */
function halves(c: Cidr): [Cidr, Cidr] {
  const prefix = c.prefix + 1;
  if (c.family === 'ipv4') return [Cidr.ipv4(c.first as number, prefix), Cidr.ipv4((c.first as number) + 2 ** (32 - prefix), prefix)];
  return [Cidr.ipv6(c.first as bigint, prefix), Cidr.ipv6((c.first as bigint) + (1n << BigInt(128 - prefix)), prefix)];
}

/**
 * Networks in `a` that `b` does not cover, as the fewest CIDRs: what a change newly allows
 * when `a` is after and `b` before. A network partly covered is split in halves until each
 * piece is wholly in or wholly out.
 */
export function subtractCidrs(a: string[], b: string[]): string[] {
  const minus = parseKnown(b);
  const out: Cidr[] = [];
  const visit = (c: Cidr) => {
    if (minus.some((m) => m.covers(c))) return;
    if (!minus.some((m) => c.covers(m))) {
      out.push(c);
      return;
    }
    for (const h of halves(c)) visit(h);
  };
  for (const c of parseKnown(a)) visit(c);
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
    append(out, pieces);
  }
  return mergePorts(out);
}

export function subtractStrings(a: string[], b: string[]): string[] {
  const have = new Set(b);
  return [...new Set(a)].filter((x) => !have.has(x)).sort();
}
