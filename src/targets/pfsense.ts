import { createHash } from 'node:crypto';
import { hostOrCidr, type AddressSet, type Family } from '../net/addresses';
import { formatPort, type PortRange } from '../net/ports';
import type { Policy, Rule } from '../policy/types';
import { identifier, pfsenseText, xml, xmlComment } from './escape';
import { Diagnostics } from './diagnostics';
import { allowEmptyOption, refuseEmpty } from './empty-output';
import { headerLines } from './header';
import { aliasNamePrefix, ownerMark } from './pfsense-identity';
import { LOW_TTL, siteAddresses } from './remote-addresses';
import { programOnly } from './rule-selection';
import { sharedBuild } from './shared-build';
import type { Target } from './types';

export interface PfsenseOptions {
  interface: string;
  wanInterface: string;
  aliasPrefix: string;
  trackerBase: number;
  unclassified: 'drop' | 'accept';
  allowEmpty: boolean;
}

/** An alias as data, its text plain (not yet XML): address and detail hold one entry each, space- and ||-separated as pfSense keeps them. */
export interface PfsenseAlias {
  name: string;
  type: 'host' | 'network' | 'port';
  address: string;
  descr: string;
  detail: string;
}

interface EndView {
  /** An alias name; absent for any address. */
  address?: string;
  /** Every address but the alias's. */
  not?: boolean;
  port?: string;
}

/** A pass rule as data, its text plain (not yet XML). */
export interface PfsenseRule {
  tracker: number;
  type: 'pass' | 'block';
  interface: string;
  ipprotocol: string;
  /** Absent for any protocol. */
  protocol?: string;
  source: EndView;
  destination: EndView;
  descr: string;
  /** Where the rule comes from (catalog or profile file:line), for a comment beside it: not in its identity. */
  from?: string;
}

/** What the pfSense target builds: config.xml is its XML rendering, and the Ansible vars read it as data. */
export interface PfsenseBuild {
  header: string[];
  aliases: PfsenseAlias[];
  rules: PfsenseRule[];
  /** The pass rules among them (what there is to allow). */
  passRules: number;
}

/** The same, every text escaped for XML. */
export type PfsenseView = PfsenseBuild;

const ALIAS_NAME_MAX = 31; // pfSense wants alias names shorter than 32 characters

/**
 * Alias names: [A-Za-z0-9_], under 32 characters, never a bare service name (ours always hold "_").
 * Names start with the site's prefix and descriptions with its mark (pfsense-identity.ts).
 */
class AliasBook {
  readonly aliases: PfsenseAlias[] = [];
  private readonly byContent = new Map<string, string>();

  constructor(
    private readonly prefix: string,
    private readonly mark: string,
  ) {}

