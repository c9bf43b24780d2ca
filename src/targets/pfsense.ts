import { createHash } from 'node:crypto';
import { hostOrCidr, type Family } from '../net/addresses';
import { formatPort, type PortRange } from '../net/ports';
import type { Policy, Rule } from '../policy/types';
import { identifier, pfsenseDescr, xml, xmlComment } from './escape';
import { Diagnostics } from './diagnostics';
import { allowEmptyOption, refuseEmpty } from './empty-output';
import { headerLines } from './header';
import { LOW_TTL } from './remote-addresses';
import { programOnly } from './rule-selection';
import { sharedBuild } from './shared-build';
import type { Target } from './types';

export interface PfsenseOptions {
  interface: string;
  wanInterface: string;
  aliasPrefix: string;
  trackerBase: number;
  allowEmpty: boolean;
}

interface AliasView {
  name: string;
  type: 'host' | 'network' | 'port';
  address: string;
  descr: string;
  detail: string;
}

interface EndView {
  address: string;
  port?: string;
}

interface RuleView {
  tracker: number;
  interface: string;
  ipprotocol: string;
  protocol: string;
  source: EndView;
  destination: EndView;
  descr: string;
}

export interface PfsenseView {
  header: string[];
  aliases: AliasView[];
  rules: RuleView[];
}

const ALIAS_NAME_MAX = 31; // pfSense wants alias names shorter than 32 characters

/** Alias names: [A-Za-z0-9_], under 32 characters, never a bare service name (ours always hold "_"). */
class AliasBook {
  readonly aliases: AliasView[] = [];
  private readonly byContent = new Map<string, string>();

  constructor(private readonly prefix: string) {}

  add(base: string, type: AliasView['type'], entries: Array<{ value: string; detail: string }>, descr: string): string {
    const key = `${type}|${entries.map((e) => e.value).join(' ')}`;
    const known = this.byContent.get(key);
    if (known) return known;
    const stem = identifier(`${this.prefix}_${base}`);
    let name = stem.slice(0, ALIAS_NAME_MAX);
    for (let n = 2; this.aliases.some((a) => a.name === name); n++) name = `${stem.slice(0, ALIAS_NAME_MAX - String(n).length - 1)}_${n}`;
    this.aliases.push({
      name,
      type,
      address: entries.map((e) => xml(e.value)).join(' '),
      descr: pfsenseDescr(descr),
      detail: entries.map((e) => pfsenseDescr(e.detail.replace(/\|/g, '/'), 100)).join('||'),
    });
    this.byContent.set(key, name);
    return name;
  }
}

function tracker(base: number, key: string, used: Set<number>): number {
  let n = base + (createHash('sha256').update(key).digest().readUInt32BE(0) % 100_000_000);
  while (used.has(n)) n++;
  used.add(n);
  return n;
}

function portField(ports: PortRange[], rule: Rule, aliases: AliasBook): string {
  if (ports.length === 1) return formatPort(ports[0]!);
  const entries = ports.map((p) => ({ value: formatPort(p, ':'), detail: `${rule.vendor} ${rule.service}` }));
  return aliases.add(`p_${rule.vendor}_${rule.service}`, 'port', entries, `${rule.vendorName}: ${rule.serviceName} ports`);
}

