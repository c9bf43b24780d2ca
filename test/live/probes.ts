import * as ipaddr from 'ipaddr.js';
import type { AddressSet, Family } from '../../src/net/addresses';
import type { Policy, Rule } from '../../src/policy/types';
import type { Proto } from './agent';
import type { Mode } from './render';

/**
 * What the live tests send, derived from the Policy IR alone: where every address lives, which
 * probes the policy allows (they must pass, replies included) and a sample of what it does not
 * allow (they must drop). Whether a probe is allowed is decided by one model of the policy
 * (`allows`), never by the category that produced it, so a site flow that opens more (HTTPS from
 * anywhere, say) turns a would-be forbidden probe into an allowed one instead of a false alarm.
 */

export interface Probe {
  proto: Proto;
  src: string;
  dst: string;
  /** 0 for ICMP. */
  port: number;
  expect: 'pass' | 'drop';
  /** Which flow or which forbidden category produced it. */
  why: string;
  /** The policy rule an allowed flow probe stands for. */
  rule?: string;
  /** For a probe just outside a range: that range (a CIDR of the policy). */
  range?: string;
}

/** Where the harness puts an address: a device-class namespace or the vendor ("internet") side. */
export type Place = { kind: 'class'; id: string } | { kind: 'vendor' };

export interface Layout {
  /** Address → where it lives; every probe's source and destination is in here. */
  places: Map<string, Place>;
  /** Per device class, the addresses its namespace holds. */
  classAddresses: Map<string, string[]>;
  vendorAddresses: string[];
  /**
   * Gateway mode: IPv6 addresses given to devices of a class that has no IPv6 prefix (a LAN
   * device gets one from any router advertisement). Nothing from them may cross the gateway.
   */
  lanOnly: Set<string>;
  /**
   * Gateway mode: per device class bound to an interface, an address in no class on that
   * class's host, one per family the class has (a device taking an address alias), mapped to
   * the class. Also in `classAddresses` (the namespace holds it), never a representative.
   */
  aliases: Map<string, string>;
}

/** The parts of the policy the probes are derived from. */
export type PolicyView = Pick<Policy, 'deviceClasses' | 'interfaces' | 'rules' | 'names'>;

export interface Plan {
  layout: Layout;
  probes: Probe[];
}

const FAMILIES: Family[] = ['ipv4', 'ipv6'];
const BITS: Record<Family, number> = { ipv4: 32, ipv6: 128 };

/** Made-up resolvers nobody allowed: DNS to them must drop unless the policy opens port 53 that wide. */
const OTHER_RESOLVERS: Record<Family, string[]> = { ipv4: ['192.0.2.254'], ipv6: ['2001:db8:ffff::53'] };
/** A unique-local prefix for the IPv6 of device classes that have none. */
const LAN_V6 = 'fd00:f1e1:d0';

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

function familyOf(a: string): Family {
  return a.includes(':') ? 'ipv6' : 'ipv4';
}

