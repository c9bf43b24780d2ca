import type { Family } from '../net/addresses';
import type { Policy, Rule } from '../policy/types';
import type { Diagnostics } from './diagnostics';
import { FAMILIES, ipRemote, isEmpty } from './remote-addresses';
import { programOnly } from './rule-selection';

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
      diags.programsLeftOut(policy, rule);
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
