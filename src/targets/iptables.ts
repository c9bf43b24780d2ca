import { ByList, type Family } from '../net/addresses';
import type { PortRange } from '../net/ports';
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

export interface IptablesOptions {
  mode: Mode;
  chainPrefix: string;
  policy: 'drop' | 'accept';
  ipsetThreshold: number;
  ipsetPrefix: string;
  dnsmasq: boolean;
  unfilteredIpv6: boolean;
  allowEmpty: boolean;
}

export interface IptablesView {
  header: string[];
  chains: string[];
  lines: string[];
}

export interface IpsetView {
  header: string[];
  /**
   * create/flush/add lines, in order. A set's add lines come as one block, joined here: a set
   * may hold a million elements, and a string per line (then one per template step) is what
   * made the largest outputs heavy.
   */
  lines: string[];
}

/** The dnsmasq companion: which answers go into which of fwgen's ipsets. */
export interface DnsmasqView {
  header: string[];
  lines: string[];
}

const COMMENT_MAX = 240; // the kernel silently cuts comments at 255 bytes
const MULTIPORT_MAX = 15; // multiport takes 15 ports; a range counts as two
const IPSET_NAME_MAX = 31;
const TOOL: Record<Family, string> = { ipv4: 'iptables', ipv6: 'ip6tables' };

