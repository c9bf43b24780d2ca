import type { Family } from '../../src/net/addresses';
import type { Rule } from '../../src/policy/types';
import { contains, type Layout, type PolicyModel, type PolicyView, type Probe } from './probes';

/**
 * What the companion tests ask DNS and what must follow: from the names of the policy's rules,
 * the queries a device makes (each name, a made-up subdomain of it, a wildcard's apex), what the
 * authoritative upstream answers, and whether the firewall must admit the answer afterwards.
 */

export type CaseKind = 'exact' | 'subdomain of an exact name' | 'subdomain of a wildcard' | 'apex of a wildcard';

export interface NameCase {
  kind: CaseKind;
  /** The catalog name the query comes from (`api.x.com`, `*.x.com`). */
  of: string;
  query: string;
  family: Family;
  /** What the upstream answers. */
  address: string;
  /** The answer comes from the lock (pinned): it passes with or without a lookup. */
  pinned: boolean;
  /** The device class that asks and the probe it sends to (or receives from) the answer. */
  deviceClass: string;
  probe: Probe;
}

/** A label no vendor uses, for the subdomains that must not be admitted (or must, under a wildcard). */
export const SUBDOMAIN_LABEL = 'fwgen-probe';

/** Fresh answers, from ranges no example uses; a case whose answer the rules admit anyway is left out. */
const POOLS: Record<Family, (n: bigint) => string> = {
  ipv4: (n) => `198.18.${Number(n >> 8n)}.${Number(n & 0xffn)}`,
  ipv6: (n) => `2001:db8:dd::${n.toString(16)}`,
};

/** Does some rule of `cls` in `direction` on proto/port name `query`, exactly or under a wildcard? */
function namedFor(policy: PolicyView, like: Rule, port: number, query: string): boolean {
  return policy.rules.some(
    (r) =>
      r.deviceClass === like.deviceClass &&
      r.direction === like.direction &&
      r.protocol === like.protocol &&
      r.ports.some((p) => port >= p.from && port <= p.to) &&
      r.remote.names.some((n) => (n.startsWith('*.') ? query.endsWith(n.slice(1)) : n === query)),
  );
}

export interface NamePlan {
  cases: NameCase[];
  /** The upstream's records: name → addresses per family. */
  records: Map<string, { ipv4: string[]; ipv6: string[] }>;
  /** Addresses the vendor side must hold for the answers. */
  addresses: string[];
}

export function planNames(policy: PolicyView, layout: Layout, model: PolicyModel): NamePlan {
  const site = policy.deviceClasses.flatMap((c) => [...c.addresses.ipv4, ...c.addresses.ipv6]);
  const taken = (a: string) => layout.places.has(a) || contains(site, a);
  const counters: Record<Family, bigint> = { ipv4: 1n, ipv6: 1n };
  const fresh = (f: Family): string => {
    for (;;) {
      const a = POOLS[f](counters[f]++);
      if (!taken(a)) return a;
    }
  };
  const records = new Map<string, { ipv4: string[]; ipv6: string[] }>();
  const answer = (query: string, f: Family): { address: string; pinned: boolean } => {
    if (!records.has(query)) records.set(query, { ipv4: [], ipv6: [] });
    const rec = records.get(query)!;
    if (rec[f].length === 0) {
      const info = policy.names.get(query);
      const lock = info && !info.wildcard ? (info.addresses?.[f] ?? []).map((c) => c.split('/')[0]!) : [];
      rec[f].push(...(lock.length > 0 ? lock : [fresh(f)]));
    }
    const info = policy.names.get(query);
    return { address: rec[f][0]!, pinned: !!info && !info.wildcard && (info.addresses?.[f].length ?? 0) > 0 };
  };

  const cases = new Map<string, NameCase>();
  for (const rule of policy.rules) {
    if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') continue;
    const port = rule.ports[0]!.from;
    for (const f of ['ipv4', 'ipv6'] as Family[]) {
      const local = (layout.classAddresses.get(rule.deviceClass) ?? []).find((a) => (a.includes(':') ? 'ipv6' : 'ipv4') === f && !layout.lanOnly.has(a));
      if (!local) continue;
      for (const name of rule.remote.names) {
        const queries: Array<[CaseKind, string]> = name.startsWith('*.')
          ? [
              ['subdomain of a wildcard', `${SUBDOMAIN_LABEL}.${name.slice(2)}`],
              ['apex of a wildcard', name.slice(2)],
            ]
          : [
              ['exact', name],
              ['subdomain of an exact name', `${SUBDOMAIN_LABEL}.${name}`],
            ];
        for (const [kind, query] of queries) {
          const { address, pinned: isPinned } = answer(query, f);
          // An exact name the lock does not pin in this family: whether a fresh answer passes is
          // the target's choice (follow names, or pin them); nothing to assert either way.
          if (kind === 'exact' && !isPinned) continue;
          const [src, dst] = rule.direction === 'outbound' ? [local, address] : [address, local];
          const key = `${query} ${f} ${rule.deviceClass} ${rule.direction} ${rule.protocol} ${port}`;
          if (cases.has(key)) continue;
          const admitted = namedFor(policy, rule, port, query);
          const probe: Probe = { proto: rule.protocol, src, dst, port, expect: admitted ? 'pass' : 'drop', why: `${kind} ${query} (${name}, ${rule.id})` };
          // A fresh answer the rules admit without any lookup (a range like 0.0.0.0/0 on the same
          // port) cannot show what the companion does: left out.
          if (!isPinned && model.allows(probe)) continue;
          cases.set(key, { kind, of: name, query, family: f, address, pinned: isPinned, deviceClass: rule.deviceClass, probe });
        }
      }
    }
  }
  const all = [...cases.values()];
  return { cases: all, records, addresses: [...new Set(all.map((c) => c.address))] };
}
