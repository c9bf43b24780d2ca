import { ByList, type Family } from '../net/addresses';
import { formatPort } from '../net/ports';
import type { Policy } from '../policy/types';
import { commentLine, identifier, safeComment } from './escape';
import { Diagnostics } from './diagnostics';
import { CompanionDomains, companionHeader, linuxHint, pinnedNote } from './dnsmasq-companion';
import { allowEmptyOption, refuseEmpty, refuseNoFiles } from './empty-output';
import { type DnsRule, expandForIp, type FamilyRule, type Mode } from './expand-for-ip';
import { unfilteredIpv6Option } from './gateway-ipv6';
import { gatewayLan, type LanPlan } from './gateway-lan';
import { headerLines, ruleSummary } from './header';
import { siteAddresses } from './remote-addresses';
import { classesWithRules, LINUX_HOSTS } from './rule-selection';
import type { LinuxScope } from './linux-scope';
import { sharedBuild } from './shared-build';
import type { OutputFile, Target } from './types';
import { append } from '../util/append';

export interface NftOptions {
  mode: Mode;
  table: string;
  policy: 'drop' | 'accept';
  priority: number;
  dnsmasq: boolean;
  unfilteredIpv6: boolean;
  allowEmpty: boolean;
}

interface NftSet {
  name: string;
  type: string;
  flags: string;
  /** Sets filled by dnsmasq forget an address a day after its last answer. */
  timeout?: string;
  /**
   * A static set's elements, one a line, joined here (a set may hold a million: a string and
   * a template step per element made the largest outputs heavy). Absent for a dnsmasq set.
   */
  elements?: string;
}

/** The dnsmasq companion: which answers go into which of fwgen's sets. */
export interface DnsmasqView {
  header: string[];
  lines: string[];
}

interface NftChain {
  name: string;
  hook: string;
  priority: number;
  policy: string;
  lines: string[];
}

export interface NftView {
  header: string[];
  table: string;
  /** fwgen's chains, deleted before they are declared again (a hook or policy may change). */
  ownChains: string[];
  /** The static sets, deleted before they are declared again with exactly their new elements. */
  staticSets: Array<{ name: string; type: string; flags: string }>;
  sets: NftSet[];
  chains: NftChain[];
}

const COMMENT_MAX = 128; // nftables refuses longer comments
/** Between two set elements: a comma, then the next element on its own line, indented as in the template. */
const ELEMENT_SEPARATOR = ',\n\t\t\t';
const ADDR_TYPE: Record<Family, string> = { ipv4: 'ipv4_addr', ipv6: 'ipv6_addr' };
const MATCH: Record<Family, string> = { ipv4: 'ip', ipv6: 'ip6' };
const SUFFIX: Record<Family, string> = { ipv4: 'v4', ipv6: 'v6' };
const FAMILY_NAME: Record<Family, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };

/** Named sets, one per service and family (more if a service has several other ends), shared when equal. */
class SetBook {
  readonly sets: NftSet[] = [];
  private readonly names = new Set<string>();
  private readonly byContent = new ByList<string>();
  private readonly byNames = new Map<string, string>();

  ref(base: string, family: Family, elements: string[]): string {
    const known = this.byContent.get(family, elements);
    if (known) return `@${known}`;
    // The dns_ prefix belongs to the sets dnsmasq fills: a static set never takes it.
    const stem = identifier(base).replace(/^dns_/, 's_dns_');
    let name = `${stem}_${SUFFIX[family]}`;
    for (let n = 2; this.names.has(name); n++) name = `${stem}_${n}_${SUFFIX[family]}`;
    this.add({ name, type: ADDR_TYPE[family], flags: 'interval', elements: elements.join(ELEMENT_SEPARATOR) });
    this.byContent.set(family, elements, name);
    return `@${name}`;
  }

  private add(set: NftSet): void {
    this.sets.push(set);
    this.names.add(set.name);
  }

  /** An empty set that dnsmasq fills with the answers for the rule's names. */
  dns(base: string, family: Family, names: string[]): string {
    const key = `${family}|${names.join(',')}`;
    const known = this.byNames.get(key);
    if (known) return known;
    let name = `dns_${identifier(base)}_${SUFFIX[family]}`;
    for (let n = 2; this.names.has(name); n++) name = `dns_${identifier(base)}_${n}_${SUFFIX[family]}`;
    this.add({ name, type: ADDR_TYPE[family], flags: 'timeout', timeout: '1d' });
    this.byNames.set(key, name);
    return name;
  }
}

