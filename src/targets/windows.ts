import { createHash } from 'node:crypto';
import { hostOrCidr, type Family } from '../net/addresses';
import { formatPort } from '../net/ports';
import type { Policy, Rule } from '../policy/types';
import { commentLine, oneLine, psArray, psString } from './escape';
import { Diagnostics } from './diagnostics';
import { allowEmptyOption, refuseEmpty, refuseNoFiles } from './empty-output';
import { headerLines, ruleSummary } from './header';
import { FAMILIES, ipRemote, isEmpty } from './remote-addresses';
import { classesWithRules, programOnly, WINDOWS_HOSTS } from './rule-selection';
import type { Target } from './types';
import { append } from '../util/append';

export interface WindowsOptions {
  group: string;
  profiles: string[];
  dynamicKeywords: boolean;
  policy: 'drop' | 'accept';
  allowEmpty: boolean;
}

interface PsRule {
  /** Parameter lines of one New-NetFirewallRule call, each already quoted. */
  params: string[];
}

/** A dynamic keyword address Windows resolves itself; the id is stable for a profile and name. */
interface Keyword {
  id: string;
  keyword: string;
}

export interface WindowsView {
  header: string[];
  group: string;
  keywords: Keyword[];
  rules: PsRule[];
  leftOut: string[];
  /** With policy drop: the profiles whose default actions become Block, quoted. */
  blockProfiles?: string;
}

/** Set-NetFirewallProfile names profiles one by one; New-NetFirewallRule's 'Any' means all three. */
export function profileNames(o: WindowsOptions): string[] {
  return o.profiles.includes('Any') ? ['Domain', 'Private', 'Public'] : [...o.profiles].sort();
}

function hint(o: WindowsOptions): string {
  return o.dynamicKeywords
    ? 'Outbound rules follow names through dynamic keyword addresses; inbound ones need the pinned addresses.'
    : 'Set dynamicKeywords: true for this target to let Windows resolve names itself (New-NetFirewallDynamicKeywordAddress -AutoResolve).';
}

/** A name-based GUID (RFC 4122 layout, version 5 bits) so re-running the script reuses the same ids. */
function keywordId(profile: string, name: string): string {
  const h = createHash('sha256').update(`fwgen|${profile}|${name}`).digest('hex').split('');
  h[12] = '5';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const x = h.join('');
  return `{${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}}`;
}
const REMOTE_ADDRESS_MAX = 1000; // New-NetFirewallRule takes at most 1000 remote addresses per rule
const PROTOCOL: Record<string, string> = { tcp: 'TCP', udp: 'UDP' };
/** Windows matches ICMP per family: ICMPv4 for IPv4 remotes, ICMPv6 for IPv6 ones. */
const ICMP: Record<Family, string> = { ipv4: 'ICMPv4', ipv6: 'ICMPv6' };

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function ruleCalls(policy: Policy, rule: Rule, o: WindowsOptions, diags: Diagnostics, leftOut: string[], keywords: Map<string, Keyword>): PsRule[] {
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
  const icmp = rule.protocol === 'icmp';
  const protocolParams = icmp ? [] : [`-Protocol ${PROTOCOL[rule.protocol!]}`];
  const portParams =
    rule.protocol === 'icmp' ? [] : [`${rule.direction === 'inbound' ? '-LocalPort' : '-RemotePort'} ${psArray(rule.ports.map((p) => formatPort(p)))}`];
  const calls: PsRule[] = [];
  let pinned = rule;
  if (o.dynamicKeywords && rule.direction === 'outbound' && rule.remote.names.length > 0) {
    const ids = rule.remote.names.map((name) => {
      const k = keywords.get(name) ?? { id: keywordId(policy.profile.name, name), keyword: name };
      keywords.set(name, k);
      return k.id;
    });
    // A name may answer in both families, so an ICMP rule on names is made for each.
    for (const [suffix, protocol] of icmp ? FAMILIES.map((f) => [`.${ICMP[f].toLowerCase()}`, [`-Protocol ${ICMP[f]}`]] as const) : [['', protocolParams] as const]) {
      calls.push({
        params: [`-Name ${psString(`${name}.keywords${suffix}`)}`, ...common, ...protocol, ...portParams, `-RemoteDynamicKeywordAddresses ${psArray(ids)}`],
      });
    }
    pinned = { ...rule, remote: { ...rule.remote, names: [] } };
    if (isEmpty(rule.remote.addresses)) return calls;
  }
  const remote = ipRemote(policy, pinned, diags, hint(o));
  if (remote.leftOut.length > 0) leftOut.push(`${rule.id}: ${remote.leftOut.join(', ')}`);
  if (isEmpty(remote.addresses)) return calls;
  const families = FAMILIES.filter((f) => remote.addresses[f].length > 0);
  const groups = icmp
    ? families.map((f) => ({ suffix: families.length > 1 ? `.${ICMP[f].toLowerCase()}` : '', protocol: [`-Protocol ${ICMP[f]}`], addresses: remote.addresses[f] }))
    : [{ suffix: '', protocol: protocolParams, addresses: [...remote.addresses.ipv4, ...remote.addresses.ipv6] }];
  for (const g of groups) {
    const parts = chunk(g.addresses.map(hostOrCidr), REMOTE_ADDRESS_MAX);
    append(
      calls,
      parts.map((part, i) => ({
        params: [
          `-Name ${psString(`${name}${g.suffix}${parts.length > 1 ? `.part${i + 1}` : ''}`)}`,
          ...common,
          ...g.protocol,
          ...portParams,
          `-RemoteAddress ${psArray(part)}`,
          ...rule.programs.map((p) => `-Program ${psString(p)}`),
        ],
      })),
    );
  }
  return calls;
}

