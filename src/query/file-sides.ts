import * as path from 'node:path';
import { isCidrError, parseCidr } from '../net/addresses';
import type { Policy } from '../policy/types';
import { AddressIndex } from '../ruleset/address-index';
import type { InterfaceKnowledge, Path } from '../ruleset/evaluate';
import type { Chain, DeclaredInterface, Ruleset } from '../ruleset/model';
import { QueryInputError, type Endpoint, type Mode } from '../ruleset/policy-answer';
import { WINDOWS_PROFILES, type WindowsProfile, type WindowsProfileRules } from '../ruleset/readers/windows';

/**
 * Where a packet meets the rule files a query was given: which rule sets filter it, on which
 * path, arriving on which interface. Each format has its own answer, because each firewall
 * places its rules differently:
 *
 * - nftables and iptables: the chains of the hook the packet meets (forward through a gateway,
 *   input or output of a host), with the interfaces the site or the options say.
 * - pfSense: the rules of the interface the packet ARRIVES on, first match wins (floating quick
 *   rules before, non-quick floating after: the reader orders them so). Netgate's "Firewall Rule
 *   Processing Order" and "Floating Rules" pages: interface tabs are "Inbound processing only",
 *   "Rules are always processed from the top of a list down, first match wins", floating rules
 *   without quick are "last match wins"; what no rule passes is blocked. A packet between two
 *   addresses of one interface's subnet never reaches the firewall: it is allowed, said so.
 * - AWS security groups: allow-only and stateful, the union of the rules of every group attached
 *   to the instance; ingress for a packet to the instance, egress for one from it.
 * - Windows: the host's inbound or outbound rules in each profile it may be in (a block rule wins
 *   over any allow rule: the reader orders them so; MS-FASP FW_RULE_ACTION: "block rules take
 *   precedence over allow rules"), then the profile's default action.
 *
 * A packet is allowed when every side it meets allows it (the sender's egress and the receiver's
 * ingress, each Windows profile).
 */

export interface Side {
  rulesets: Ruleset[];
  path: Path;
  iif?: InterfaceKnowledge;
  oif?: InterfaceKnowledge;
}

export type Plan = { sides: Side[] } | { notCrossing: string };

/** What the query says beyond the two ends. */
export interface Question {
  policy?: Policy;
  mode?: Mode;
  hook?: Path;
  iif?: string;
  oif?: string;
  /** AWS: the security groups (names or ids) that apply. */
  groups?: string[];
  /** Windows: the profiles the host may be in. */
  profiles?: WindowsProfile[];
}

export interface Planner {
  plan(s: Endpoint, d: Endpoint, src: string, dst: string): Plan;
  /** How the path, interface, group or profile was chosen where the query did not say. */
  readonly assumptions: string[];
}

/** A security group as the files give it: one or both directions. */
export interface Group {
  id: string;
  name: string;
  tags: Record<string, string>;
  file: string;
  ingress?: Chain;
  egress?: Chain;
}

export interface WindowsHost {
  file: string;
  profiles: WindowsProfileRules[];
}

export type LoadedFiles =
  | { kind: 'linux'; rulesets: Ruleset[] }
  | { kind: 'pfsense'; rulesets: Ruleset[] }
  | { kind: 'aws'; groups: Group[] }
  | { kind: 'windows'; hosts: WindowsHost[] };

/** Every rule set the files hold, for preparing their address indexes once. */
export function rulesetsOf(files: LoadedFiles): Ruleset[] {
  if (files.kind === 'linux' || files.kind === 'pfsense') return files.rulesets;
  if (files.kind === 'windows') return files.hosts.flatMap((h) => h.profiles.map((p) => p.ruleset));
  return files.groups.map((g) => ({ format: 'aws', file: g.file, chains: [g.ingress, g.egress].filter((c): c is Chain => c !== undefined), notes: [] }));
}

function cidrOf(text: string) {
  const c = parseCidr(text);
  if (isCidrError(c)) throw new QueryInputError(`'${text}': ${c.error}`);
  return c;
}