function portMatch(fr: FamilyRule): string {
  const { rule } = fr;
  if (rule.protocol === 'icmp') return fr.family === 'ipv4' ? 'meta l4proto icmp' : 'meta l4proto ipv6-icmp';
  const ports = rule.ports.map((p) => formatPort(p));
  return `${rule.protocol} dport ${ports.length === 1 ? ports[0] : `{ ${ports.join(', ')} }`}`;
}

function ruleLine(fr: FamilyRule, mode: Mode, sets: SetBook): string {
  const { rule, family } = fr;
  const m = MATCH[family];
  const base = rule.remote.peers.length > 0 ? `class_${rule.remote.peers.join('_')}` : `${rule.vendor}_${rule.service}`;
  const remote = sets.ref(base, family, fr.remote);
  const parts: string[] = [];
  if (mode === 'gateway') {
    const local = sets.ref(`class_${rule.deviceClass}`, family, fr.local);
    parts.push(rule.direction === 'outbound' ? `${m} saddr ${local} ${m} daddr ${remote}` : `${m} saddr ${remote} ${m} daddr ${local}`);
  } else {
    parts.push(rule.direction === 'outbound' ? `${m} daddr ${remote}` : `${m} saddr ${remote}`);
  }
  parts.push(portMatch(fr), 'accept', `comment "${safeComment(ruleSummary(rule), COMMENT_MAX)}"`);
  return parts.join(' ');
}

function dnsRuleLine(dr: DnsRule, mode: Mode, sets: SetBook, domains: CompanionDomains, table: string, diags: Diagnostics): string {
  const { rule, family } = dr;
  const m = MATCH[family];
  const set = sets.dns(`${rule.vendor}_${rule.service}`, family, dr.names);
  domains.add(rule, dr.names, `${family === 'ipv4' ? 4 : 6}#inet#${table}#${set}`, diags);
  const parts: string[] = [];
  if (mode === 'gateway') {
    const local = sets.ref(`class_${rule.deviceClass}`, family, dr.local);
    parts.push(rule.direction === 'outbound' ? `${m} saddr ${local} ${m} daddr @${set}` : `${m} saddr @${set} ${m} daddr ${local}`);
  } else {
    parts.push(rule.direction === 'outbound' ? `${m} daddr @${set}` : `${m} saddr @${set}`);
  }
  parts.push(portMatch({ rule, family, remote: [], local: [] }), 'accept', `comment "${safeComment(`${ruleSummary(rule)} names via dnsmasq`, COMMENT_MAX)}"`);
  return parts.join(' ');
}

/**
 * The gateway's LAN checks (see gateway-lan.ts): spoofed class sources, then the sources and
 * destinations on each LAN interface that are in no class. Their sets are named after the
 * ones the rules use when they hold the same addresses.
 */
function lanLines(lan: LanPlan, sets: SetBook): string[] {
  const lines: string[] = [];
  for (const l of lan.interfaces) {
    for (const family of ['ipv4', 'ipv6'] as Family[]) {
      if (l.bound[family].length === 0) continue;
      const ref = sets.ref(`bound_${l.name}`, family, l.bound[family]);
      lines.push(`iifname != "${l.name}" ${MATCH[family]} saddr ${ref} drop comment "fwgen: source of a device class on ${l.name} arriving on another interface (spoofed)"`);
    }
  }
  for (const l of lan.interfaces) {
    for (const family of ['ipv4', 'ipv6'] as Family[]) {
      if (!l.dropUnclassified[family]) continue;
      const m = MATCH[family];
      const known = l.classified[family];
      if (known.length === 0) {
        const name = FAMILY_NAME[family];
        lines.push(`iifname "${l.name}" meta nfproto ${family} drop comment "fwgen: ${name} source on ${l.name}, where no device class has ${name} addresses"`);
        lines.push(`oifname "${l.name}" meta nfproto ${family} drop comment "fwgen: ${name} destination on ${l.name}, where no device class has ${name} addresses"`);
        continue;
      }
      const ref = sets.ref(`known_${l.name}`, family, known);
      lines.push(`iifname "${l.name}" ${m} saddr != ${ref} drop comment "fwgen: source on ${l.name} in no device class"`);
      lines.push(`oifname "${l.name}" ${m} daddr != ${ref} drop comment "fwgen: destination on ${l.name} in no device class"`);
    }
  }
  return lines;
}