function build(policy: Policy, o: WindowsOptions, deviceClass: string, diags: Diagnostics): WindowsView {
  const rules: PsRule[] = [];
  const leftOut: string[] = [];
  const keywords = new Map<string, Keyword>();
  const classRules = policy.rules.filter((r) => r.deviceClass === deviceClass);
  for (const rule of classRules) append(rules, ruleCalls(policy, rule, o, diags, leftOut, keywords));
  refuseEmpty(diags, windows.id, o.allowEmpty, `windows ${deviceClass}.ps1`, rules.length, o.policy === 'drop' ? 'block all traffic of the host but what other rules allow' : 'add nothing');
  const profiles = profileNames(o);
  const outbound = rules.length > 0 && classRules.some((r) => r.direction === 'outbound');
  const policyLines =
    o.policy === 'drop'
      ? [
          `Policy drop: after creating the rules it sets DefaultInboundAction and DefaultOutboundAction to Block (and turns the firewall on)`,
          `for the profiles ${profiles.join(', ')}, so traffic no enabled rule allows is blocked. Windows' own enabled rules (Core Networking:`,
          'DHCP, the DNS client, IPv6 neighbour discovery) and rules of other groups still allow what they allow. Loopback is never filtered.',
          `Undo (back to Windows' defaults): Set-NetFirewallProfile -Profile ${profiles.join(',')} -DefaultInboundAction Block -DefaultOutboundAction Allow`,
        ]
      : [
          'Policy accept: the default actions of the profiles are left as they are.',
          ...(outbound
            ? [`WARNING: with Windows' default DefaultOutboundAction Allow the outbound Allow rules below restrict nothing; set targets.windows.policy: drop to enforce them.`]
            : []),
        ];
  if (o.policy === 'accept' && outbound) {
    diags.add('warning', `${deviceClass}.ps1: policy accept leaves DefaultOutboundAction as it is (Allow by default), so its outbound Allow rules restrict nothing; set targets.windows.policy: drop to enforce them`);
  }
  const header = headerLines(policy, windows.id, [
    `Holds: the Windows Firewall rules of device class ${deviceClass}.`,
    `Apply (elevated PowerShell): .\\${deviceClass}.ps1 ; dry run: .\\${deviceClass}.ps1 -WhatIf`,
    `Idempotent: it first removes every rule of group '${o.group}' and only those, then creates them again.`,
    ...policyLines,
    ...(keywords.size > 0
      ? [
          'Dynamic keyword addresses (outbound rules follow host names, wildcards too) need Windows 10/11 or Windows Server 2022,',
          'build 20348 or later, with Microsoft Defender network protection on (Set-MpPreference -EnableNetworkProtection Enabled).',
        ]
      : []),
  ]).map((l) => `# ${commentLine(l)}`);
  const kw = [...keywords.values()].sort((a, b) => a.keyword.localeCompare(b.keyword)).map((k) => ({ id: psString(k.id), keyword: psString(k.keyword) }));
  return {
    header,
    group: psString(o.group),
    keywords: kw,
    rules,
    leftOut: leftOut.map((l) => `# left out ${commentLine(l)}`),
    ...(o.policy === 'drop' ? { blockProfiles: psArray(profiles) } : {}),
  };
}

/** Which part of the policy a Windows script holds: the rules of one device class. */
export interface WindowsScope {
  deviceClass: string;
}

export const windows: Target<WindowsOptions, WindowsView, WindowsScope> = {
  id: 'windows',
  describe: 'one idempotent PowerShell script per device class, rules replaced as a group',
  apply: 'run the script elevated (-WhatIf for a dry run); or feed the same values to win_firewall_rule',
  options: {
    group: { describe: 'the rule group fwgen owns and replaces', default: (p: Policy) => `fwgen ${p.profile.name}` },
    profiles: { describe: 'Windows Firewall profiles the rules apply in', default: ['Any'] },
    dynamicKeywords: { describe: 'outbound rules match host names through dynamic keyword addresses Windows resolves itself', default: false },
    policy: { describe: 'drop: the script sets the default inbound and outbound action of its profiles to Block; accept: it leaves them (outbound rules then restrict nothing)', default: 'drop' },
    allowEmpty: allowEmptyOption,
  },
  files: (policy) => classesWithRules(policy, WINDOWS_HOSTS).map((deviceClass) => ({ path: `${deviceClass}.ps1`, template: 'rules.ps1.hbs', scope: { deviceClass } })),
  check(policy, o) {
    const diags = new Diagnostics(windows.id);
    const classes = classesWithRules(policy, WINDOWS_HOSTS);
    for (const c of classes) build(policy, o, c, diags);
    // Said once per render, as policy accept is: blocking every other outbound connection is the bigger surprise.
    if (o.policy === 'drop' && classes.length > 0) {
      diags.add(
        'warning',
        `policy drop: ${classes.map((c) => `${c}.ps1`).join(', ')} ${classes.length === 1 ? 'sets' : 'set'} DefaultInboundAction and DefaultOutboundAction to Block for the profiles ${profileNames(o).join(', ')}, so traffic in and out that no enabled rule allows is blocked (Windows' own enabled rules and other groups' keep working); set targets.windows.policy: accept to leave the defaults alone`,
      );
    }
    if (classes.length === 0) refuseNoFiles(diags, policy, windows.id, o.allowEmpty, 'no device class with rules runs Windows');
    return diags.list();
  },
  view: (policy, o, { scope }) => build(policy, o, scope.deviceClass, new Diagnostics(windows.id)),
};