function inNetworks(networks: readonly string[], addr: string): boolean {
  return new AddressIndex(networks.map(cidrOf)).covers(cidrOf(addr));
}

function targetOption(policy: Policy | undefined, target: string, key: string): string | undefined {
  const v = policy?.profile.targets?.[target]?.[key];
  return typeof v === 'string' ? v : undefined;
}

// ---- nftables and iptables ----

function lanInterfaces(policy: Policy): string[] {
  return [...new Set([...policy.interfaces.map((i) => i.name), ...policy.deviceClasses.flatMap((c) => (c.interface ? [c.interface] : []))])].sort();
}

function linuxInterfaceOf(policy: Policy | undefined, e: Endpoint, given: string | undefined): InterfaceKnowledge | undefined {
  if (given !== undefined) return { is: given };
  if (!policy) return undefined;
  if (e.cls !== undefined) {
    const iface = policy.deviceClasses.find((c) => c.id === e.cls)?.interface;
    return iface ? { is: iface } : undefined;
  }
  const lan = lanInterfaces(policy);
  return lan.length > 0 ? { isNot: lan } : undefined;
}

function hasHook(rulesets: Ruleset[], hook: string): boolean {
  return rulesets.some((r) => r.chains.some((c) => c.hook === hook && (c.rules.length > 0 || c.policy === 'drop')));
}

function linuxPath(q: Question, rulesets: Ruleset[], src: Endpoint, dst: Endpoint, assumptions: string[]): Path {
  if (q.hook !== undefined) return q.hook;
  if (q.mode === 'gateway') return 'forward';
  if (q.mode === 'host') {
    if (src.cls !== undefined && dst.cls !== undefined) {
      throw new QueryInputError(`both ends are device classes (${src.cls}, ${dst.cls}) and host files filter each end: say whose file this is with --hook output (the sender's) or --hook input (the receiver's)`);
    }
    if (src.cls !== undefined) return 'output';
    if (dst.cls !== undefined) return 'input';
    throw new QueryInputError('neither end is a device class of the site, whose hosts hold the files: say where the packet meets this file with --hook');
  }
  const hooks = (['forward', 'input', 'output'] as const).filter((h) => hasHook(rulesets, h));
  if (hooks.length === 1 || (hooks.includes('forward') && hooks.length > 1)) {
    const h = hooks.includes('forward') ? 'forward' : hooks[0]!;
    if (hooks.length > 1) assumptions.push(`taken as forwarded through the firewall (the files also filter ${hooks.filter((x) => x !== 'forward').join(' and ')}; --hook says otherwise)`);
    return h;
  }
  throw new QueryInputError('the files filter nothing on forward, input or output for this family; say where the packet meets them with --hook');
}

function linuxPlanner(q: Question, rulesets: Ruleset[]): Planner {
  const assumptions: string[] = [];
  return {
    assumptions,
    plan(s, d) {
      const p = linuxPath(q, rulesets, s, d, assumptions);
      return {
        sides: [{ rulesets, path: p, iif: p === 'output' ? undefined : linuxInterfaceOf(q.policy, s, q.iif), oif: p === 'input' ? undefined : linuxInterfaceOf(q.policy, d, q.oif) }],
      };
    },
  };
}

// ---- pfSense ----

/** --iif as pfSense's name for the interface (lan, opt1) or the device under it (igb1). */
function pfsenseInterface(declared: DeclaredInterface[], given: string): string {
  if (declared.length === 0) return given.toLowerCase();
  const g = given.toLowerCase();
  const hit = declared.find((i) => i.name === g) ?? declared.find((i) => i.device?.toLowerCase() === g);
  if (!hit) throw new QueryInputError(`--iif '${given}' is not an interface of the configuration (${declared.map((i) => `${i.name}${i.device ? ` (${i.device})` : ''}`).join(', ')})`);
  return hit.name;
}