function buildOnce(policy: Policy, o: PfsenseOptions, _scope: string | undefined, diags: Diagnostics): PfsenseView {
  const aliases = new AliasBook(o.aliasPrefix);
  const classes = new Map(policy.deviceClasses.map((c) => [c.id, c]));
  const used = new Set<number>();
  const classAlias = (id: string): string => {
    const c = classes.get(id)!;
    const entries = [...c.addresses.ipv4, ...c.addresses.ipv6].map((a) => ({ value: hostOrCidr(a), detail: `device class ${c.id}` }));
    return aliases.add(`c_${c.id}`, entries.some((e) => e.value.includes('/')) ? 'network' : 'host', entries, `fwgen device class ${c.name}`);
  };
  const merged = new Map<string, { rule: Rule; protocols: Set<string>; view: Omit<RuleView, 'tracker' | 'protocol' | 'descr'> }>();

  for (const rule of policy.rules) {
    if (rule.direction === 'inbound' && rule.remote.peers.length > 0) continue; // its outbound mirror matches the same traffic
    if (programOnly(rule)) {
      diags.programsLeftOut(rule);
      continue;
    }
    const local = classes.get(rule.deviceClass)!;
    const entries: Array<{ value: string; detail: string }> = [];
    const families = new Set<Family>();
    if (rule.remote.peers.length === 0) {
      for (const fam of ['ipv4', 'ipv6'] as Family[]) {
        for (const a of rule.remote.addresses[fam]) {
          entries.push({ value: hostOrCidr(a), detail: rule.remote.lists.length ? `list ${rule.remote.lists.join(',')}` : `${rule.vendor} ${rule.service}` });
          families.add(fam);
        }
      }
    }
    for (const name of rule.remote.names) {
      const info = policy.names.get(name)!;
      if (info.wildcard) {
        diags.add('warning', `${name}: pfSense cannot resolve a wildcard name in an alias; left out. Allow the parent name's hosts one by one, or use a proxy that filters by SNI.`, rule);
        continue;
      }
      const ttl = Math.min(info.ttl ?? Infinity, info.maxTtl ?? Infinity);
      if (ttl < LOW_TTL) {
        diags.add('warning', `${name}: its DNS answers live ${ttl} s but pfSense re-resolves FQDN aliases every 300 s by default; lower System > Advanced > Firewall & NAT > Aliases Hostnames Resolve Interval.`, rule);
      }
      entries.push({ value: name, detail: `${rule.vendor} ${rule.service} (FQDN, re-resolved by pfSense)` });
      families.add('ipv4');
      families.add('ipv6');
    }
    const peer = rule.remote.peers[0];
    if (peer !== undefined) {
      for (const fam of ['ipv4', 'ipv6'] as Family[]) if (rule.remote.addresses[fam].length > 0) families.add(fam);
    }
    if (entries.length === 0 && peer === undefined) {
      diags.add('warning', `${rule.id}: nothing left to match at the other end; rule left out`, rule);
      continue;
    }
    const localFamilies = (['ipv4', 'ipv6'] as Family[]).filter((f) => local.addresses[f].length > 0 && families.has(f));
    if (localFamilies.length === 0) continue;
    const ipprotocol = localFamilies.length === 2 ? 'inet46' : localFamilies[0] === 'ipv4' ? 'inet' : 'inet6';
    const remoteAlias =
      peer !== undefined
        ? classAlias(peer)
        : aliases.add(`${rule.vendor}_${rule.service}`, entries.some((e) => e.value.includes('/')) ? 'network' : 'host', entries, `${rule.vendorName}: ${rule.serviceName}`);
    const localAlias = classAlias(local.id);
    const port = rule.protocol === 'icmp' ? undefined : portField(rule.ports, rule, aliases);
    const outbound = rule.direction === 'outbound';
    const view = {
      interface: xml(outbound ? o.interface : o.wanInterface),
      ipprotocol,
      source: { address: outbound ? localAlias : remoteAlias },
      destination: { address: outbound ? remoteAlias : localAlias, port },
    };
    // tcp and udp halves of one flow become one tcp/udp rule, as pfSense writes it.
    const key = JSON.stringify([view.interface, view.ipprotocol, view.source, view.destination]);
    const existing = merged.get(key);
    if (existing && rule.protocol !== 'icmp') existing.protocols.add(rule.protocol!);
    else merged.set(existing ? `${key}|icmp` : key, { rule, protocols: new Set([rule.protocol!]), view });
  }

  const rules: RuleView[] = [...merged.entries()].map(([key, m]) => {
    const protos = [...m.protocols].sort();
    const protocol = protos.length === 2 && protos.includes('tcp') && protos.includes('udp') ? 'tcp/udp' : protos[0]!;
    // Described after the merge, so a tcp/udp rule does not carry its tcp half's id.
    const o0 = m.rule.origins[0]!.loc;
    const descr = pfsenseDescr(`${m.rule.vendor}/${m.rule.service} ${m.rule.deviceClass} ${m.rule.direction} ${protocol} (${o0.file}:${o0.line})`);
    return { ...m.view, protocol, descr, tracker: tracker(o.trackerBase, `${policy.profile.name}|${key}`, used) };
  });

  const empty = [
    ...(aliases.aliases.length === 0 ? ['aliases'] : []),
    ...(rules.length === 0 ? ['filter'] : []),
  ];
  const header = headerLines(policy, pfsense.id, [
    ...(empty.length > 0
      // Named without angle brackets: pfSense looks for the tag anywhere in the file, comments included.
      ? [`This file has no ${empty.join(' and no ')} section: it holds nothing for it, and pfSense refuses to restore an area whose section is missing instead of emptying it.`]
      : []),
    'Apply: Diagnostics > Backup & Restore > Restore, area "Aliases" with this file, then area "Firewall Rules".',
    'Restoring an area REPLACES that whole section on the firewall: every alias, or every rule, that is not in this file is removed.',
    'After the restore, LAN traffic from the device classes that these rules do not pass meets pfSense\'s default deny.',
    `Inbound rules sit on ${o.wanInterface}, outbound ones on ${o.interface}.`,
  ]).map(xmlComment);
  return { header, aliases: [...aliases.aliases].sort((a, b) => a.name.localeCompare(b.name)), rules };
}

const build = sharedBuild('pfsense', buildOnce);

export const pfsense: Target<PfsenseOptions, PfsenseView> = {
  id: 'pfsense',
  describe: 'one config.xml fragment with <aliases> and <filter> for Diagnostics > Backup & Restore',
  apply: 'Diagnostics > Backup & Restore, area Aliases then Firewall Rules (replaces those sections)',
  options: {
    interface: { describe: 'pfSense interface the device classes sit behind (outbound rules)', default: 'lan' },
    wanInterface: { describe: 'pfSense interface inbound vendor traffic arrives on', default: 'wan' },
    aliasPrefix: { describe: 'prefix of fwgen\'s alias names', default: 'fwgen' },
    trackerBase: { describe: 'lowest rule tracker number; trackers are derived from the rule and stable', default: 1_700_000_000 },
    allowEmpty: allowEmptyOption,
  },
  files: () => [{ path: 'config.xml', template: 'config.xml.hbs', scope: 'all' }],
  check(policy, o) {
    const diags = new Diagnostics(pfsense.id);
    const view = build(policy, o, undefined, diags);
    refuseEmpty(diags, pfsense.id, o.allowEmpty, 'pfsense config.xml', view.rules.length, 'empty the Firewall Rules of pfSense when restored');
    return diags.list();
  },
  view: (policy, o) => build(policy, o, undefined, new Diagnostics(pfsense.id)),
};
