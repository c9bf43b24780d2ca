import { isCidrError, parseCidr, type Cidr } from '../net/addresses';
import type { NameInfo, Policy, Protocol, Rule } from '../policy/types';
import { indexOfList, type AddressIndex } from './address-index';

/**
 * Which rules of the policy (the IR, before any target) admit a connection, as the site's
 * firewalls enforce it. At a gateway a packet of the site's classes passes when one rule allows
 * it (an outbound rule of its source's class or an inbound rule of its destination's); traffic
 * of no class is not the site's and passes. On hosts every class filters its own traffic, so a
 * packet between two classes needs the sender's outbound rule and the receiver's inbound rule.
 *
 * An end may be a device class (its addresses), a host name (the lock's addresses, and the
 * rules naming it) or an address. A class or name with several addresses is answered for each
 * pair of addresses; the verdict is allow only when every pair is allowed.
 */

export type Mode = 'host' | 'gateway';

export interface Endpoint {
  /** The address or network (canonical CIDR); absent for a name the lock holds no address for. */
  cidr?: string;
  /** The device class the address belongs to. */
  cls?: string;
  /** The host name the address stands for. */
  name?: string;
}

export interface ResolvedEnd {
  given: string;
  kind: 'class' | 'name' | 'address';
  endpoints: Endpoint[];
  /** A name: what the lock says about it. */
  lock?: NameInfo;
}

export interface PairAnswer {
  src: Endpoint;
  dst: Endpoint;
  allowed: boolean;
  /** The rules that allow it (one per side that needs one), or none. */
  rules: Rule[];
  /** Why, in words: which side lacks a rule, or that the traffic is not the site's. */
  reason: string;
}

export interface PolicyAnswer {
  verdict: 'allow' | 'drop';
  mode: Mode;
  pairs: PairAnswer[];
  /** The deciding rules of every allowed pair, once each. */
  rules: Rule[];
  uncertain: string[];
}

export class QueryInputError extends Error {}

function cidr(text: string): Cidr {
  const c = parseCidr(text);
  if (isCidrError(c)) throw new QueryInputError(c.error);
  return c;
}

/** A policy's lists are frozen and shared: each is indexed once. */
function networks(list: readonly string[]): AddressIndex {
  return indexOfList(list, cidr);
}

function coveredBy(list: readonly string[], c: Cidr): boolean {
  return networks(list).covers(c);
}

function within(set: { ipv4: readonly string[]; ipv6: readonly string[] }, c: Cidr): boolean {
  return coveredBy(c.family === 'ipv4' ? set.ipv4 : set.ipv6, c);
}

/** Parses every network of the policy once: what a query does at start-up, before its answer. */
export function preparePolicy(policy: Policy): void {
  for (const r of policy.rules) networks(r.remote.addresses.ipv4), networks(r.remote.addresses.ipv6);
  for (const c of policy.deviceClasses) networks(c.addresses.ipv4), networks(c.addresses.ipv6);
  for (const n of policy.names.values()) if (n.addresses) networks(n.addresses.ipv4), networks(n.addresses.ipv6);
}

function classOf(policy: Policy, c: Cidr): string | undefined {
  return policy.deviceClasses.find((k) => within(k.addresses, c))?.id;
}

/** A name matches a rule's name exactly, or falls under its wildcard ("*.x" holds every name under x). */
export function nameCovers(ruleName: string, name: string): boolean {
  const a = ruleName.toLowerCase();
  const b = name.toLowerCase().replace(/\.$/, '');
  return a === b || (a.startsWith('*.') && b.endsWith(a.slice(1)));
}

/** What --from / --to stands for: a class id, an address or network, or a host name. */
export function resolveEnd(policy: Policy, given: string): ResolvedEnd {
  const cls = policy.deviceClasses.find((c) => c.id === given);
  if (cls) {
    return { given, kind: 'class', endpoints: [...cls.addresses.ipv4, ...cls.addresses.ipv6].map((a) => ({ cidr: a, cls: cls.id })) };
  }
  const asAddress = parseCidr(given);
  if (!isCidrError(asAddress)) return { given, kind: 'address', endpoints: [{ cidr: asAddress.text, cls: classOf(policy, asAddress) }] };
  if (/^[0-9.]+(\/\d+)?$/.test(given) || given.includes(':')) throw new QueryInputError(`'${given}': ${asAddress.error}`);
  if (!/^[a-z0-9*]([a-z0-9.*-]*[a-z0-9])?\.?$/i.test(given)) {
    throw new QueryInputError(`'${given}' is neither a device class of ${policy.profile.name} (${policy.deviceClasses.map((c) => c.id).join(', ')}), an address, nor a host name`);
  }
  const name = given.toLowerCase().replace(/\.$/, '');
  const lock = policy.names.get(name);
  if (!lock && !policy.rules.some((r) => r.remote.names.some((n) => nameCovers(n, name)))) {
    throw new QueryInputError(
      `'${given}' is neither a device class of ${policy.profile.name} (${policy.deviceClasses.map((c) => c.id).join(', ')}), an address, nor a host name its rules name`,
    );
  }
  const addrs = lock?.addresses ? [...lock.addresses.ipv4, ...lock.addresses.ipv6] : [];
  const endpoints: Endpoint[] = addrs.map((a) => ({ cidr: a, name, cls: classOf(policy, cidr(a)) }));
  return { given, kind: 'name', endpoints: endpoints.length > 0 ? endpoints : [{ name }], lock };
}