function pfsensePlanner(q: Question, rulesets: Ruleset[]): Planner {
  if (q.hook !== undefined && q.hook !== 'forward') {
    throw new QueryInputError(`--hook ${q.hook} does not apply to pfSense: its rules filter each packet on the interface it arrives on (--iif)`);
  }
  const declared = rulesets.flatMap((r) => r.interfaces ?? []);
  const assumptions: string[] = [];
  if (q.oif !== undefined) assumptions.push('--oif is not used: pfSense filters a packet on the interface it arrives on');
  const given = q.iif !== undefined ? pfsenseInterface(declared, q.iif) : undefined;
  const lan = targetOption(q.policy, 'pfsense', 'interface') ?? 'lan';
  const wan = targetOption(q.policy, 'pfsense', 'wanInterface') ?? 'wan';
  const arrival = (s: Endpoint, src: string): { name: string; why: string } => {
    if (given !== undefined) return { name: given, why: 'given (--iif)' };
    // The most specific subnet of an interface that holds the source.
    const holding = declared
      .flatMap((i) => i.networks.filter((n) => n.includes(':') === src.includes(':') && inNetworks([n], src)).map((n) => ({ i, n, prefix: Number(n.split('/')[1]) })))
      .sort((a, b) => b.prefix - a.prefix)[0];
    if (holding) return { name: holding.i.name, why: `the source is in ${holding.i.name}'s subnet ${holding.n} (<interfaces> of the file)` };
    if (q.policy && s.cls !== undefined) return { name: lan, why: `device class ${s.cls} sits behind ${lan} (targets.pfsense.interface)` };
    if (q.policy) return { name: wan, why: `a source in no device class of the site comes from outside, on ${wan} (targets.pfsense.wanInterface)` };
    return { name: 'wan', why: 'no interface of the file holds the source: it comes from outside, on wan (--iif says otherwise)' };
  };
  return {
    assumptions,
    plan(s, _d, src, dst) {
      const a = arrival(s, src);
      assumptions.push(`arrives on ${a.name}: ${a.why}`);
      const iface = declared.find((i) => i.name === a.name);
      if (iface && !inNetworks(iface.addresses.length ? iface.addresses : [], dst)) {
        const net = iface.networks.find((n) => n.includes(':') === src.includes(':') && inNetworks([n], src) && inNetworks([n], dst));
        if (net) return { notCrossing: `does not cross the firewall (same subnet on ${a.name}: ${net})` };
      }
      return { sides: [{ rulesets, path: 'forward', iif: { is: a.name } }] };
    },
  };
}

// ---- AWS security groups ----

function groupLabel(g: Group): string {
  return g.name === g.id ? g.id : `${g.id} (${g.name})`;
}

