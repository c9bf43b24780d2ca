import * as path from 'node:path';
import { formatLocation } from '../errors';
import { parseKnown, toAddressSet, type AddressSet, type Family } from '../net/addresses';
import type { Policy, Rule } from '../policy/types';
import { commentLine } from './escape';
import type { Diagnostic, OptionSpec } from './types';

/** Below this TTL (seconds) pinned addresses go stale between two renders. */
export const LOW_TTL = 300;

export const FAMILIES: Family[] = ['ipv4', 'ipv6'];

/** Diagnostics deduplicated by message, in the order first seen. */
export class Diagnostics {
  private readonly seen = new Map<string, Diagnostic>();

  constructor(private readonly target: string) {}

  add(severity: Diagnostic['severity'], message: string, rule?: Rule): void {
    this.keep({ severity, target: this.target, message, loc: rule?.origins[0]?.loc });
  }

  /** Adds what another list of the same target said, as if it had been said here. */
  addAll(list: Diagnostic[]): void {
    for (const d of list) this.keep(d);
  }

  private keep(d: Diagnostic): void {
    const key = `${d.severity}|${d.message}|${d.loc ? formatLocation(d.loc) : ''}`;
    if (!this.seen.has(key)) this.seen.set(key, d);
  }

  list(): Diagnostic[] {
    return [...this.seen.values()];
  }
}

type Build<O, B> = (policy: Policy, o: O, scope: string | undefined, diags: Diagnostics) => B;

/**
 * One build per policy, options and scope: files(), check() and view() all ask for it, and
 * a build reads every rule's addresses. What the build said is kept and added to each
 * caller's diagnostics, so they come out as if it had been built again. A policy is not
 * changed once built, so the policy object itself is the key.
 */
export function sharedBuild<O, B>(target: string, build: Build<O, B>): Build<O, B> {
  const cache = new WeakMap<Policy, Map<string, { built: B; diagnostics: Diagnostic[] }>>();
  return (policy, o, scope, diags) => {
    let byKey = cache.get(policy);
    if (!byKey) cache.set(policy, (byKey = new Map()));
    const key = `${scope ?? ''}\u0000${JSON.stringify(o)}`;
    let hit = byKey.get(key);
    if (!hit) {
      const own = new Diagnostics(target);
      hit = { built: build(policy, o, scope, own), diagnostics: own.list() };
      byKey.set(key, hit);
    }
    diags.addAll(hit.diagnostics);
    return hit.built;
  };
}

/** What the other end of a rule comes to for a target that matches addresses only. */
export interface IpRemote {
  addresses: AddressSet;
  /** Why parts of the rule were left out, for a comment beside it. */
  leftOut: string[];
}

/**
 * The other end of a rule as addresses: literal networks plus the addresses the lock file
 * pinned for its names. Names that cannot be pinned (wildcards) or are not in the lock
 * are left out and reported; they never widen the rule.
 */
export function ipRemote(policy: Policy, rule: Rule, diags: Diagnostics, nativeHint: string, namesFollowed = false): IpRemote {
  const parts = [rule.remote.addresses];
  const leftOut: string[] = [];
  for (const name of rule.remote.names) {
    const info = policy.names.get(name)!;
    if (info.wildcard && namesFollowed) continue; // a DNS-fed set holds what the wildcard resolves to
    if (info.wildcard) {
      diags.add('warning', `${name}: a wildcard name cannot be pinned to addresses; left out. ${nativeHint}`, rule);
      leftOut.push(`${name} (wildcard)`);
      continue;
    }
    if (!info.addresses) {
      const where = policy.lockFile ? `the lock file ${policy.lockFile} does not hold it` : 'the profile has no lock file';
      if (policy.allowUnresolved) diags.add('warning', `${name} has no addresses: ${where}; its rule is left out`, rule);
      else diags.add('error', `${name} has no addresses: ${where}. Run fwgen resolve, or render with --allow-unresolved to leave such rules out`, rule);
      leftOut.push(`${name} (unresolved)`);
      continue;
    }
    if (info.stale) diags.add('warning', `${name}: its addresses are stale (${info.stale}); run fwgen resolve`, rule);
    const ttl = Math.min(info.ttl ?? Infinity, info.maxTtl ?? Infinity);
    if (ttl < LOW_TTL) {
      diags.add('warning', `${name}: its DNS answers live ${ttl} s; pinned addresses go stale before the next render. ${nativeHint}`, rule);
    }
    parts.push(info.addresses);
  }
  // The rule's own networks are aggregated already when the policy is built (and frozen: shared, not copied).
  if (parts.length === 1) return { addresses: rule.remote.addresses, leftOut };
  return { addresses: withNames(rule, parts), leftOut };
}