function portOk(rule: Rule, protocol: Protocol, port: number | undefined): boolean {
  if (rule.protocol !== protocol) return false;
  if (protocol === 'icmp') return true;
  return port !== undefined && rule.ports.some((r) => port >= r.from && port <= r.to);
}

/** The other end of a rule: its literal networks and peers, the lock's addresses of its exact names, or the name itself. */
function remoteHas(policy: Policy, rule: Rule, e: Endpoint): boolean {
  if (e.name !== undefined && rule.remote.names.some((n) => nameCovers(n, e.name!))) return true;
  if (e.cidr === undefined) return false;
  const c = cidr(e.cidr);
  if (within(rule.remote.addresses, c)) return true;
  return rule.remote.names.some((n) => {
    const info = policy.names.get(n);
    return info !== undefined && !info.wildcard && info.addresses !== undefined && within(info.addresses, c);
  });
}

function ruleAllows(policy: Policy, rule: Rule, src: Endpoint, dst: Endpoint, protocol: Protocol, port: number | undefined): boolean {
  if (!portOk(rule, protocol, port)) return false;
  return rule.direction === 'outbound' ? src.cls === rule.deviceClass && remoteHas(policy, rule, dst) : dst.cls === rule.deviceClass && remoteHas(policy, rule, src);
}

function familyOf(e: Endpoint): 4 | 6 | undefined {
  return e.cidr === undefined ? undefined : e.cidr.includes(':') ? 6 : 4;
}

export function answerFromPolicy(policy: Policy, from: ResolvedEnd, to: ResolvedEnd, protocol: Protocol, port: number | undefined, mode: Mode): PolicyAnswer {
  const pairs: PairAnswer[] = [];
  const uncertain: string[] = [];
  for (const src of from.endpoints) {
    for (const dst of to.endpoints) {
      const fs = familyOf(src);
      const fd = familyOf(dst);
      if (fs !== undefined && fd !== undefined && fs !== fd) continue;
      pairs.push(pairAnswer(policy, src, dst, protocol, port, mode));
    }
  }
  if (pairs.length === 0) throw new QueryInputError(`${from.given} and ${to.given} have no address of the same family`);
  for (const end of [from, to]) {
    for (const e of end.endpoints) {
      if (e.cidr !== undefined || e.cls !== undefined) continue;
      uncertain.push(`${e.name} has no address in the lock${end.lock?.wildcard ? ' (a wildcard)' : ''}: only rules that name it are matched`);
    }
    if (end.lock?.stale) uncertain.push(`the lock's addresses for ${end.given} are from an earlier lookup: ${end.lock.stale}`);
  }
  // An address may be one of a wildcard's names, which no lock pins: say so where it would matter.
  for (const p of pairs.filter((x) => !x.allowed)) {
    for (const [local, remote, dir] of [[p.src, p.dst, 'outbound'], [p.dst, p.src, 'inbound']] as const) {
      if (local.cls === undefined || remote.name !== undefined) continue;
      const wild = policy.rules.filter((r) => r.deviceClass === local.cls && r.direction === dir && portOk(r, protocol, port) && r.remote.names.some((n) => n.startsWith('*.')));
      for (const r of wild) {
        const text = `${r.id} allows ${r.remote.names.filter((n) => n.startsWith('*.')).join(', ')}: whether ${remote.cidr} is one of those names is not known here`;
        if (!uncertain.includes(text)) uncertain.push(text);
      }
    }
  }
  const rules = [...new Set(pairs.filter((p) => p.allowed).flatMap((p) => p.rules))];
  return { verdict: pairs.every((p) => p.allowed) ? 'allow' : 'drop', mode, pairs, rules, uncertain };
}

function pairAnswer(policy: Policy, src: Endpoint, dst: Endpoint, protocol: Protocol, port: number | undefined, mode: Mode): PairAnswer {
  const outRule = src.cls === undefined ? undefined : policy.rules.find((r) => r.direction === 'outbound' && ruleAllows(policy, r, src, dst, protocol, port));
  const inRule = dst.cls === undefined ? undefined : policy.rules.find((r) => r.direction === 'inbound' && ruleAllows(policy, r, src, dst, protocol, port));
  const base = { src, dst };
  if (src.cls === undefined && dst.cls === undefined) {
    return { ...base, allowed: true, rules: [], reason: 'neither end is in a device class of the site: not its traffic, no rule of the policy filters it' };
  }
  if (mode === 'gateway') {
    const rule = outRule ?? inRule;
    if (rule) return { ...base, allowed: true, rules: [rule], reason: `allowed by ${rule.id}` };
    return { ...base, allowed: false, rules: [], reason: `no rule allows it; the gateway drops what the site's classes are not allowed` };
  }
  const missing: string[] = [];
  if (src.cls !== undefined && !outRule) missing.push(`no outbound rule of ${src.cls} allows it (its host drops it)`);
  if (dst.cls !== undefined && !inRule) missing.push(`no inbound rule of ${dst.cls} allows it (its host drops it)`);
  const rules = [outRule, inRule].filter((r): r is Rule => r !== undefined);
  if (missing.length > 0) return { ...base, allowed: false, rules: [], reason: missing.join('; ') };
  return { ...base, allowed: true, rules, reason: `allowed by ${rules.map((r) => r.id).join(' and ')}` };
}