/** Which part of the policy an nftables file holds: its host's ruleset (both families in one), or the dnsmasq companion. */
export type NftScope = LinuxScope & { part: 'rules' | 'dnsmasq'; family?: undefined };

interface Built {
  nft: NftView;
  dnsmasq?: DnsmasqView;
  /** Accept rules from the policy (not counting conntrack, loopback, neighbour discovery). */
  allowRules: number;
}

/** Every chain fwgen may have declared in its table, in any mode. */
const OWN_CHAINS = ['forward', 'input', 'output'];

function buildOnce(policy: Policy, o: NftOptions, deviceClass: string | undefined, diags: Diagnostics): Built {
  const { rules, leftOut, dnsRules, pinned } = expandForIp(policy, o.mode, deviceClass, diags, linuxHint(o.dnsmasq), o.dnsmasq);
  const sets = new SetBook();
  const domains = new CompanionDomains();
  const chain = (name: string, hook: string, policyWord: string): NftChain => ({ name, hook, priority: o.priority, policy: policyWord, lines: [] });
  const chains: NftChain[] = [];
  const leftOutLines = leftOut.map((l) => `# left out ${l.rule.id}: ${commentLine(l.reason)}`);
  const names = pinnedNote(pinned, o.dnsmasq, diags);
  const lan = o.mode === 'gateway' ? gatewayLan(policy, nftables.id, o, diags) : undefined;

  if (o.mode === 'host') {
    const input = chain('input', 'input', o.policy);
    const output = chain('output', 'output', o.policy);
    for (const c of [input, output]) {
      c.lines.push('ct state established,related accept', 'ct state invalid drop');
      c.lines.push(c === input ? 'iif "lo" accept' : 'oif "lo" accept');
      // Without neighbour discovery a host with a drop policy loses IPv6 altogether.
      c.lines.push('meta l4proto ipv6-icmp icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept');
    }
    for (const fr of rules) (fr.rule.direction === 'inbound' ? input : output).lines.push(ruleLine(fr, o.mode, sets));
    for (const dr of dnsRules) (dr.rule.direction === 'inbound' ? input : output).lines.push(dnsRuleLine(dr, o.mode, sets, domains, o.table, diags));
    chains.push(input, output);
    append(output.lines, leftOutLines);
  } else {
    const forward = chain('forward', 'forward', 'accept');
    const allowed: string[] = [];
    for (const fr of rules) allowed.push(ruleLine(fr, o.mode, sets));
    for (const dr of dnsRules) allowed.push(dnsRuleLine(dr, o.mode, sets, domains, o.table, diags));
    const dropped: string[] = [];
    if (o.policy === 'drop') {
      // Everything else to or from the site's device classes stops here; other traffic is not ours to judge.
      const site = siteAddresses(policy);
      for (const family of ['ipv4', 'ipv6'] as Family[]) {
        if (site[family].length === 0) continue;
        const ref = sets.ref('site_classes', family, site[family]);
        dropped.push(`${MATCH[family]} saddr ${ref} drop comment "fwgen: not allowed for the site device classes"`);
        dropped.push(`${MATCH[family]} daddr ${ref} drop comment "fwgen: not allowed for the site device classes"`);
      }
      for (const ifname of lan!.ipv6Drop) {
        dropped.push(`meta nfproto ipv6 iifname "${ifname}" drop comment "fwgen: IPv6 of device classes without IPv6 prefixes"`);
        dropped.push(`meta nfproto ipv6 oifname "${ifname}" drop comment "fwgen: IPv6 of device classes without IPv6 prefixes"`);
      }
    }
    // First, before conntrack: a connection opened before this file was loaded is held to it too.
    append(forward.lines, [...lanLines(lan!, sets), 'ct state established,related accept', ...allowed, ...leftOutLines, ...dropped]);
    chains.push(forward);
  }

  const scopeText = deviceClass ? `device class ${deviceClass} (host mode: the firewall runs on the device)` : 'the gateway in front of the device classes (forward hook)';
  const header = headerLines(policy, nftables.id, [
    `Holds: ${scopeText}.`,
    `Apply: nft -f FILE, in one transaction; it touches nothing outside table inet ${o.table}.`,
    'Re-apply keeps the table: its chains and static sets are deleted and declared again (static sets hold exactly the',
    'elements below), while the dns_ sets are only declared, so what dnsmasq has put in them stays.',
    'A static set an earlier file declared and this one does not stays behind, unused by any rule.',
    `Check first: nft -c -f FILE. Remove: nft delete table inet ${o.table}.`,
    ...(lan ? [...lan.header, ...lan.ipv6Header] : []),
    ...names,
    o.policy === 'drop'
      ? o.mode === 'host'
        ? 'Policy drop: traffic this table does not allow is dropped on the hooks it registers.'
        : 'Policy drop: traffic to or from the site device classes that is not allowed is dropped; other traffic passes this table unless a LAN check drops it.'
      : o.mode === 'gateway'
        ? 'Policy accept: this table drops nothing but spoofed class sources; another table must drop what it does not accept.'
        : 'Policy accept: this table drops nothing; another table must drop what it does not accept.',
  ]).map((l) => `# ${commentLine(l)}`);

  const sorted = [...sets.sets].sort((a, b) => a.name.localeCompare(b.name));
  const staticSets = sorted.filter((x) => x.elements !== undefined).map(({ name, type, flags }) => ({ name, type, flags }));
  const nft = { header, table: o.table, ownChains: OWN_CHAINS, staticSets, sets: sorted, chains };
  const allowRules = rules.length + dnsRules.length;
  if (domains.size === 0) return { nft, allowRules };
  const file = deviceClass ? `${deviceClass}.nft` : `${o.table}.nft`;
  return { nft, allowRules, dnsmasq: { header: companionHeader(policy, nftables.id, file, file, domains), lines: domains.lines('nftset') } };
}