/**
 * A rule's networks and its names' pinned addresses, aggregated together once per rule:
 * every target asks, and the answer depends only on the rule and the lock (wildcards and
 * unpinned names add nothing, whichever target asks).
 */
const mergedRemotes = new WeakMap<Rule, AddressSet>();

function withNames(rule: Rule, parts: AddressSet[]): AddressSet {
  let merged = mergedRemotes.get(rule);
  if (!merged) {
    merged = toAddressSet(parseKnown(parts.flatMap((p) => [...p.ipv4, ...p.ipv6])));
    mergedRemotes.set(rule, merged);
  }
  return merged;
}

export function isEmpty(set: AddressSet): boolean {
  return set.ipv4.length === 0 && set.ipv6.length === 0;
}

/** A program-only rule (the vendor names an application, not traffic): Windows alone can hold it. */
export function programOnly(rule: Rule): boolean {
  return rule.protocol === undefined;
}

/** What a rule is and where it came from, before per-format escaping: "id (file:line)". */
export function ruleSummary(rule: Rule): string {
  const o = rule.origins[0]!;
  return `${rule.id} (${o.loc.file}:${o.loc.line})`;
}

/** Option values for one target: the profile's, else the defaults. */
export function resolveOptions<O>(spec: OptionSpec<O>, given: Record<string, unknown> | undefined, policy: Policy): O {
  const out: Record<string, unknown> = {};
  for (const [key, info] of Object.entries(spec) as Array<[string, { default: unknown }]>) {
    const value = given?.[key];
    out[key] = value !== undefined ? value : typeof info.default === 'function' ? (info.default as (p: Policy) => unknown)(policy) : info.default;
  }
  return out as O;
}

/** The lines every generated file starts with (the target adds its comment syntax). */
export function headerLines(policy: Policy, targetId: string, apply: string[]): string[] {
  return [
    `Generated by fwgen (target ${targetId}) from profile ${policy.profile.name} (${policy.profile.file}).`,
    'Do not edit: change the profile or the catalog and render again.',
    `Sources: ${policy.vendors.map((v) => `${v.id}: ${v.citation}`).join('; ') || 'none'}.`,
    `Addresses for host names: ${policy.lockFile ? `pinned in ${path.basename(policy.lockFile)}` : 'none pinned (no lock file); rules that need them are left out'}.`,
    ...apply,
  ];
}

/** Device classes that have rules, optionally only those whose devices run one of `systems`. */
export function classesWithRules(policy: Policy, systems?: string[]): string[] {
  return policy.deviceClasses
    .filter((c) => !systems || systems.includes(c.os))
    .map((c) => c.id)
    .filter((id) => policy.rules.some((r) => r.deviceClass === id));
}

/** Host firewalls on Linux (iptables, nftables) make sense only where the device can run them. */
export const LINUX_HOSTS = ['linux', 'any'];


export const WINDOWS_HOSTS = ['windows', 'any'];

export type Mode = 'host' | 'gateway';

/** A rule narrowed to one address family, with the addresses an IP-only target matches. */
export interface FamilyRule {
  rule: Rule;
  family: Family;
  remote: string[];
  /** The device class's own addresses (gateway mode); empty in host mode. */
  local: string[];
}

export interface LeftOut {
  rule: Rule;
  reason: string;
}

/** A rule whose names a DNS-aware companion (dnsmasq) follows into sets at run time. */
export interface DnsRule {
  rule: Rule;
  family: Family;
  /** The device class's own addresses (gateway mode); empty in host mode. */
  local: string[];
  /** The wildcard names dnsmasq follows; the rule's exact names are pinned from the lock. */
  names: string[];
}

/**
 * The rules of one host (a device class) or of a gateway, split by family, ready for an
 * IP-only target. In gateway mode a rule between two device classes appears once: its
 * mirror (the other class's inbound half) matches the same packets.
 */