function toBig(a: Addr): bigint {
  return a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

function fromBig(n: bigint, family: Family): string | undefined {
  if (n < 0n || n >= 1n << BigInt(BITS[family])) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < BITS[family] / 8; i++) bytes.unshift(Number((n >> BigInt(8 * i)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** First and last address of a CIDR, as integers. */
function bounds(cidr: string): { first: bigint; last: bigint; family: Family } {
  const [addr, prefix] = ipaddr.parseCIDR(cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`);
  const family = familyOf(cidr);
  const first = toBig(addr) & ~((1n << BigInt(BITS[family] - prefix)) - 1n);
  return { first, last: first + (1n << BigInt(BITS[family] - prefix)) - 1n, family };
}

/** Addresses a namespace can hold and route: no loopback, multicast, link-local, unspecified, class E. */
function usable(a: string): boolean {
  const addr = ipaddr.parse(a);
  if (['unspecified', 'broadcast', 'multicast', 'loopback', 'linkLocal', 'ipv4Mapped', 'rfc6145', 'rfc6052'].includes(addr.range())) return false;
  return addr.kind() === 'ipv6' || addr.toByteArray()[0]! < 240;
}

export function contains(cidrs: string[], addr: string): boolean {
  const a = ipaddr.parse(addr);
  return cidrs.some((c) => {
    const [net, prefix] = ipaddr.parseCIDR(c);
    return net.kind() === a.kind() && a.match(net, prefix);
  });
}

/** The addresses a rule's other end is matched by in files that pin names: literals plus the lock's. */
export function pinned(policy: PolicyView, rule: Rule): AddressSet {
  const out: AddressSet = { ipv4: [...rule.remote.addresses.ipv4], ipv6: [...rule.remote.addresses.ipv6] };
  for (const name of rule.remote.names) {
    const info = policy.names.get(name);
    if (!info || info.wildcard || !info.addresses) continue;
    for (const f of FAMILIES) out[f].push(...info.addresses[f]);
  }
  return out;
}

function classCidrs(policy: PolicyView, id: string): string[] {
  const c = policy.deviceClasses.find((x) => x.id === id)!;
  return [...c.addresses.ipv4, ...c.addresses.ipv6];
}

/** Devices standing for a class: its single hosts, and the second and next-to-last address of its ranges. */
function representatives(cidr: string): string[] {
  const { first, last, family } = bounds(cidr);
  const picks = first === last ? [first] : last - first < 3n ? [first, last] : [first + 1n, last - 1n];
  return [...new Set(picks.map((n) => fromBig(n, family)!))].filter(usable);
}

export class PolicyModel {
  constructor(
    readonly policy: PolicyView,
    readonly mode: Mode,
    /** Host mode: the classes whose namespace holds a rendered host file. */
    readonly enforcing: Set<string>,
    readonly lanOnly: Set<string> = new Set(),
  ) {}

  classOf(addr: string): string | undefined {
    return this.policy.deviceClasses.find((c) => contains([...c.addresses.ipv4, ...c.addresses.ipv6], addr))?.id;
  }

  private matches(rule: Rule, p: Omit<Probe, 'expect' | 'why'>): boolean {
    if (rule.protocol !== p.proto) return false;
    if (p.proto !== 'icmp' && !rule.ports.some((r) => p.port >= r.from && p.port <= r.to)) return false;
    const local = classCidrs(this.policy, rule.deviceClass);
    const remote = pinned(this.policy, rule);
    const remoteAll = [...remote.ipv4, ...remote.ipv6];
    return rule.direction === 'outbound' ? contains(local, p.src) && contains(remoteAll, p.dst) : contains(remoteAll, p.src) && contains(local, p.dst);
  }

  /** Does the policy, as the mode enforces it, let this probe through (with its answer)? */
  allows(p: Omit<Probe, 'expect' | 'why'>): boolean {
    const rules = this.policy.rules;
    const src = this.classOf(p.src);
    const dst = this.classOf(p.dst);
    if (this.mode === 'gateway') {
      if (this.lanOnly.has(p.src) || this.lanOnly.has(p.dst)) return false;
      if (src === undefined && dst === undefined) return true; // not the site's traffic
      return rules.some((r) => this.matches(r, p));
    }
    const out = src === undefined || !this.enforcing.has(src) || rules.some((r) => r.deviceClass === src && r.direction === 'outbound' && this.matches(r, p));
    const inn = dst === undefined || !this.enforcing.has(dst) || rules.some((r) => r.deviceClass === dst && r.direction === 'inbound' && this.matches(r, p));
    return out && inn;
  }
}

/** Where every address lives: class representatives in their class, every other end on the vendor side. */
export function layoutFor(policy: PolicyView, mode: Mode): Layout {
  const places = new Map<string, Place>();
  const classAddresses = new Map<string, string[]>();
  const lanOnly = new Set<string>();
  policy.deviceClasses.forEach((c, i) => {
    const reps = [...c.addresses.ipv4, ...c.addresses.ipv6].flatMap(representatives);
    if (mode === 'gateway' && c.addresses.ipv6.length === 0) {
      const v6 = `${LAN_V6}${i.toString(16)}::10`;
      reps.push(v6);
      lanOnly.add(v6);
    }
    classAddresses.set(c.id, reps);
    for (const a of reps) places.set(a, { kind: 'class', id: c.id });
  });
  const site = policy.deviceClasses.flatMap((c) => [...c.addresses.ipv4, ...c.addresses.ipv6]);
  const vendor = (a: string | undefined) => {
    if (a === undefined || !usable(a) || places.has(a) || contains(site, a)) return;
    places.set(a, { kind: 'vendor' });
  };
  for (const rule of policy.rules) {
    const set = pinned(policy, rule);
    for (const cidr of [...set.ipv4, ...set.ipv6]) {
      if (contains(site, cidr.split('/')[0]!)) continue; // a peer class: its representatives stand for it
      for (const a of [...edges(cidr).inside, ...edges(cidr).outside]) vendor(a);
    }
  }
  for (const f of FAMILIES) OTHER_RESOLVERS[f].forEach(vendor);
  const vendorAddresses = [...places].filter(([, p]) => p.kind === 'vendor').map(([a]) => a);
  const aliases = new Map<string, string>();
  if (mode === 'gateway') {
    for (const c of policy.deviceClasses.filter((x) => x.interface !== undefined)) {
      for (const f of FAMILIES) {
        const first = c.addresses[f][0];
        const alias = first === undefined ? undefined : aliasBeside(first, site, places);
        if (alias === undefined) continue;
        aliases.set(alias, c.id);
        places.set(alias, { kind: 'class', id: c.id });
        classAddresses.get(c.id)!.push(alias);
      }
    }
  }
  return { places, classAddresses, vendorAddresses, lanOnly, aliases };
}

/** The first address after a class's network that is in no class and not taken: a neighbour on the same LAN. */
function aliasBeside(cidr: string, site: string[], places: Map<string, Place>): string | undefined {
  const { last, family } = bounds(cidr);
  for (let n = last + 1n; n < last + 64n; n++) {
    const a = fromBig(n, family);
    if (a !== undefined && usable(a) && !places.has(a) && !contains(site, a)) return a;
  }
  return undefined;
}

/**
 * The first and last address of a range (inside) and the two just outside it. Where the edges
 * cannot be held by a namespace (0.0.0.0/0, ::/0: "from anywhere"), the middle of the range
 * stands in for them.
 */
export function edges(cidr: string): { inside: string[]; outside: string[] } {
  const { first, last, family } = bounds(cidr);
  const pick = (ns: bigint[]) => [...new Set(ns.map((n) => fromBig(n, family)).filter((a): a is string => a !== undefined))].filter(usable);
  const mid = first + (last - first + 1n) / 2n;
  const inside = pick([first, last]);
  return { inside: inside.length > 0 ? inside : pick([mid, mid + 1n]), outside: pick([first - 1n, last + 1n]) };
}

function samplePorts(rule: Rule): number[] {
  if (rule.protocol === 'icmp') return [0];
  return [...new Set(rule.ports.flatMap((r) => [r.from, r.to]))];
}

/**
 * Every probe of a site: each selected flow from each representative to each sampled address of
 * its other end (range edges, the lock's addresses, the peer class), and around each of them the
 * forbidden neighbours: the ports beside, the other protocol, the reverse direction, another
 * class, ICMP, the addresses just outside each range, DNS to a resolver nobody named and, at a
 * gateway, IPv6 from a LAN device whose class has no IPv6 prefix.
 */
/**
 * The policy as the mode enforces it, for a layout: at a gateway, nothing of the LAN addresses
 * of classes without IPv6 prefixes crosses, nor anything of an alias on an interface where the
 * profile does not accept addresses in no class.
 */
export function modelFor(policy: PolicyView, mode: Mode, enforcing: Set<string>, layout: Layout): PolicyModel {
  const accepting = new Set(policy.interfaces.filter((i) => i.unclassified === 'accept').map((i) => i.name));
  const interfaceOf = (id: string) => policy.deviceClasses.find((c) => c.id === id)?.interface;
  const dropped = [...layout.aliases].filter(([, id]) => !accepting.has(interfaceOf(id)!)).map(([a]) => a);
  return new PolicyModel(policy, mode, enforcing, new Set([...layout.lanOnly, ...dropped]));
}

export function planProbes(policy: PolicyView, mode: Mode, enforcing: Set<string>): Plan {
  const layout = layoutFor(policy, mode);
  const model = modelFor(policy, mode, enforcing, layout);
  const probes = new Map<string, Probe>();
  const add = (proto: Proto, src: string, dst: string, port: number, why: string, extra: Pick<Probe, 'rule' | 'range'> = {}) => {
    if (port < 0 || port > 65535 || (proto !== 'icmp' && port === 0)) return;
    if (!layout.places.has(src) || !layout.places.has(dst) || src === dst) return;
    const from = layout.places.get(src)!;
    const to = layout.places.get(dst)!;
    const sameSide = from.kind === 'vendor' ? to.kind === 'vendor' : to.kind === 'class' && to.id === from.id;
    if (sameSide) return; // never crosses a firewall of the site
    const key = `${proto} ${src} ${dst} ${port}`;
    if (probes.has(key)) return;
    probes.set(key, { proto, src, dst, port, expect: model.allows({ proto, src, dst, port }) ? 'pass' : 'drop', why, ...extra });
  };
  const reps = (id: string, f: Family) => (layout.classAddresses.get(id) ?? []).filter((a) => familyOf(a) === f && !layout.lanOnly.has(a) && !layout.aliases.has(a));

  for (const rule of policy.rules) {
    if (rule.protocol === undefined) continue; // a program rule: Windows only
    const proto = rule.protocol;
    const set = pinned(policy, rule);
    for (const f of FAMILIES) {
      const locals = reps(rule.deviceClass, f);
      const remotes = new Set<string>();
      const outside = new Map<string, string>(); // address → the range it is just outside of
      for (const cidr of set[f]) {
        const peer = policy.deviceClasses.find((c) => contains(c.addresses[f], cidr.split('/')[0]!));
        if (peer) {
          reps(peer.id, f).filter((a) => contains([cidr], a)).forEach((a) => remotes.add(a));
          continue;
        }
        const e = edges(cidr);
        e.inside.forEach((a) => remotes.add(a));
        e.outside.forEach((a) => outside.set(a, cidr));
      }
      const pair = (local: string, remote: string): [string, string] => (rule.direction === 'outbound' ? [local, remote] : [remote, local]);
      for (const local of locals) {
        for (const remote of remotes) {
          for (const port of samplePorts(rule)) {
            const [s, d] = pair(local, remote);
            add(proto, s, d, port, `flow ${rule.id}`, { rule: rule.id });
            if (proto !== 'icmp') {
              add(proto, s, d, port - 1, `neighbouring port of ${rule.id}`);
              add(proto, s, d, port + 1, `neighbouring port of ${rule.id}`);
              add(proto === 'tcp' ? 'udp' : 'tcp', s, d, port, `other protocol than ${rule.id}`);
              add(proto, d, s, port, `reverse direction of ${rule.id}`);
            }
            // ping(8) is a process per probe: one ICMP probe per rule and family is sample enough.
            if (local === locals[0] && remote === [...remotes][0]) add('icmp', s, d, 0, `ICMP instead of ${rule.id}`);
            for (const other of policy.deviceClasses) {
              if (other.id === rule.deviceClass) continue;
              const o = reps(other.id, f)[0];
              if (o) add(proto, ...pair(o, remote), port, `class ${other.id} instead of ${rule.deviceClass} for ${rule.id}`);
            }
          }
        }
        for (const [o, range] of outside) add(proto, ...pair(local, o), samplePorts(rule)[0]!, `just outside ${range} of ${rule.id}`, { range });
      }
    }
  }
  for (const c of policy.deviceClasses) {
    for (const f of FAMILIES) {
      const local = reps(c.id, f)[0];
      if (!local) continue;
      for (const r of OTHER_RESOLVERS[f]) {
        add('udp', local, r, 53, `DNS from ${c.id} to a resolver nobody named`);
        add('tcp', local, r, 53, `DNS over TCP from ${c.id} to a resolver nobody named`);
      }
    }
  }
  return { layout, probes: [...probes.values()] };
}

/**
 * Gateway mode: IPv6 from devices whose class has no IPv6 prefix, to the vendor side's IPv6
 * addresses on the ports the class uses over IPv4. The gateway must drop all of it.
 */
export function lanIpv6Probes(policy: PolicyView, layout: Layout): Probe[] {
  const out = new Map<string, Probe>();
  const add = (p: Probe) => out.set(`${p.proto} ${p.src} ${p.dst} ${p.port}`, p);
  const targets = layout.vendorAddresses.filter((a) => familyOf(a) === 'ipv6').slice(0, 4);
  for (const c of policy.deviceClasses) {
    const src = (layout.classAddresses.get(c.id) ?? []).find((a) => layout.lanOnly.has(a));
    if (!src) continue;
    const used = policy.rules.filter((r) => r.deviceClass === c.id && r.direction === 'outbound' && (r.protocol === 'tcp' || r.protocol === 'udp'));
    const ports = used.length > 0 ? used.map((r) => [r.protocol as Proto, r.ports[0]!.from] as const) : [['tcp', 443] as const];
    for (const dst of targets) {
      for (const [proto, port] of ports) add({ proto, src, dst, port, expect: 'drop', why: `IPv6 from a ${c.id} device (the class has no IPv6 prefix)` });
      add({ proto: 'icmp', src, dst, port: 0, expect: 'drop', why: `ICMPv6 from a ${c.id} device (the class has no IPv6 prefix)` });
    }
  }
  return [...out.values()];
}

/** Ports a device is commonly reached on or reaches out with, beside the class's own. */
const COMMON_OUT: Array<[Proto, number]> = [['tcp', 22], ['tcp', 443], ['tcp', 3389], ['tcp', 80], ['udp', 53], ['udp', 123]];
const COMMON_IN: Array<[Proto, number]> = [['tcp', 22], ['tcp', 3389], ['tcp', 445]];

/**
 * Gateway mode: traffic of the address aliases (see Layout.aliases), both ways: to and from
 * the other ends the alias's class uses (its rules' first sample address and port), and on
 * common ports to and from the vendor side. Whether each passes is the model's to say.
 */
export function aliasProbes(policy: PolicyView, layout: Layout, model: PolicyModel): Probe[] {
  const out = new Map<string, Probe>();
  const add = (proto: Proto, src: string, dst: string, port: number, why: string) => {
    if (!layout.places.has(src) || !layout.places.has(dst)) return;
    const key = `${proto} ${src} ${dst} ${port}`;
    if (!out.has(key)) out.set(key, { proto, src, dst, port, expect: model.allows({ proto, src, dst, port }) ? 'pass' : 'drop', why });
  };
  for (const [alias, id] of layout.aliases) {
    const f = familyOf(alias);
    const vendor = layout.vendorAddresses.find((a) => familyOf(a) === f);
    for (const rule of policy.rules.filter((r) => r.deviceClass === id && (r.protocol === 'tcp' || r.protocol === 'udp'))) {
      const other = otherEnds(policy, pinned(policy, rule)[f], f, layout).find((a) => {
        const place = layout.places.get(a);
        return place !== undefined && !(place.kind === 'class' && place.id === id);
      });
      if (other === undefined) continue;
      const why = `alias ${alias} on the host of ${id}, instead of ${rule.id}`;
      if (rule.direction === 'outbound') add(rule.protocol!, alias, other, rule.ports[0]!.from, why);
      else add(rule.protocol!, other, alias, rule.ports[0]!.from, why);
    }
    if (vendor === undefined) continue;
    for (const [proto, port] of COMMON_OUT) add(proto, alias, vendor, port, `alias ${alias} on the host of ${id}, out on ${proto} ${port}`);
    for (const [proto, port] of COMMON_IN) add(proto, vendor, alias, port, `alias ${alias} on the host of ${id}, in on ${proto} ${port}`);
    add('icmp', alias, vendor, 0, `alias ${alias} on the host of ${id}, ICMP`);
  }
  return [...out.values()];
}

/** Addresses of the layout standing for a rule's other end: a peer class's representatives, else each range's edges. */
function otherEnds(policy: PolicyView, cidrs: string[], f: Family, layout: Layout): string[] {
  return cidrs.flatMap((c) => {
    const peer = policy.deviceClasses.find((x) => contains(x.addresses[f], c.split('/')[0]!));
    if (peer === undefined) return edges(c).inside.filter((a) => layout.places.get(a)?.kind === 'vendor');
    return (layout.classAddresses.get(peer.id) ?? []).filter((a) => contains([c], a) && !layout.aliases.has(a) && !layout.lanOnly.has(a));
  });
}
