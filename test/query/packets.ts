import * as ipaddr from 'ipaddr.js';
import type { Policy } from '../../src/policy/types';
import { contains, edges, layoutFor, pinned, type Layout, type Probe } from '../live/probes';
import type { Mode } from '../live/render';

/**
 * Random packets for the differential test: addresses drawn at the edges of every network the
 * policy names (just inside and just outside), inside the device classes and elsewhere; ports at
 * the edges of every range and anywhere. The same seed gives the same packets.
 */

/** mulberry32: a small seeded generator, so a failure can be replayed with its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BITS = { ipv4: 32, ipv6: 128 } as const;

function toBig(a: string): bigint {
  return ipaddr.parse(a).toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

function fromBig(n: bigint, v6: boolean): string | undefined {
  const bits = v6 ? 128 : 32;
  if (n < 0n || n >= 1n << BigInt(bits)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < bits / 8; i++) bytes.unshift(Number((n >> BigInt(8 * i)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** What a namespace can hold and route (as the live harness's layout requires). */
function usable(a: string): boolean {
  const addr = ipaddr.parse(a);
  if (['unspecified', 'broadcast', 'multicast', 'loopback', 'linkLocal', 'ipv4Mapped', 'rfc6145', 'rfc6052'].includes(addr.range())) return false;
  return addr.kind() === 'ipv6' || addr.toByteArray()[0]! < 224;
}

function randomBig(rand: () => number, bits: number): bigint {
  let n = 0n;
  for (let i = 0; i < bits; i += 16) n = (n << 16n) | BigInt(Math.floor(rand() * 65536));
  return n & ((1n << BigInt(bits)) - 1n);
}

function randomInside(cidr: string, rand: () => number): string | undefined {
  const [net, prefix] = ipaddr.parseCIDR(cidr);
  const v6 = net.kind() === 'ipv6';
  const hostBits = (v6 ? 128 : 32) - prefix;
  if (hostBits === 0) return net.toString();
  return fromBig(toBig(net.toString()) + randomBig(rand, Math.min(hostBits, 64)) % (1n << BigInt(hostBits)), v6);
}