function awsPlanner(q: Question, groups: Group[]): Planner {
  if (q.hook === 'forward') throw new QueryInputError('security groups filter instances: say --hook input (the packet goes to the instance) or --hook output (it leaves it)');
  const assumptions: string[] = [];
  const listing = groups.map(groupLabel).join(', ');
  const prefix = targetOption(q.policy, 'aws', 'groupName') ?? (q.policy ? `fwgen-${q.policy.profile.name}` : undefined);
  const named = (q.groups ?? []).map((n) => {
    const hit = groups.filter((g) => g.id === n || g.name === n);
    if (hit.length === 0) throw new QueryInputError(`--group '${n}' is not a security group of the files (${listing})`);
    return hit;
  }).flat();
  const ofClass = (cls: string): Group[] => groups.filter((g) => g.tags['fwgen:device-class'] === cls || g.name === cls || (prefix !== undefined && g.name === `${prefix}-${cls}`));
  const built = new Map<string, Ruleset>();
  const side = (chosen: Group[], dir: 'ingress' | 'egress'): Side => {
    const key = `${dir}|${chosen.map((g) => g.id).join('+')}`;
    let rs = built.get(key);
    if (!rs) {
      const chains = chosen.map((g) => {
        const c = g[dir];
        if (!c) throw new QueryInputError(`the files hold no ${dir} rules of ${groupLabel(g)} (give its ${dir} too)`);
        return c;
      });
      // An instance in several groups is allowed what any of them allows.
      rs = { format: 'aws', file: [...new Set(chosen.map((g) => g.file))].join(' + '), notes: [], chains: [{ ...chains[0]!, name: `${chosen.map((g) => g.id).join('+')} ${dir}`, rules: chains.flatMap((c) => c.rules) }] };
      built.set(key, rs);
    }
    return { rulesets: [rs], path: dir === 'ingress' ? 'input' : 'output' };
  };
  const groupsFor = (e: Endpoint, dir: 'ingress' | 'egress', alone: boolean): Group[] | undefined => {
    const end = dir === 'ingress' ? 'destination' : 'source';
    if (named.length > 0) return named;
    if (e.cls !== undefined) {
      const mine = ofClass(e.cls);
      if (mine.length > 0) {
        assumptions.push(`${dir} of ${mine.map(groupLabel).join(', ')}: the group${mine.length > 1 ? 's' : ''} fwgen names for the ${end}'s device class ${e.cls}`);
        return mine;
      }
    }
    if (groups.length === 1 && alone) {
      assumptions.push(`${dir} of ${groupLabel(groups[0]!)}: the one group of the files`);
      return groups;
    }
    if (!alone) return undefined;
    throw new QueryInputError(`say which security group the ${end} is in with --group (the files hold ${listing})`);
  };
  return {
    assumptions,
    plan(s, d) {
      if (q.hook === 'input') return { sides: [side(groupsFor(d, 'ingress', true)!, 'ingress')] };
      if (q.hook === 'output') return { sides: [side(groupsFor(s, 'egress', true)!, 'egress')] };
      const ends = [s.cls !== undefined ? 'egress' : undefined, d.cls !== undefined ? 'ingress' : undefined].filter((x): x is 'egress' | 'ingress' => x !== undefined);
      if (ends.length === 0) {
        // Files of one direction only (a CLASS.ingress.json alone) can answer only for it.
        const only = groups.every((g) => !g.egress) ? 'ingress' : groups.every((g) => !g.ingress) ? 'egress' : undefined;
        if (only) {
          assumptions.push(`the files hold ${only} rules only: the packet is taken as ${only === 'ingress' ? 'going to' : 'leaving'} the instance (--hook says otherwise)`);
          return { sides: [side(groupsFor(only === 'ingress' ? d : s, only, true)!, only)] };
        }
        if (!q.policy && groups.length === 1) throw new QueryInputError(`say whether the packet goes to the instance of ${groupLabel(groups[0]!)} (--hook input) or leaves it (--hook output)`);
        throw new QueryInputError(`neither end is a device class of the site: say whether the packet goes to the instance (--hook input) or leaves it (--hook output)`);
      }
      if (named.length > 0 && ends.length > 1) throw new QueryInputError('both ends are device classes, each with its groups: with --group say which end it is with --hook input (the destination) or --hook output (the source)');
      const sides = ends.flatMap((dir) => {
        const g = groupsFor(dir === 'egress' ? s : d, dir, ends.length === 1);
        if (g === undefined) {
          assumptions.push(`no group of the files protects ${dir === 'egress' ? s.cls : d.cls}: its ${dir} is not evaluated`);
          return [];
        }
        return [side(g, dir)];
      });
      if (sides.length === 0) throw new QueryInputError(`no security group of the files protects ${s.cls} or ${d.cls} (the files hold ${listing}); name one with --group and --hook`);
      return { sides };
    },
  };
}

/** The group of fwgen's CLASS.ingress.json / CLASS.egress.json: named after the file, direction from its name or --hook. */
export function permissionsFile(file: string, hook: Path | undefined): { group: string; dir: 'ingress' | 'egress' } {
  const base = path.basename(file);
  const m = /^(.+)\.(ingress|egress)\.json$/.exec(base);
  if (m) return { group: m[1]!, dir: m[2] as 'ingress' | 'egress' };
  if (hook === 'input' || hook === 'output') return { group: base.replace(/\.json$/, ''), dir: hook === 'input' ? 'ingress' : 'egress' };
  throw new QueryInputError(`${file} is a list of IpPermissions for one direction: name it GROUP.ingress.json or GROUP.egress.json, or say --hook input (ingress) or --hook output (egress)`);
}