export function expandForIp(
  policy: Policy,
  mode: Mode,
  deviceClass: string | undefined,
  diags: Diagnostics,
  nativeHint: string,
  namesFollowed = false,
): { rules: FamilyRule[]; leftOut: LeftOut[]; dnsRules: DnsRule[]; pinned: string[] } {
  const rules: FamilyRule[] = [];
  const pinned = new Set<string>();
  const leftOut: LeftOut[] = [];
  const dnsRules: DnsRule[] = [];
  const classes = new Map(policy.deviceClasses.map((c) => [c.id, c]));
  for (const rule of policy.rules) {
    if (deviceClass !== undefined && rule.deviceClass !== deviceClass) continue;
    if (mode === 'gateway' && rule.direction === 'inbound' && rule.remote.peers.length > 0) continue;
    if (programOnly(rule)) {
      diags.add('warning', `${rule.vendor}/${rule.service}: allowing programs (${rule.programs.join(', ')}) needs a program-aware firewall; left out here, rendered for Windows`, rule);
      leftOut.push({ rule, reason: `program rule (${rule.programs.join(', ')}): Windows only` });
      continue;
    }
    const wildcards = rule.remote.names.filter((n) => policy.names.get(n)!.wildcard);
    if (namesFollowed && wildcards.length > 0) {
      for (const family of FAMILIES) {
        const local = mode === 'gateway' ? classes.get(rule.deviceClass)!.addresses[family] : [];
        if (mode === 'gateway' && local.length === 0) continue;
        dnsRules.push({ rule, family, local, names: wildcards });
      }
    }
    const remote = ipRemote(policy, rule, diags, nativeHint, namesFollowed);
    for (const n of rule.remote.names) if (!policy.names.get(n)!.wildcard && policy.names.get(n)!.addresses) pinned.add(n);
    if (isEmpty(remote.addresses)) {
      if (remote.leftOut.length > 0 || !namesFollowed || wildcards.length === 0) leftOut.push({ rule, reason: `no addresses to match: ${remote.leftOut.join(', ')}` });
      continue;
    }
    for (const family of FAMILIES) {
      if (remote.addresses[family].length === 0) continue;
      const local = mode === 'gateway' ? classes.get(rule.deviceClass)!.addresses[family] : [];
      if (mode === 'gateway' && local.length === 0) continue;
      rules.push({ rule, family, remote: remote.addresses[family], local });
    }
    if (remote.leftOut.length > 0) leftOut.push({ rule, reason: `partly: ${remote.leftOut.join(', ')}` });
  }
  return { rules, leftOut, dnsRules, pinned: [...pinned].sort() };
}

/**
 * With a dnsmasq companion, exact names are still pinned: a companion line for them would
 * admit every subdomain. The rules file and a warning say so, with the names.
 */
export function pinnedNote(pinned: string[], dnsmasq: boolean, diags: Diagnostics): string[] {
  if (!dnsmasq || pinned.length === 0) return [];
  const text = `exact host names are matched by the addresses pinned in the lock, not followed by the dnsmasq companion (its line for a name admits every name under it too): ${pinned.join(', ')}; run fwgen resolve and render again when they move`;
  diags.add('warning', text);
  return [`Names: ${text}.`];
}

/**
 * What a dnsmasq companion says: for each wildcard, the sets its answers go into.
 *
 * dnsmasq 2.90 matches an ipset=/nftset= domain as that name and every name under it (its
 * subdomains-only form /*.x/ works for --server and --address, not for sets: such a line
 * fills nothing). So exact names are never followed (a line for them would admit every
 * subdomain too); they are pinned from the lock. A wildcard *.x becomes /x/, which also
 * admits x itself: exact only when the catalog lists x beside *.x, else a warning says so.
 */
export class CompanionDomains {
  private readonly sets = new Map<string, Set<string>>();
  /** Domains whose line admits the apex the catalog did not name. */
  readonly apexWidened = new Set<string>();

  add(rule: Rule, names: string[], set: string, diags: Diagnostics): void {
    for (const name of names) {
      if (!name.startsWith('*.')) continue;
      const domain = name.slice(2);
      if (!rule.remote.names.includes(domain)) {
        this.apexWidened.add(domain);
        diags.add('warning', `${name}: the dnsmasq companion line /${domain}/ also admits ${domain} itself (dnsmasq 2.90 cannot fill a set from subdomains only); list ${domain} in the catalog if it is meant, or use pfSense or AWS Network Firewall for an exact match`, rule);
      }
      if (!this.sets.has(domain)) this.sets.set(domain, new Set());
      this.sets.get(domain)!.add(set);
    }
  }

  get size(): number {
    return this.sets.size;
  }

  /** One line per domain, `directive=/domain/set,set`, sorted. */
  lines(directive: 'nftset' | 'ipset'): string[] {
    return [...this.sets.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([d, sets]) => `${directive}=/${d}/${[...sets].sort().join(',')}`);
  }

  /** The header lines that say what the lines admit beyond the catalog. */
  reach(): string[] {
    return [...this.apexWidened].sort().map((d) => `Reach wider than the catalog: /${d}/ also admits ${d} itself (the catalog names only *.${d}).`);
  }
}