function near(cidr: string): string[] {
  const [net, prefix] = ipaddr.parseCIDR(cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`);
  const v6 = net.kind() === 'ipv6';
  const first = toBig(net.toString());
  const last = first + (1n << BigInt((v6 ? 128 : 32) - prefix)) - 1n;
  return [first - 2n, first - 1n, first, first + 1n, last - 1n, last, last + 1n, last + 2n].map((n) => fromBig(n, v6)).filter((a): a is string => a !== undefined);
}

export interface RandomPlan {
  layout: Layout;
  probes: Array<Omit<Probe, 'expect'>>;
}

/**
 * The harness's layout for the policy, with more addresses: in every class network (edges and
 * random), around every other network of the rules (vendor side) and random ones elsewhere.
 * Then `count` packets between addresses on different sides, half of them shaped like a rule
 * (its class, its other end, a port of its range) so that many are allowed.
 */
export function randomPlan(policy: Policy, mode: Mode, seed: number, count: number): RandomPlan {
  const rand = seeded(seed);
  const layout = layoutFor(policy, mode);
  const site = policy.deviceClasses.flatMap((c) => [...c.addresses.ipv4, ...c.addresses.ipv6]);
  const classOf = (a: string) => policy.deviceClasses.find((c) => contains([...c.addresses.ipv4, ...c.addresses.ipv6], a));
  const place = (a: string | undefined) => {
    if (a === undefined || !usable(a) || layout.places.has(a)) return;
    const cls = classOf(a);
    if (cls) {
      layout.places.set(a, { kind: 'class', id: cls.id });
      layout.classAddresses.get(cls.id)!.push(a);
    } else {
      layout.places.set(a, { kind: 'vendor' });
      layout.vendorAddresses.push(a);
    }
  };
  for (const c of site) {
    near(c).forEach(place);
    for (let i = 0; i < 2; i++) place(randomInside(c, rand));
  }
  for (const r of policy.rules) {
    const set = pinned(policy, r);
    for (const c of [...set.ipv4, ...set.ipv6]) {
      if (layout.places.size > 400) break;
      near(c).forEach(place);
      place(randomInside(c, rand));
    }
  }
  for (let i = 0; i < 12; i++) {
    place(fromBig(randomBig(rand, 32), false));
    place(fromBig((0x2001n << 112n) | (0xdb8n << 96n) | randomBig(rand, 64), true));
  }
  const addresses = [...layout.places.keys()];
  const familyOf = (a: string) => (a.includes(':') ? 6 : 4);
  const sameSide = (a: string, b: string) => {
    const pa = layout.places.get(a)!;
    const pb = layout.places.get(b)!;
    return pa.kind === 'vendor' ? pb.kind === 'vendor' : pb.kind === 'class' && pb.id === pa.id;
  };
  const ports = new Set<number>([22, 53, 80, 123, 443, 3389, 8080]);
  for (const r of policy.rules) for (const p of r.ports) [p.from - 1, p.from, p.to, p.to + 1].filter((x) => x > 0 && x <= 65535).forEach((x) => ports.add(x));
  const portList = [...ports];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const probes = new Map<string, Omit<Probe, 'expect'>>();
  let icmp = 0;
  const add = (proto: Probe['proto'], src: string, dst: string, port: number, why: string) => {
    if (src === dst || familyOf(src) !== familyOf(dst) || sameSide(src, dst)) return;
    if (proto === 'icmp') {
      if (icmp >= 24) return;
      icmp++;
      port = 0;
    }
    probes.set(`${proto} ${src} ${dst} ${port}`, { proto, src, dst, port, why });
  };
  const rules = policy.rules.filter((r) => r.protocol !== undefined);
  // A rule's two ends among the placed addresses: the same on every draw (the layout is complete
  // by now), so worked out once per rule rather than once per draw, which cost a scan of every
  // address against the rule's networks each time. No random number is drawn here, so a seed
  // gives the same packets as before.
  const ends = new Map<(typeof rules)[number], { locals: string[]; remotes: string[] }>();
  const endsOf = (r: (typeof rules)[number]) => {
    let e = ends.get(r);
    if (!e) {
      const cls = policy.deviceClasses.find((c) => c.id === r.deviceClass)!;
      const locals = (layout.classAddresses.get(r.deviceClass) ?? []).filter((a) => contains([...cls.addresses.ipv4, ...cls.addresses.ipv6], a));
      const set = pinned(policy, r);
      const outside = edges([...set.ipv4, ...set.ipv6][0] ?? '0.0.0.0/32').outside;
      const remotes = addresses.filter((a) => contains([...set.ipv4, ...set.ipv6], a) || outside.includes(a));
      ends.set(r, (e = { locals, remotes }));
    }
    return e;
  };
  for (let tries = 0; probes.size < count && tries < count * 20; tries++) {
    const proto: Probe['proto'] = rand() < 0.02 ? 'icmp' : rand() < 0.5 ? 'tcp' : 'udp';
    if (rules.length > 0 && rand() < 0.5) {
      const r = pick(rules);
      const { locals, remotes } = endsOf(r);
      if (locals.length === 0 || remotes.length === 0) continue;
      const range = r.ports.length > 0 ? pick(r.ports) : { from: 1, to: 65535 };
      const port = rand() < 0.8 ? range.from + Math.floor(rand() * (range.to - range.from + 1)) : pick(portList);
      const [l, o] = [pick(locals), pick(remotes)];
      const [s, d] = r.direction === 'outbound' ? [l, o] : [o, l];
      add(r.protocol === 'icmp' ? 'icmp' : rand() < 0.9 ? r.protocol! : proto, s, d, Math.max(1, port), `shaped like ${r.id}`);
      continue;
    }
    add(proto, pick(addresses), pick(addresses), rand() < 0.7 ? pick(portList) : 1 + Math.floor(rand() * 65535), 'random');
  }
  return { layout, probes: [...probes.values()] };
}