  add(base: string, type: PfsenseAlias['type'], entries: Array<{ value: string; detail: string }>, descr: string): string {
    const key = `${type}|${entries.map((e) => e.value).join(' ')}`;
    const known = this.byContent.get(key);
    if (known) return known;
    const stem = identifier(`${this.prefix}${base}`);
    let name = stem.slice(0, ALIAS_NAME_MAX);
    for (let n = 2; this.aliases.some((a) => a.name === name); n++) name = `${stem.slice(0, ALIAS_NAME_MAX - String(n).length - 1)}_${n}`;
    this.aliases.push({
      name,
      type,
      address: entries.map((e) => e.value).join(' '),
      descr: pfsenseText(`${this.mark}${descr}`),
      detail: entries.map((e) => pfsenseText(e.detail.replace(/\|/g, '/'), 100)).join('||'),
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

function portField(ports: readonly PortRange[], rule: Rule, aliases: AliasBook): string {
  if (ports.length === 1) return formatPort(ports[0]!);
  const entries = ports.map((p) => ({ value: formatPort(p, ':'), detail: `${rule.vendor} ${rule.service}` }));
  return aliases.add(`p_${rule.vendor}_${rule.service}`, 'port', entries, `${rule.vendorName}: ${rule.serviceName} ports`);
}

function buildOnce(policy: Policy, o: PfsenseOptions, _key: undefined, diags: Diagnostics): PfsenseBuild {
  const aliases = new AliasBook(aliasNamePrefix(o.aliasPrefix, policy.profile.name), ownerMark(policy.profile.name));
  const classes = new Map(policy.deviceClasses.map((c) => [c.id, c]));
  const used = new Set<number>();
  const addressAlias = (base: string, set: AddressSet, detail: string, descr: string): string => {
    const entries = [...set.ipv4, ...set.ipv6].map((a) => ({ value: hostOrCidr(a), detail }));
    return aliases.add(base, entries.some((e) => e.value.includes('/')) ? 'network' : 'host', entries, descr);
  };
  const classAlias = (id: string): string => {
    const c = classes.get(id)!;
    return addressAlias(`c_${c.id}`, c.addresses, `device class ${c.id}`, `device class ${c.name}`);
  };
  const merged = new Map<string, { rule: Rule; protocols: Set<string>; view: Omit<PfsenseRule, 'tracker' | 'type' | 'protocol' | 'descr'> }>();

  for (const rule of policy.rules) {
    if (rule.direction === 'inbound' && rule.remote.peers.length > 0) continue; // its outbound mirror matches the same traffic
    if (programOnly(rule)) {
      diags.programsLeftOut(policy, rule);
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
      interface: outbound ? o.interface : o.wanInterface,
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

  const descrs = new Set<string>();
  const rules: PfsenseRule[] = [...merged.entries()].map(([key, m]) => {
    const protos = [...m.protocols].sort();
    const protocol = protos.length === 2 && protos.includes('tcp') && protos.includes('udp') ? 'tcp/udp' : protos[0]!;
    // Described after the merge, so a tcp/udp rule does not carry its tcp half's id. The
    // description is the rule's identity on the firewall: the site and what the rule is, no
    // file position (a line shift must not rename it), numbered when two rules would share it.
    const what = `${ownerMark(policy.profile.name)}${m.rule.vendor}/${m.rule.service} ${m.rule.deviceClass} ${m.rule.direction} ${protocol}`;
    let descr = pfsenseText(what);
    for (let n = 2; descrs.has(descr); n++) descr = `${pfsenseText(what, 200 - ` #${n}`.length)} #${n}`;
    descrs.add(descr);
    const from = [...new Set(m.rule.origins.map((x) => `${x.loc.file}:${x.loc.line}`))].join(', ');
    return { ...m.view, type: 'pass' as const, protocol, descr, from, tracker: tracker(o.trackerBase, `${policy.profile.name}|${key}`, used) };
  });
  const passRules = rules.length;
  // Nothing to pass: no block rule either, so an empty filter is still left out (see the header).
  if (passRules > 0) {
    const block = unclassifiedBlock(policy, o, addressAlias, used, diags);
    if (block) rules.push(block);
  }

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
    ...(passRules === 0
      ? []
      : o.unclassified === 'drop'
        ? [`The last rule on ${o.interface} blocks sources in no device class, both families, whatever rules are added after it.`]
        : [`WARNING: sources on ${o.interface} in no device class are not blocked by these rules (targets.pfsense.unclassified: accept).`]),
    `A device class address arriving on another interface is dropped by pfSense's own anti-spoofing when it lies in ${o.interface}'s subnet.`,
  ]).map(xmlComment);
  return { header, aliases: [...aliases.aliases].sort((a, b) => a.name.localeCompare(b.name)), rules, passRules };
}

/**
 * A block rule for sources on the LAN interface that are in no device class, after every pass
 * rule (pfSense applies an interface's rules in order, first match wins): a device must not
 * escape its class's rules by taking another address, nor reach what the rules an admin adds
 * later pass. Both families: an IPv6 source is blocked unless a class holds it.
 */
function unclassifiedBlock(policy: Policy, o: PfsenseOptions, addressAlias: (base: string, set: AddressSet, detail: string, descr: string) => string, used: Set<number>, diags: Diagnostics): PfsenseRule | undefined {
  if (o.unclassified === 'accept') {
    diags.add('warning', `sources on ${o.interface} in no device class are not blocked (targets.pfsense.unclassified: accept): a device outside the classes, or a class device with another address, is left to the rules after fwgen's`);
    return undefined;
  }
  const alias = addressAlias('site_classes', siteAddresses(policy), 'a device class of the site', 'every device class of the site');
  return {
    tracker: tracker(o.trackerBase, `${policy.profile.name}|block unclassified|${o.interface}`, used),
    type: 'block',
    interface: o.interface,
    ipprotocol: 'inet46',
    source: { address: alias, not: true },
    destination: {},
    descr: pfsenseText(`${ownerMark(policy.profile.name)}block sources on ${o.interface} in no device class`),
  };
}

const build = sharedBuild('pfsense', buildOnce);

/** The aliases and rules as data, for other targets (Ansible) to read. */
export function pfsenseBuild(policy: Policy, o: PfsenseOptions): PfsenseBuild {
  return build(policy, o, undefined, new Diagnostics(pfsense.id));
}

/** XML only here, at the edge. */
function xmlView(b: PfsenseBuild): PfsenseView {
  return {
    header: b.header,
    aliases: b.aliases.map((a) => ({ ...a, address: xml(a.address), descr: xml(a.descr), detail: xml(a.detail) })),
    rules: b.rules.map((r) => ({ ...r, interface: xml(r.interface), descr: xml(r.descr), ...(r.from ? { from: xmlComment(`from ${r.from}`) } : {}) })),
    passRules: b.passRules,
  };
}

/** pfSense restores one file, the whole policy's aliases and rules. */
export interface PfsenseScope {
  kind: 'config';
}

export const pfsense: Target<PfsenseOptions, PfsenseView, PfsenseScope> = {
  id: 'pfsense',
  describe: 'one config.xml fragment with <aliases> and <filter> for Diagnostics > Backup & Restore',
  apply: 'Diagnostics > Backup & Restore, area Aliases then Firewall Rules (replaces those sections)',
  options: {
    interface: { describe: 'pfSense interface the device classes sit behind (outbound rules)', default: 'lan' },
    wanInterface: { describe: 'pfSense interface inbound vendor traffic arrives on', default: 'wan' },
    aliasPrefix: { describe: 'prefix of fwgen\'s alias names; the site\'s tag follows it (fwgen_<site>_...)', default: 'fwgen' },
    trackerBase: { describe: 'lowest rule tracker number; trackers are derived from the rule and stable', default: 1_700_000_000 },
    unclassified: { describe: 'drop: a last rule on interface blocks sources in no device class; accept: no such rule (a warning)', default: 'drop' },
    allowEmpty: allowEmptyOption,
  },
  files: () => [{ path: 'config.xml', template: 'config.xml.hbs', scope: { kind: 'config' } }],
  check(policy, o) {
    const diags = new Diagnostics(pfsense.id);
    const view = build(policy, o, undefined, diags);
    refuseEmpty(diags, pfsense.id, o.allowEmpty, 'pfsense config.xml', view.passRules, 'empty the Firewall Rules of pfSense when restored');
    return diags.list();
  },
  view: (policy, o) => xmlView(pfsenseBuild(policy, o)),
};