const build = sharedBuild('nftables', buildOnce);

export const nftables: Target<NftOptions, NftView | DnsmasqView, NftScope> = {
  id: 'nftables',
  describe: 'one nft script per host (or one for a gateway) that replaces fwgen\'s chains and static sets in one transaction, keeping what dnsmasq put in its sets',
  apply: 'nft -f FILE (Ansible: validate: nft -c -f %s)',
  options: {
    mode: { describe: 'host: input/output hooks, a file per device class; gateway: the forward hook, one file', default: 'host' },
    table: { describe: 'name of the inet table fwgen owns', default: 'fwgen' },
    policy: { describe: 'drop: the table is the allowlist; accept: it only accepts', default: 'drop' },
    priority: { describe: 'base chain priority (0 is filter)', default: 0 },
    dnsmasq: { describe: 'write a dnsmasq companion (nftset=) that fills sets from the DNS answers for wildcard names', default: true },
    unfilteredIpv6: unfilteredIpv6Option,
    allowEmpty: allowEmptyOption,
  },
  files(policy, o) {
    const hosts = o.mode === 'gateway' ? [undefined] : classesWithRules(policy, LINUX_HOSTS);
    return hosts.flatMap((deviceClass) => {
      const base = deviceClass ?? o.table;
      const files: Array<OutputFile<NftScope>> = [{ path: `${base}.nft`, template: 'ruleset.nft.hbs', scope: { deviceClass, part: 'rules' } }];
      if (build(policy, o, deviceClass, new Diagnostics(nftables.id)).dnsmasq) {
        files.push({ path: `${base}.dnsmasq.conf`, template: 'dnsmasq.conf.hbs', scope: { deviceClass, part: 'dnsmasq' } });
      }
      return files;
    });
  },
  check(policy, o) {
    const diags = new Diagnostics(nftables.id);
    const files = nftables.files(policy, o);
    for (const f of files) {
      if (f.scope.part !== 'rules') continue;
      const built = build(policy, o, f.scope.deviceClass, diags);
      refuseEmpty(diags, nftables.id, o.allowEmpty, `nftables ${f.path}`, built.allowRules, o.mode === 'host' ? 'drop all but established and loopback traffic of the host' : 'drop all forwarded traffic of the site device classes');
    }
    if (files.length === 0) refuseNoFiles(diags, policy, nftables.id, o.allowEmpty, 'no device class with rules runs Linux');
    return diags.list();
  },
  view(policy, o, { scope }) {
    const built = build(policy, o, scope.deviceClass, new Diagnostics(nftables.id));
    return scope.part === 'dnsmasq' ? built.dnsmasq! : built.nft;
  },
};