/** Port lists cut into groups multiport accepts. */
function portGroups(ports: readonly PortRange[]): PortRange[][] {
  const groups: PortRange[][] = [];
  let current: PortRange[] = [];
  let weight = 0;
  for (const p of ports) {
    const w = p.from === p.to ? 1 : 2;
    if (weight + w > MULTIPORT_MAX) {
      groups.push(current);
      current = [];
      weight = 0;
    }
    current.push(p);
    weight += w;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function portMatch(protocol: string, ports: PortRange[]): string {
  if (ports.length === 1) {
    const p = ports[0]!;
    return `-p ${protocol} -m ${protocol} --dport ${p.from === p.to ? p.from : `${p.from}:${p.to}`}`;
  }
  return `-p ${protocol} -m multiport --dports ${ports.map((p) => (p.from === p.to ? String(p.from) : `${p.from}:${p.to}`)).join(',')}`;
}

/** ipsets shared by equal content; names short enough for the kernel. */
class IpsetBook {
  /** Sets with no elements are filled by dnsmasq at run time. */
  readonly sets: Array<{ name: string; family: Family; elements?: string[] }> = [];
  private readonly names = new Set<string>();
  private readonly byContent = new ByList<string>();
  private readonly byNames = new Map<string, string>();

  constructor(private readonly prefix: string) {}

  /** The static set holding `elements`, made on first use. */
  of(base: string, family: Family, elements: string[]): string {
    const known = this.byContent.get(family, elements);
    if (known) return known;
    const name = this.add(base, family, elements);
    this.byContent.set(family, elements, name);
    return name;
  }

  /** The set dnsmasq fills with the answers for `names`, made on first use. */
  dns(base: string, family: Family, names: string[]): string {
    const key = `${family}|${names.join(',')}`;
    const known = this.byNames.get(key);
    if (known) return known;
    const name = this.add(base, family, undefined);
    this.byNames.set(key, name);
    return name;
  }

  private add(base: string, family: Family, elements: string[] | undefined): string {
    const tail = family === 'ipv4' ? '_4' : '_6';
    const stem = identifier(`${this.prefix}_${base}`).toLowerCase();
    const cut = (max: number) => stem.slice(0, max).replace(/_+$/, '');
    let name = `${cut(IPSET_NAME_MAX - tail.length)}${tail}`;
    for (let n = 2; this.names.has(name); n++) {
      const suffix = `_${n}${tail}`;
      name = `${cut(IPSET_NAME_MAX - suffix.length)}${suffix}`;
    }
    this.sets.push({ name, family, elements });
    this.names.add(name);
    return name;
  }
}

/** Address matches for one side: one per CIDR, or a single ipset match for large groups. */
function addressMatches(flag: '-s' | '-d', base: string, family: Family, cidrs: string[], o: IptablesOptions, sets: IpsetBook): string[] {
  if (cidrs.length > o.ipsetThreshold) {
    return [`-m set --match-set ${sets.of(base, family, cidrs)} ${flag === '-s' ? 'src' : 'dst'}`];
  }
  return cidrs.map((c) => `${flag} ${c}`);
}

interface Chains {
  input: string;
  output: string;
  forward: string;
  /** Gateway mode: the checks of sources, and of destinations, on the LAN interfaces. */
  lanSources: string;
  lanDestinations: string;
}

function chainNames(o: IptablesOptions): Chains {
  const p = o.chainPrefix;
  return { input: `${p}-IN`, output: `${p}-OUT`, forward: `${p}-FWD`, lanSources: `${p}-SRC`, lanDestinations: `${p}-DST` };
}

/**
 * The gateway's LAN checks of one family (see gateway-lan.ts), first in the forward chain,
 * before conntrack, so a connection opened before the file was loaded is held to them too.
 * Spoofed class sources are dropped there directly. iptables cannot say "not in this list"
 * without an ipset, so the unclassified checks are a chain each: a known address returns,
 * anything else on that interface reaches its DROP.
 */
function lanLines(lan: LanPlan, family: Family, o: IptablesOptions, sets: IpsetBook, c: Chains): { chains: string[]; forward: string[]; lines: string[] } {
  const forward: string[] = [];
  for (const l of lan.interfaces) {
    for (const m of addressMatches('-s', `bound_${l.name}`, family, l.bound[family], o, sets)) {
      forward.push(`-A ${c.forward} ! -i ${l.name} ${m} -m comment --comment "fwgen: source of a device class on ${l.name} arriving on another interface (spoofed)" -j DROP`);
    }
  }
  const checked = lan.interfaces.filter((l) => l.dropUnclassified[family]);
  if (checked.length === 0) return { chains: [], forward, lines: [] };
  const sides = [
    { chain: c.lanSources, flag: '-i', match: '-s', what: 'source' },
    { chain: c.lanDestinations, flag: '-o', match: '-d', what: 'destination' },
  ] as const;
  const checks: string[] = [];
  for (const side of sides) {
    forward.push(`-A ${c.forward} -j ${side.chain}`);
    for (const l of checked) {
      for (const m of addressMatches(side.match, `known_${l.name}`, family, l.classified[family], o, sets)) checks.push(`-A ${side.chain} ${side.flag} ${l.name} ${m} -j RETURN`);
      checks.push(`-A ${side.chain} ${side.flag} ${l.name} -m comment --comment "fwgen: ${side.what} on ${l.name} in no device class" -j DROP`);
    }
  }
  return { chains: sides.map((x) => x.chain), forward, lines: checks };
}

/** The remote side of a DNS-followed rule: one ipset dnsmasq fills, recorded for the companion. */
function dnsMatch(dr: DnsRule, sets: IpsetBook, domains: CompanionDomains, diags: Diagnostics): string {
  const { rule, family } = dr;
  const name = sets.dns(`dns_${rule.vendor}_${rule.service}`, family, dr.names);
  domains.add(rule, dr.names, name, diags);
  return `-m set --match-set ${name} ${rule.direction === 'outbound' ? 'dst' : 'src'}`;
}

function ruleLines(fr: FamilyRule, o: IptablesOptions, sets: IpsetBook, c: Chains, remoteOverride?: string): string[] {
  const { rule, family } = fr;
  const out = rule.direction === 'outbound';
  const remoteBase = rule.remote.peers.length > 0 ? `c_${rule.remote.peers.join('_')}` : `${rule.vendor}_${rule.service}`;
  const remote = remoteOverride ? [remoteOverride] : addressMatches(out ? '-d' : '-s', remoteBase, family, fr.remote, o, sets);
  const local = o.mode === 'gateway' ? addressMatches(out ? '-s' : '-d', `c_${rule.deviceClass}`, family, fr.local, o, sets) : [''];
  const chain = o.mode === 'gateway' ? c.forward : out ? c.output : c.input;
  const comment = `-m comment --comment "${safeComment(`${ruleSummary(rule)}${remoteOverride ? ' names via dnsmasq' : ''}`, COMMENT_MAX)}"`;
  const protoMatches =
    rule.protocol === 'icmp'
      ? [family === 'ipv4' ? '-p icmp' : '-p ipv6-icmp']
      : portGroups(rule.ports).map((g) => portMatch(rule.protocol!, g));
  const lines: string[] = [];
  for (const l of local) {
    for (const r of remote) {
      for (const p of protoMatches) {
        lines.push([`-A ${chain}`, l, r, p, comment, '-j ACCEPT'].filter((x) => x !== '').join(' '));
      }
    }
  }
  return lines;
}

interface Built {
  rules: Record<Family, IptablesView>;
  ipsets: IpsetView;
  hasIpsets: boolean;
  dnsmasq?: DnsmasqView;
  /** Accept rules from the policy, both families (not counting conntrack, loopback, neighbour discovery). */
  allowRules: number;
}

/** ipset's default room in a hash (65536 elements). */
const IPSET_DEFAULT_MAXELEM = 65536;
/**
 * The room every larger set is created with. One value for all of them: `ipset -exist
 * restore` refuses a create line that differs from the set already loaded, so a size that
 * followed the set's count would break the next apply whenever the count crossed a step.
 * It is a cap, not an allocation: the hash grows with what is added.
 */
const IPSET_LARGE_MAXELEM = 2 ** 24;

/** A larger set says how many it may hold, else restore stops at "Hash is full". */
function maxelem(count: number): string {
  return count <= IPSET_DEFAULT_MAXELEM ? '' : ` maxelem ${IPSET_LARGE_MAXELEM}`;
}

function buildOnce(policy: Policy, o: IptablesOptions, deviceClass: string | undefined, diags: Diagnostics): Built {
  const { rules, leftOut, dnsRules, pinned } = expandForIp(policy, o.mode, deviceClass, diags, linuxHint(o.dnsmasq), o.dnsmasq);
  const sets = new IpsetBook(o.ipsetPrefix);
  const domains = new CompanionDomains();
  const c = chainNames(o);
  const filePrefix = deviceClass ? `${deviceClass}.` : '';
  const scopeText = deviceClass ? `device class ${deviceClass} (host mode: the firewall runs on the device)` : 'the gateway in front of the device classes (FORWARD)';
  const result = {} as Record<Family, IptablesView>;
  const names = pinnedNote(pinned, o.dnsmasq, diags);
  const lan = o.mode === 'gateway' ? gatewayLan(policy, iptables.id, o, diags) : undefined;
  for (const family of ['ipv4', 'ipv6'] as Family[]) {
    const tool = TOOL[family];
    const chains = o.mode === 'gateway' ? [c.forward] : [c.input, c.output];
    const checks = lan ? lanLines(lan, family, o, sets, c) : { chains: [], forward: [], lines: [] };
    const lines: string[] = [...checks.forward];
    for (const chain of chains) {
      lines.push(`-A ${chain} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`);
      if (o.mode === 'host' && o.policy === 'drop') {
        lines.push(`-A ${chain} ${chain === c.input ? '-i' : '-o'} lo -j ACCEPT`);
        if (family === 'ipv6') {
          // Without neighbour discovery a host with a drop policy loses IPv6 altogether.
          for (const t of ['neighbour-solicitation', 'neighbour-advertisement', 'router-solicitation', 'router-advertisement']) {
            lines.push(`-A ${chain} -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`);
          }
        }
      }
    }
    for (const fr of rules.filter((r) => r.family === family)) append(lines, ruleLines(fr, o, sets, c));
    for (const dr of dnsRules.filter((r) => r.family === family)) {
      append(lines, ruleLines({ rule: dr.rule, family, remote: [], local: dr.local }, o, sets, c, dnsMatch(dr, sets, domains, diags)));
    }
    for (const l of leftOut) lines.push(`# left out ${l.rule.id}: ${commentLine(l.reason)}`);
    if (o.policy === 'drop') {
      if (o.mode === 'host') for (const chain of chains) lines.push(`-A ${chain} -m comment --comment "fwgen: not allowed" -j DROP`);
      else {
        const site = siteAddresses(policy)[family];
        for (const m of addressMatches('-s', 'site', family, site, o, sets)) lines.push(`-A ${c.forward} ${m} -m comment --comment "fwgen: not allowed for the site device classes" -j DROP`);
        for (const m of addressMatches('-d', 'site', family, site, o, sets)) lines.push(`-A ${c.forward} ${m} -m comment --comment "fwgen: not allowed for the site device classes" -j DROP`);
        if (family === 'ipv6') {
          for (const ifname of lan!.ipv6Drop) {
            for (const flag of ['-i', '-o']) lines.push(`-A ${c.forward} ${flag} ${ifname} -m comment --comment "fwgen: IPv6 of device classes without IPv6 prefixes" -j DROP`);
          }
        }
      }
    }
    append(lines, checks.lines);
    const jumps =
      o.mode === 'gateway'
        ? [`${tool} -I FORWARD -j ${c.forward}`]
        : [`${tool} -I INPUT -j ${c.input}`, `${tool} -I OUTPUT -j ${c.output}`];
    const header = headerLines(policy, iptables.id, [
      `Holds: ${scopeText}, ${family === 'ipv4' ? 'IPv4' : 'IPv6'}.`,
      `Apply: ipset -exist restore < ${filePrefix}ipsets (when present), then ${tool}-restore -n ${filePrefix}rules.${family === 'ipv4' ? 'v4' : 'v6'}`,
      `  -n (--noflush) keeps every other rule; the chains below are emptied and refilled.`,
      `Jump into them once, where your own rules want it: ${jumps.join('; ')}`,
      o.policy === 'drop'
        ? o.mode === 'host'
          ? 'Policy drop: the chains end in DROP, so what they do not allow is dropped.'
          : 'Policy drop: traffic to or from the site device classes that is not allowed is dropped; other traffic returns to FORWARD unless a LAN check drops it.'
        : o.mode === 'gateway'
          ? 'Policy accept: the chains only accept, but for spoofed class sources; what they do not match returns to FORWARD.'
          : 'Policy accept: the chains only accept; what they do not match returns to the calling chain.',
      ...(lan ? [...lan.header, ...(family === 'ipv6' ? lan.ipv6Header : [])] : []),
      ...names,
    ]).map((l) => `# ${commentLine(l)}`);
    result[family] = { header, chains: [...chains, ...checks.chains], lines };
  }
  const ipsetHeader = headerLines(policy, iptables.id, [
    `Holds: the address groups larger than ${o.ipsetThreshold} that the ${filePrefix}rules.v4/v6 files match with -m set,`,
    'and the empty sets dnsmasq fills from DNS answers (kept across applies; an address expires a day after its last answer).',
    `Apply before the rules: ipset -exist restore < ${filePrefix}ipsets`,
  ]).map((l) => `# ${commentLine(l)}`);
  const ipsetLines: string[] = [];
  for (const set of [...sets.sets].sort((a, b) => a.name.localeCompare(b.name))) {
    const family = set.family === 'ipv4' ? 'inet' : 'inet6';
    if (set.elements === undefined) {
      ipsetLines.push(`create ${set.name} hash:ip family ${family} timeout 86400`);
      continue;
    }
    if (set.elements.length > IPSET_DEFAULT_MAXELEM) {
      diags.add(
        'warning',
        `ipset ${set.name} holds ${set.elements.length} elements, more than ipset's default ${IPSET_DEFAULT_MAXELEM}: it is created with maxelem ${IPSET_LARGE_MAXELEM}; where it is already loaded at the default size, 'ipset destroy ${set.name}' (after removing the rules that use it) before the next restore`,
      );
    }
    ipsetLines.push(`create ${set.name} hash:net family ${family}${maxelem(set.elements.length)}`, `flush ${set.name}`);
    if (set.elements.length > 0) ipsetLines.push(`add ${set.name} ${set.elements.join(`\nadd ${set.name} `)}`);
  }
  const allowRules = rules.length + dnsRules.length;
  const built: Built = { rules: result, ipsets: { header: ipsetHeader, lines: ipsetLines }, hasIpsets: sets.sets.length > 0, allowRules };
  if (domains.size > 0) {
    built.dnsmasq = {
      header: companionHeader(policy, iptables.id, `${filePrefix}rules.v4/v6`, `${filePrefix}ipsets`, domains),
      lines: domains.lines('ipset'),
    };
  }
  return built;
}

const build = sharedBuild('iptables', buildOnce);

/**
 * Which part of the policy an iptables file holds: a rules file holds one family of its
 * host's rules, the ipsets and dnsmasq files serve both.
 */
export type IptablesScope = LinuxScope & ({ part: 'rules'; family: Family } | { part: 'ipsets' | 'dnsmasq' });

/** The hosts that get files: each Linux device class with rules in host mode, the gateway (no class) otherwise. */
function hostsOf(policy: Policy, o: IptablesOptions): Array<string | undefined> {
  return o.mode === 'gateway' ? [undefined] : classesWithRules(policy, LINUX_HOSTS);
}

export const iptables: Target<IptablesOptions, IptablesView | IpsetView | DnsmasqView, IptablesScope> = {
  id: 'iptables',
  describe: 'iptables-restore and ip6tables-restore files with fwgen\'s own chains, plus an ipset file for large groups',
  apply: 'ipset -exist restore < ipsets; iptables-restore -n rules.v4; ip6tables-restore -n rules.v6 (Ansible: validate: iptables-restore --test %s)',
  options: {
    mode: { describe: 'host: INPUT/OUTPUT chains, files per device class; gateway: one FORWARD chain', default: 'host' },
    chainPrefix: { describe: 'prefix of fwgen\'s chains (PREFIX-IN, PREFIX-OUT, PREFIX-FWD)', default: 'FWGEN' },
    policy: { describe: 'drop: the chains end in DROP (an allowlist); accept: they only accept', default: 'drop' },
    ipsetThreshold: { describe: 'address groups larger than this go into an ipset', default: 8 },
    ipsetPrefix: { describe: 'prefix of fwgen\'s ipset names', default: 'fwgen' },
    dnsmasq: { describe: 'write a dnsmasq companion (ipset=) that fills ipsets from the DNS answers for wildcard names', default: true },
    unfilteredIpv6: unfilteredIpv6Option,
    allowEmpty: allowEmptyOption,
  },
  files(policy, o) {
    const files: Array<OutputFile<IptablesScope>> = [];
    for (const deviceClass of hostsOf(policy, o)) {
      const p = deviceClass === undefined ? '' : `${deviceClass}.`;
      const built = build(policy, o, deviceClass, new Diagnostics(iptables.id));
      files.push({ path: `${p}rules.v4`, template: 'rules.hbs', scope: { deviceClass, part: 'rules', family: 'ipv4' } });
      files.push({ path: `${p}rules.v6`, template: 'rules.hbs', scope: { deviceClass, part: 'rules', family: 'ipv6' } });
      if (built.hasIpsets) files.push({ path: `${p}ipsets`, template: 'ipsets.hbs', scope: { deviceClass, part: 'ipsets' } });
      if (built.dnsmasq) files.push({ path: `${p}dnsmasq.conf`, template: 'dnsmasq.conf.hbs', scope: { deviceClass, part: 'dnsmasq' } });
    }
    return files;
  },
  check(policy, o) {
    const diags = new Diagnostics(iptables.id);
    const scopes = hostsOf(policy, o);
    for (const s of scopes) {
      const built = build(policy, o, s, diags);
      const what = `iptables ${s ? `${s}.` : ''}rules.v4/v6`;
      refuseEmpty(diags, iptables.id, o.allowEmpty, what, built.allowRules, o.mode === 'host' ? 'drop all but established and loopback traffic of the host' : 'drop all forwarded traffic of the site device classes');
    }
    if (scopes.length === 0) refuseNoFiles(diags, policy, iptables.id, o.allowEmpty, 'no device class with rules runs Linux');
    return diags.list();
  },
  view(policy, o, { scope }) {
    const built = build(policy, o, scope.deviceClass, new Diagnostics(iptables.id));
    if (scope.part === 'rules') return built.rules[scope.family];
    return scope.part === 'ipsets' ? built.ipsets : built.dnsmasq!;
  },
};