/** The header of a dnsmasq companion file, as comment lines. */
export function companionHeader(policy: Policy, targetId: string, rulesFile: string, setsFile: string, domains: CompanionDomains): string[] {
  return headerLines(policy, targetId, [
    `A dnsmasq companion to ${rulesFile}: every answer dnsmasq gives for these wildcard names goes into fwgen's sets.`,
    'A line /example.com/ covers example.com and every name under it (dnsmasq 2.90 has no subdomains-only form for sets),',
    'so only wildcards *.example.com are followed here. Exact names are not: a line for them would admit their subdomains too;',
    `their addresses are pinned from the lock file in ${rulesFile} instead (run fwgen resolve and render again when they move).`,
    ...domains.reach(),
    `Use: copy to /etc/dnsmasq.d/, make the devices use this dnsmasq as their resolver, and apply ${setsFile} first (it declares the sets).`,
    'Check: dnsmasq --test -C FILE.',
  ]).map((l) => `# ${commentLine(l)}`);
}

/** The hint for IP-only Linux targets, depending on whether the dnsmasq companion is written. */
export function linuxHint(dnsmasq: boolean): string {
  return dnsmasq
    ? 'The dnsmasq companion file follows wildcards only (a line for an exact name would admit its subdomains too): pin exact names from a fresh lock, or use pfSense FQDN aliases.'
    : 'Set dnsmasq: true for this target to have a dnsmasq companion follow it, or use pfSense FQDN aliases.';
}

/** All device-class addresses of the site, for gateway scoping. */
export function siteAddresses(policy: Policy): AddressSet {
  return toAddressSet(parseKnown(policy.deviceClasses.flatMap((c) => [...c.addresses.ipv4, ...c.addresses.ipv6])));
}

/** The option every target has: an output with no allow rule is refused unless the profile says it is meant. */
export const allowEmptyOption = {
  describe: 'accept an output that holds no allow rule (a selection that yields nothing, or whose rules were all left out); refused otherwise',
  default: false,
};

/**
 * A file that allows nothing, applied with a default drop, locks the devices out (or, for
 * pfSense, wipes the sections it restores). Left-out rules count as none.
 */
export function refuseEmpty(diags: Diagnostics, target: string, allowEmpty: boolean, what: string, allowRules: number, effect: string): void {
  if (allowRules > 0 || allowEmpty) return;
  diags.add('error', `${what} holds no allow rule (nothing selected for it, or every rule was left out); applying it would ${effect}. Set targets.${target}.allowEmpty: true in the profile if that is meant`);
}

export const unfilteredIpv6Option = {
  describe: 'gateway mode: forward the IPv6 traffic of device classes without IPv6 prefixes unfiltered (loudly); by default it is dropped on their interface',
  default: false,
};

/**
 * Gateway mode: a device class without IPv6 prefixes cannot be matched by address, so its
 * IPv6 is dropped on its interface (after the accept rules, so classes with prefixes on the
 * same interface keep what they are allowed). Without an interface there is nothing to match
 * it by: an error, unless the profile turns the drop off, which is then said out loud.
 * Returns the interfaces to drop forwarded IPv6 on, sorted.
 */
export function ipv6DropInterfaces(policy: Policy, target: string, unfiltered: boolean, diags: Diagnostics): { interfaces: string[]; header: string[] } {
  const bare = policy.deviceClasses.filter((c) => c.addresses.ipv6.length === 0);
  if (bare.length === 0) return { interfaces: [], header: [] };
  const ids = bare.map((c) => c.id).join(', ');
  if (unfiltered) {
    const text = `IPv6 of device classes without IPv6 prefixes (${ids}) is forwarded UNFILTERED: targets.${target}.unfilteredIpv6 is true`;
    diags.add('warning', text);
    return { interfaces: [], header: [`WARNING: ${text}.`] };
  }
  for (const c of bare.filter((x) => x.interface === undefined)) {
    diags.add('error', `device class ${c.id} has no IPv6 prefixes and no interface, so its IPv6 cannot be told apart and would be forwarded unfiltered; give it its IPv6 prefixes or its interface in the profile, or set targets.${target}.unfilteredIpv6: true`);
  }
  const interfaces = [...new Set(bare.flatMap((c) => (c.interface ? [c.interface] : [])))].sort();
  return {
    interfaces,
    header: interfaces.length ? [`IPv6: device classes without IPv6 prefixes (${ids}) have their forwarded IPv6 dropped on ${interfaces.join(', ')}.`] : [],
  };
}

/**
 * A target with no file to write: an error when the selection yields no rule at all, a
 * warning when the rules are for devices this target does not fit (Windows-only, say).
 */
export function refuseNoFiles(diags: Diagnostics, policy: Policy, target: string, allowEmpty: boolean, why: string): void {
  if (allowEmpty) return;
  if (policy.rules.length === 0) refuseEmpty(diags, target, false, `the ${target} output`, 0, 'leave the devices without the flows the profile is for');
  else diags.add('warning', `nothing to write for ${target}: ${why}`);
}
