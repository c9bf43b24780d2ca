import { hostOrCidr } from '../policy/addresses';
import { formatPort } from '../policy/ports';
import type { Policy, Rule } from '../policy/types';
import { commentLine, oneLine, psArray, psString } from './escape';
import { classesWithRules, WINDOWS_HOSTS, Diagnostics, headerLines, ipRemote, isEmpty, programOnly, ruleSummary } from './common';
import type { Target } from './types';

export interface WindowsOptions {
  group: string;
  profiles: string[];
}

interface PsRule {
  /** Parameter lines of one New-NetFirewallRule call, each already quoted. */
  params: string[];
}

export interface WindowsView {
  header: string[];
  group: string;
  rules: PsRule[];
  leftOut: string[];
}

const NATIVE_HINT = 'Windows can follow names itself with dynamic keyword addresses (New-NetFirewallDynamicKeywordAddress -AutoResolve).';
const REMOTE_ADDRESS_MAX = 1000; // New-NetFirewallRule takes at most 1000 remote addresses per rule
const PROTOCOL: Record<string, string> = { tcp: 'TCP', udp: 'UDP', icmp: 'ICMPv4' };

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function ruleCalls(policy: Policy, rule: Rule, o: WindowsOptions, diags: Diagnostics, leftOut: string[]): PsRule[] {
  const direction = rule.direction === 'inbound' ? 'Inbound' : 'Outbound';
  const name = `fwgen-${policy.profile.name}-${rule.id}`;
  const display = `fwgen ${rule.vendorName}: ${rule.serviceName} (${rule.direction}${rule.protocol ? ` ${rule.protocol}` : ''})`;
  const common = [
    `-DisplayName ${psString(oneLine(display))}`,
    `-Group ${psString(o.group)}`,
    `-Direction ${direction}`,
    '-Action Allow',
    `-Profile ${psString(o.profiles.join(', '))}`,
    `-Description ${psString(ruleSummary(rule))}`,
  ];
  if (programOnly(rule)) {
    return rule.programs.map((program, i) => ({
      params: [`-Name ${psString(rule.programs.length > 1 ? `${name}.${i + 1}` : name)}`, ...common, `-Program ${psString(program)}`],
    }));
  }
  const remote = ipRemote(policy, rule, diags, NATIVE_HINT);
  if (remote.leftOut.length > 0) leftOut.push(`${rule.id}: ${remote.leftOut.join(', ')}`);
  if (isEmpty(remote.addresses)) return [];
  const addresses = [...remote.addresses.ipv4, ...remote.addresses.ipv6].map(hostOrCidr);
  const protocol = [`-Protocol ${PROTOCOL[rule.protocol!]}`];
  const ports =
    rule.protocol === 'icmp' ? [] : [`${rule.direction === 'inbound' ? '-LocalPort' : '-RemotePort'} ${psArray(rule.ports.map((p) => formatPort(p)))}`];
  const parts = chunk(addresses, REMOTE_ADDRESS_MAX);
  return parts.map((part, i) => ({
    params: [
      `-Name ${psString(parts.length > 1 ? `${name}.part${i + 1}` : name)}`,
      ...common,
      ...protocol,
      ...ports,
      `-RemoteAddress ${psArray(part)}`,
      ...rule.programs.map((p) => `-Program ${psString(p)}`),
    ],
  }));
}

function build(policy: Policy, o: WindowsOptions, deviceClass: string, diags: Diagnostics): WindowsView {
  const rules: PsRule[] = [];
  const leftOut: string[] = [];
  for (const rule of policy.rules.filter((r) => r.deviceClass === deviceClass)) rules.push(...ruleCalls(policy, rule, o, diags, leftOut));
  const header = headerLines(policy, windows.id, [
    `Holds: the Windows Firewall rules of device class ${deviceClass}.`,
    `Apply (elevated PowerShell): .\\${deviceClass}.ps1 ; dry run: .\\${deviceClass}.ps1 -WhatIf`,
    `Idempotent: it first removes every rule of group '${o.group}' and only those, then creates them again.`,
  ]).map((l) => `# ${commentLine(l)}`);
  return { header, group: psString(o.group), rules, leftOut: leftOut.map((l) => `# left out ${commentLine(l)}`) };
}

export const windows: Target<WindowsOptions, WindowsView> = {
  id: 'windows',
  describe: 'one idempotent PowerShell script per device class, rules replaced as a group',
  apply: 'run the script elevated (-WhatIf for a dry run); or feed the same values to win_firewall_rule',
  options: {
    group: { describe: 'the rule group fwgen owns and replaces', default: (p: Policy) => `fwgen ${p.profile.name}` },
    profiles: { describe: 'Windows Firewall profiles the rules apply in', default: ['Any'] },
  },
  files: (policy) => classesWithRules(policy, WINDOWS_HOSTS).map((c) => ({ path: `${c}.ps1`, template: 'rules.ps1.hbs', scope: c })),
  check(policy, o) {
    const diags = new Diagnostics(windows.id);
    for (const c of classesWithRules(policy, WINDOWS_HOSTS)) build(policy, o, c, diags);
    return diags.list();
  },
  view: (policy, o, file) => build(policy, o, file.scope, new Diagnostics(windows.id)),
};
