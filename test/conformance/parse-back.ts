import ipaddr from 'ipaddr.js';
import { XMLParser } from 'fast-xml-parser';
import type { Policy, Rule } from '../../src/policy/types';
import { psCommands } from './powershell';

/**
 * Reading rendered files back into what they allow, to compare with the policy IR.
 *
 * Both sides become a Coverage: for each (device class, direction, protocol, port range) the
 * addresses covered, as merged intervals per family, and the host names matched by name.
 * Comparing interval lists catches a missing, an extra or a widened rule alike, however the
 * target splits or merges its CIDRs.
 */

export type Coverage = Map<string, { v4: Array<[bigint, bigint]>; v6: Array<[bigint, bigint]>; names: Set<string>; programs: Set<string> }>;

function toBig(bytes: number[]): bigint {
  return bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

function interval(cidr: string): { family: 'v4' | 'v6'; range: [bigint, bigint] } {
  const text = cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`;
  const [addr, len] = ipaddr.parseCIDR(text);
  const bits = addr.kind() === 'ipv4' ? 32 : 128;
  const start = toBig(addr.toByteArray()) & ~((1n << BigInt(bits - len)) - 1n);
  return { family: addr.kind() === 'ipv4' ? 'v4' : 'v6', range: [start, start + (1n << BigInt(bits - len)) - 1n] };
}

function merge(list: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  const sorted = [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1n) last[1] = r[1] > last[1] ? r[1] : last[1];
    else out.push([r[0], r[1]]);
  }
  return out;
}

export class CoverageBuilder {
  readonly map: Coverage = new Map();

  private entry(key: string) {
    let e = this.map.get(key);
    if (!e) this.map.set(key, (e = { v4: [], v6: [], names: new Set(), programs: new Set() }));
    return e;
  }

  add(cls: string, direction: string, protocol: string, port: string, remote: { cidrs?: string[]; names?: string[]; programs?: readonly string[] }): void {
    const e = this.entry(`${cls} ${direction} ${protocol} ${port}`);
    for (const c of remote.cidrs ?? []) {
      const i = interval(c);
      e[i.family].push(i.range);
    }
    for (const n of remote.names ?? []) e.names.add(n);
    for (const p of remote.programs ?? []) e.programs.add(p);
  }

  /** A readable, comparable form: one line per key and kind of remote. */
  lines(): string[] {
    const out: string[] = [];
    for (const [key, e] of this.map) {
      for (const fam of ['v4', 'v6'] as const) {
        for (const [a, b] of merge(e[fam])) out.push(`${key} ${fam} ${a.toString(16)}-${b.toString(16)}`);
      }
      for (const n of e.names) out.push(`${key} name ${n}`);
      for (const p of e.programs) out.push(`${key} program ${p}`);
    }
    return out.sort();
  }
}

/** How a target matches a rule's host names. */
export type NameMode = 'pinned' | 'fqdn' | 'keywords';

const PORT_ANY = '-';

function portKeys(rule: Rule, sep = '-'): string[] {
  return rule.protocol === 'icmp' || rule.protocol === undefined ? [PORT_ANY] : rule.ports.map((p) => (p.from === p.to ? String(p.from) : `${p.from}${sep}${p.to}`));
}

/**
 * What the policy IR says a target should allow, read from the rules and the lock, not from
 * the target's code. `names`: how the target matches names for this rule; `families`: the
 * address families the target keeps for the class (pfSense drops a family the class lacks).
 */
export function expectedCoverage(
  policy: Policy,
  include: (rule: Rule) => boolean,
  names: (rule: Rule) => NameMode,
  families: (rule: Rule) => Array<'ipv4' | 'ipv6'> = () => ['ipv4', 'ipv6'],
  programs = false,
): CoverageBuilder {
  const cov = new CoverageBuilder();
  for (const rule of policy.rules.filter(include)) {
    if (rule.protocol === undefined) {
      if (programs) cov.add(rule.deviceClass, rule.direction, 'program', PORT_ANY, { programs: rule.programs });
      continue;
    }
    const fams = families(rule);
    const cidrs = fams.flatMap((f) => rule.remote.addresses[f]);
    const named: string[] = [];
    const mode = names(rule);
    for (const n of rule.remote.names) {
      const info = policy.names.get(n)!;
      if (mode === 'keywords') named.push(n);
      else if (info.wildcard) continue; // left out with a warning by every target that cannot follow it
      else if (mode === 'fqdn') named.push(n);
      else if (info.addresses) cidrs.push(...fams.flatMap((f) => info.addresses![f]));
    }
    if (cidrs.length === 0 && named.length === 0) continue;
    for (const port of portKeys(rule)) cov.add(rule.deviceClass, rule.direction, rule.protocol, port, { cidrs, names: named });
  }
  return cov;
}

/** pfSense config.xml → coverage. The class is the side whose alias holds a class's addresses. */
export function pfsenseCoverage(xml: string, policy: Policy): CoverageBuilder {
  const doc = new XMLParser({ isArray: (name) => ['alias', 'rule'].includes(name), parseTagValue: false }).parse(xml);
  const aliases = new Map<string, { type: string; entries: string[] }>();
  for (const a of doc.pfsense?.aliases?.alias ?? []) aliases.set(String(a.name), { type: String(a.type), entries: String(a.address).split(' ') });
  const classOf = (alias: string): string | undefined => {
    const entries = [...(aliases.get(alias)?.entries ?? [])].sort().join(' ');
    return policy.deviceClasses.find((c) => [...c.addresses.ipv4, ...c.addresses.ipv6].map(normal).sort().join(' ') === entries)?.id;
  };
  const cov = new CoverageBuilder();
  for (const r of doc.pfsense?.filter?.rule ?? []) {
    if (r.type !== 'pass') continue; // what the rules allow: see pfsenseBlocks for the rest
    const src = String(r.source.address);
    const dst = String(r.destination.address);
    const srcClass = classOf(src);
    const outbound = srcClass !== undefined;
    const cls = outbound ? srcClass! : classOf(dst)!;
    const remote = aliases.get(outbound ? dst : src)!;
    const fams = r.ipprotocol === 'inet46' ? ['4', '6'] : r.ipprotocol === 'inet' ? ['4'] : ['6'];
    const isAddress = (e: string) => ipaddr.isValid(e.split('/')[0]!);
    const cidrs = remote.entries.filter((e) => isAddress(e) && (e.includes(':') ? fams.includes('6') : fams.includes('4')));
    const names = remote.entries.filter((e) => !isAddress(e));
    const port = r.destination.port === undefined ? [PORT_ANY] : aliases.has(String(r.destination.port)) ? aliases.get(String(r.destination.port))!.entries.map((p) => p.replace(':', '-')) : [String(r.destination.port)];
    const protos = r.protocol === 'tcp/udp' ? ['tcp', 'udp'] : [String(r.protocol)];
    for (const proto of protos) for (const p of port) cov.add(cls, outbound ? 'outbound' : 'inbound', proto, p, { cidrs, names });
  }
  return cov;
}

/** The block rules of a pfSense config.xml, with their place among all rules and the addresses their source alias holds. */
export function pfsenseBlocks(xml: string): Array<{ index: number; rules: number; interface: string; ipprotocol: string; protocol?: string; source: { entries: string[]; not: boolean }; destination: Record<string, unknown> }> {
  const doc = new XMLParser({ isArray: (name) => ['alias', 'rule'].includes(name), parseTagValue: false }).parse(xml);
  const aliases = new Map<string, string[]>();
  for (const a of doc.pfsense?.aliases?.alias ?? []) aliases.set(String(a.name), String(a.address).split(' ').map(normal).sort());
  const rules: Array<Record<string, any>> = doc.pfsense?.filter?.rule ?? [];
  return rules.flatMap((r, index) =>
    r.type === 'block'
      ? [
          {
            index,
            rules: rules.length,
            interface: String(r.interface),
            ipprotocol: String(r.ipprotocol),
            ...(r.protocol !== undefined ? { protocol: String(r.protocol) } : {}),
            source: { entries: aliases.get(String(r.source.address)) ?? [], not: r.source.not !== undefined },
            destination: r.destination,
          },
        ]
      : [],
  );
}

function normal(a: string): string {
  return a.endsWith('/32') || a.endsWith('/128') ? a.replace(/\/\d+$/, '') : a;
}

const WIN_PROTOCOL: Record<string, string> = { TCP: 'tcp', UDP: 'udp', ICMPv4: 'icmp', ICMPv6: 'icmp' };

/** A Windows script → coverage for its class: addresses, dynamic keywords (as names) and programs. */
export async function windowsCoverage(script: string, cls: string, cov = new CoverageBuilder()): Promise<CoverageBuilder> {
  const commands = await psCommands(script);
  const keywords = new Map<string, string>();
  for (const c of commands.filter((x) => x.name === 'New-NetFirewallDynamicKeywordAddress')) keywords.set(c.params.Id![0]!, c.params.Keyword![0]!);
  for (const c of commands.filter((x) => x.name === 'New-NetFirewallRule')) {
    const direction = c.params.Direction![0] === 'Inbound' ? 'inbound' : 'outbound';
    if (c.params.Protocol === undefined) {
      cov.add(cls, direction, 'program', PORT_ANY, { programs: c.params.Program });
      continue;
    }
    const protocol = WIN_PROTOCOL[c.params.Protocol[0]!]!;
    const ports = c.params[direction === 'inbound' ? 'LocalPort' : 'RemotePort'] ?? [PORT_ANY];
    const cidrs = c.params.RemoteAddress ?? [];
    const names = (c.params.RemoteDynamicKeywordAddresses ?? []).map((id) => keywords.get(id) ?? `unknown keyword ${id}`);
    for (const p of ports) cov.add(cls, direction, protocol, p, { cidrs, names });
  }
  return cov;
}

interface AwsPermission {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: Array<{ CidrIp: string }>;
  Ipv6Ranges?: Array<{ CidrIpv6: string }>;
}

function awsPort(p: { IpProtocol: string; FromPort?: number; ToPort?: number }): string {
  if (p.IpProtocol === 'icmp') return PORT_ANY;
  return p.FromPort === p.ToPort ? String(p.FromPort) : `${p.FromPort}-${p.ToPort}`;
}

/** IpPermissions JSON of one class and direction → coverage. */
export function awsPermissionsCoverage(perms: AwsPermission[], cls: string, dir: 'ingress' | 'egress', cov = new CoverageBuilder()): CoverageBuilder {
  for (const p of perms) {
    const cidrs = [...(p.IpRanges ?? []).map((r) => r.CidrIp), ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6)];
    cov.add(cls, dir === 'ingress' ? 'inbound' : 'outbound', p.IpProtocol, awsPort(p), { cidrs });
  }
  return cov;
}

/** The CloudFormation template → coverage, the class read from its fwgen:device-class tag. */
export function cfnCoverage(template: any): CoverageBuilder {
  const cov = new CoverageBuilder();
  for (const res of Object.values<any>(template.Resources)) {
    const cls = res.Properties.Tags.find((t: any) => t.Key === 'fwgen:device-class').Value as string;
    for (const [prop, dir] of [['SecurityGroupIngress', 'inbound'], ['SecurityGroupEgress', 'outbound']] as const) {
      for (const e of res.Properties[prop] as any[]) {
        if (e.IpProtocol === '-1' && e.CidrIp === '127.0.0.1/32') continue; // the deny-all stand-in for an empty egress
        cov.add(cls, dir, e.IpProtocol, awsPort(e), { cidrs: [e.CidrIp ?? e.CidrIpv6] });
      }
    }
  }
  return cov;
}

/**
 * The Network Firewall rule group → (class, protocol, port, name) lines, from the Suricata
 * rules: a pass rule per name, sourced from the class's own IP set variable.
 */
export function networkFirewallNames(group: any, policy: Policy): string[] {
  const vars: Record<string, { Definition: string[] }> = group.RuleGroup.RuleVariables?.IPSets ?? {};
  const classOf = (v: string): string => {
    const def = [...(vars[v.slice(1)]?.Definition ?? [])].sort().join(' ');
    return policy.deviceClasses.find((c) => [...c.addresses.ipv4, ...c.addresses.ipv6].sort().join(' ') === def)?.id ?? v;
  };
  const out: string[] = [];
  for (const line of String(group.RuleGroup.RulesSource.RulesString).split('\n')) {
    const m = /^pass (tls|http) (\S+) any -> \$EXTERNAL_NET (\d+) \((?:tls\.sni|http\.host); content:"([^"]+)";(.*)\)$/.exec(line);
    if (!m) continue;
    const exact = m[5]!.includes('startswith;');
    const name = exact ? m[4]! : `*${m[4]!}`;
    out.push(`${classOf(m[2]!)} ${m[1]} ${m[3]} ${name}`);
  }
  return out.sort();
}

/** The same lines from the IR: outbound tcp rules with names, TLS where 443 is selected, HTTP where 80 is. */
export function expectedNetworkFirewallNames(policy: Policy): string[] {
  const out = new Set<string>();
  for (const rule of policy.rules) {
    if (rule.direction !== 'outbound' || rule.protocol !== 'tcp') continue;
    for (const [proto, port] of [['tls', 443], ['http', 80]] as const) {
      if (!rule.ports.some((p) => p.from <= port && port <= p.to)) continue;
      for (const n of rule.remote.names) out.add(`${rule.deviceClass} ${proto} ${port} ${n.toLowerCase()}`);
    }
  }
  return [...out].sort();
}