// ---- Windows ----

function windowsProfilesOf(q: Question): WindowsProfile[] {
  if (q.profiles && q.profiles.length > 0) return q.profiles;
  const given = q.policy?.profile.targets?.windows?.profiles;
  const list = Array.isArray(given) ? given.map(String) : ['Any'];
  return list.includes('Any') ? WINDOWS_PROFILES : WINDOWS_PROFILES.filter((p) => list.includes(p));
}

function windowsPlanner(q: Question, hosts: WindowsHost[]): Planner {
  if (q.hook === 'forward') throw new QueryInputError('a Windows export filters its own host: say --hook input (the packet goes to it) or --hook output (it leaves it)');
  const assumptions: string[] = [];
  const profiles = windowsProfilesOf(q);
  const classOf = (h: WindowsHost): string | undefined => {
    const stem = path.basename(h.file).replace(/\.[^.]*$/, '');
    return q.policy?.deviceClasses.find((c) => c.id === stem)?.id;
  };
  if (hosts.length > 1 && (q.hook !== undefined || hosts.some((h) => classOf(h) === undefined))) {
    throw new QueryInputError(`each Windows export is one host: give one, or name each after its device class (CLASS.json)`);
  }
  const sidesOf = (h: WindowsHost, hook: 'input' | 'output'): Side[] =>
    h.profiles.filter((p) => profiles.includes(p.profile)).map((p) => ({ rulesets: [p.ruleset], path: hook }));
  if (profiles.length < WINDOWS_PROFILES.length || profiles.length > 1) assumptions.push(`the host may be in the ${profiles.join(', ')} profile${profiles.length > 1 ? 's: allowed only when each allows it' : ''}`);
  return {
    assumptions,
    plan(s, d) {
      if (q.hook === 'input' || q.hook === 'output') return { sides: sidesOf(hosts[0]!, q.hook) };
      if (!q.policy) throw new QueryInputError('say whether the packet goes to the host of the export (--hook input) or leaves it (--hook output)');
      const sides = hosts.flatMap((h) => {
        const cls = classOf(h);
        const hooks: Array<'input' | 'output'> = [];
        if (cls !== undefined) {
          if (s.cls === cls) hooks.push('output');
          if (d.cls === cls) hooks.push('input');
          if (hooks.length > 0) assumptions.push(`${h.file} is the host of device class ${cls} (its name)`);
        } else if (s.cls !== undefined && d.cls === undefined) hooks.push('output');
        else if (d.cls !== undefined && s.cls === undefined) hooks.push('input');
        else if (s.cls !== undefined) throw new QueryInputError(`both ends are device classes (${s.cls}, ${d.cls}): say whose export this is with --hook output (the sender's) or --hook input (the receiver's), or name it CLASS.json`);
        else throw new QueryInputError('neither end is a device class of the site, whose hosts the exports are: say --hook input or --hook output');
        if (cls === undefined) assumptions.push(`${h.file} is the host of the ${hooks[0] === 'output' ? 'source' : 'destination'}, the end in a device class`);
        return hooks.flatMap((hook) => sidesOf(h, hook));
      });
      if (sides.length === 0) throw new QueryInputError(`neither end is the host of the exports given (${hosts.map((h) => h.file).join(', ')})`);
      return { sides };
    },
  };
}

export function plannerFor(files: LoadedFiles, q: Question): Planner {
  switch (files.kind) {
    case 'linux':
      return linuxPlanner(q, files.rulesets);
    case 'pfsense':
      return pfsensePlanner(q, files.rulesets);
    case 'aws':
      return awsPlanner(q, files.groups);
    case 'windows':
      return windowsPlanner(q, files.hosts);
  }
}
