import { isCidrError, parseCidr, type Cidr } from '../net/addresses';
import { AddressIndex, indexOfList } from './address-index';
import type { AddressMatch, Chain, ConnState, Hook, IpFamily, PortMatch, RuleMatch, Ruleset, RulesetRule, SourceRef } from './model';
import { append } from '../util/append';

/**
 * First-match evaluation of rule sets for one packet, as the kernel walks them: the base chains
 * of each hook the packet meets, in priority order; jumps, gotos and returns; the chain's policy
 * when no rule decides. A packet is the first of its connection (conntrack state NEW) unless said
 * otherwise, and an ICMP packet is an echo request.
 *
 * What is not known about the packet (an interface, a source port, the program that sent it) or
 * not modelled in a rule (`unsupported`) never decides silently: such a rule is passed over, and
 * the answer says it is uncertain and why.
 *
 * The model's fields that are not addresses or ports are honoured too: `names` (host names a box
 * resolves itself: a pfSense FQDN alias, a Windows dynamic keyword) match the addresses the
 * caller's lookup gives for them (query: the site's lock file) and are unknown without one;
 * `program` (a Windows rule for one program) matches the packet's program, compared as Windows
 * compares paths (case-insensitively), and is unknown when the packet's program is not given.
 */

/** What is known about an interface: its name, or only names it is not (a packet from outside the LAN). */
export type InterfaceKnowledge = { is: string } | { isNot: string[] };

export type PacketProtocol = 'tcp' | 'udp' | 'icmp';

export interface Packet {
  family: IpFamily;
  protocol: PacketProtocol;
  /** Addresses as text (no prefix length). */
  src: string;
  dst: string;
  /** Absent: an ephemeral port, not known. */
  sport?: number;
  /** Absent for ICMP. */
  dport?: number;
  iif?: InterfaceKnowledge;
  oif?: InterfaceKnowledge;
  state?: ConnState;
  /** The program (full path) that sends or receives it on a Windows host; absent: not known. */
  program?: string;
}

/**
 * What the caller knows beyond the packet: the addresses a host name a rule matches on stands
 * for (undefined: not known, the rule may or may not match).
 */
export interface EvaluationContext {
  nameAddresses?(name: string): readonly string[] | undefined;
}

/** Where a packet meets the firewall: crossing it (forward), to it (input) or from it (output). */
export type Path = 'forward' | 'input' | 'output';

/** The hooks of each path, in the order the kernel runs them. */
const HOOKS: Record<Path, Hook[]> = {
  forward: ['prerouting', 'forward', 'postrouting'],
  input: ['prerouting', 'input'],
  output: ['output', 'postrouting'],
};

export interface Step {
  /** The chain the rule is in. */
  chain: string;
  rule: RulesetRule;
}

export interface PassedChain {
  chain: string;
  by: 'rule' | 'policy';
  source?: SourceRef;
}

export interface Decision {
  verdict: 'accept' | 'drop';
  /**
   * How the verdict was reached: a rule, a chain's policy, no chain filtering this packet at all,
   * or (a gateway) the packet never reaching the firewall (`reason` says why).
   */
  by: 'rule' | 'policy' | 'no-chain' | 'not-crossing';
  reason?: string;
  /** The deciding rule, or the chain policy's declaration. */
  source?: SourceRef;
  /** The deciding rule's own text word (drop and reject both drop). */
  action?: 'accept' | 'drop' | 'reject';
  /** The chain the decision was taken in. */
  chain?: string;
  /** Rules that matched on the way and led there (jumps, gotos), outermost first, then the deciding one. */
  trail: Step[];
  /** Base chains that accepted the packet before the deciding one, in the order they ran. */
  passed: PassedChain[];
  /** Why the answer may be wrong: rules passed over because they might have matched, and would have decided otherwise. */
  uncertain: string[];
}

type Tri = boolean | 'unknown';

const MAX_DEPTH = 64;

export class EvaluationError extends Error {}

const indexes = new WeakMap<AddressMatch, AddressIndex>();

function cidrsOf(m: AddressMatch): AddressIndex {
  let c = indexes.get(m);
  if (!c) {
    c = new AddressIndex(
      m.cidrs.map((t) => {
        const v = parseCidr(t);
        if (isCidrError(v)) throw new Error(`internal: a reader kept the invalid network ${t}`);
        return v;
      }),
    );
    indexes.set(m, c);
  }
  return c;
}

/**
 * Parses every network the rule sets match on, once: what a query does at start-up, so that each
 * answer after it only walks the chains (evaluate would do it on first use otherwise).
 */
export function prepare(sets: Ruleset[]): void {
  for (const set of sets) {
    for (const chain of set.chains) {
      for (const rule of chain.rules) {
        if (rule.match.src) cidrsOf(rule.match.src);
        if (rule.match.dst) cidrsOf(rule.match.dst);
      }
    }
  }
}

function hostOf(addr: string): Cidr {
  const v = parseCidr(addr);
  if (isCidrError(v)) throw new EvaluationError(v.error);
  return v;
}

/** A name of the rule stands for the host when the lookup says so; unknown without a lookup. */
function namesMatch(names: string[] | undefined, host: Cidr, context: EvaluationContext): Tri {
  if (!names || names.length === 0) return false;
  let r: Tri = false;
  for (const n of names) {
    const addrs = context.nameAddresses?.(n);
    if (addrs === undefined) r = 'unknown';
    else if (indexOfList(addrs, hostOf).covers(host)) return true;
  }
  return r;
}

function addressMatches(m: AddressMatch | undefined, host: Cidr, context: EvaluationContext, unmodelled: boolean): Tri {
  if (!m) return true;
  // A named set the reader could not fill (a security group reference, a prefix list, a URL
  // alias: the rule is unsupported) may hold the address: that is not a miss.
  if (unmodelled && m.cidrs.length === 0 && !m.names?.length && m.name !== undefined) return 'unknown';
  const inside: Tri = cidrsOf(m).covers(host) ? true : namesMatch(m.names, host, context);
  if (inside === 'unknown') return inside;
  return m.negate ? !inside : inside;
}

function programMatches(rule: string | undefined, packet: string | undefined): Tri {
  if (rule === undefined) return true;
  if (packet === undefined) return 'unknown';
  return rule.toLowerCase() === packet.toLowerCase();
}

function portMatches(m: PortMatch | undefined, port: number | undefined): Tri {
  if (!m) return true;
  if (port === undefined) return 'unknown';
  const inside = m.ranges.some(([a, b]) => port >= a && port <= b);
  return m.negate ? !inside : inside;
}

/** An interface pattern: "lan+" (iptables) and "lan*" (nftables) are prefixes. */
function nameMatches(pattern: string, name: string): boolean {
  if (pattern.endsWith('+') || pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}

function interfaceMatches(pattern: string | undefined, negate: boolean | undefined, known: InterfaceKnowledge | undefined): Tri {
  if (pattern === undefined) return true;
  let hit: Tri;
  if (known === undefined) hit = 'unknown';
  else if ('is' in known) hit = nameMatches(pattern, known.is);
  else hit = known.isNot.includes(pattern) ? false : 'unknown';
  if (hit === 'unknown') return hit;
  return negate ? !hit : hit;
}

const PROTOCOL_NUMBER: Record<PacketProtocol, Record<IpFamily, number>> = {
  tcp: { 4: 6, 6: 6 },
  udp: { 4: 17, 6: 17 },
  icmp: { 4: 1, 6: 58 },
};

function protocolMatches(m: RuleMatch, p: Packet): boolean {
  if (m.protocol === undefined) return true;
  const hit = typeof m.protocol === 'number' ? m.protocol === PROTOCOL_NUMBER[p.protocol][p.family] : m.protocol === p.protocol;
  return m.negateProtocol ? !hit : hit;
}

/** The packet's fields a rule tests, compiled once per packet. */
interface Probe {
  p: Packet;
  src: Cidr;
  dst: Cidr;
  context: EvaluationContext;
}

function and(a: Tri, b: Tri): Tri {
  if (a === false || b === false) return false;
  if (a === 'unknown' || b === 'unknown') return 'unknown';
  return true;
}

function matches(m: RuleMatch, x: Probe, unmodelled = false): Tri {
  const p = x.p;
  if (m.family !== undefined && m.family !== p.family) return false;
  if (!protocolMatches(m, p)) return false;
  const addresses = and(addressMatches(m.src, x.src, x.context, unmodelled), addressMatches(m.dst, x.dst, x.context, unmodelled));
  if (addresses === false) return false;
  if ((m.sport || m.dport) && p.protocol === 'icmp') return false;
  if (m.icmpTypes) {
    if (p.protocol !== 'icmp') return false;
    const echo = m.icmpTypes.types.includes('echo-request');
    if (m.icmpTypes.negate ? echo : !echo) return false;
  }
  if (m.state && !m.state.includes(p.state ?? 'new')) return false;
  let r: Tri = and(addresses, and(portMatches(m.dport, p.dport), portMatches(m.sport, p.sport)));
  r = and(r, interfaceMatches(m.iif, m.negateIif, p.iif));
  r = and(r, interfaceMatches(m.oif, m.negateOif, p.oif));
  r = and(r, programMatches(m.program, p.program));
  return r;
}

function describeRule(r: RulesetRule): string {
  return `${r.source.file}:${r.source.line}`;
}

function unknownNames(m: AddressMatch | undefined, host: Cidr, context: EvaluationContext): string[] {
  if (!m?.names || cidrsOf(m).covers(host)) return [];
  return m.names.filter((n) => context.nameAddresses?.(n) === undefined);
}

function unknownFields(m: RuleMatch, x: Probe): string[] {
  const p = x.p;
  const out: string[] = [];
  const names = [...unknownNames(m.src, x.src, x.context), ...unknownNames(m.dst, x.dst, x.context)];
  if (names.length > 0) out.push(`whether ${names.join(', ')} ${names.length === 1 ? 'resolves' : 'resolve'} to its address (the box looks ${names.length === 1 ? 'it' : 'them'} up; no address is known here)`);
  if (m.program !== undefined && p.program === undefined) out.push(`its program (the rule is for ${m.program} only; --program says which)`);
  if (m.iif !== undefined && (p.iif === undefined || !('is' in p.iif))) out.push('the incoming interface');
  if (m.oif !== undefined && (p.oif === undefined || !('is' in p.oif))) out.push('the outgoing interface');
  if (m.sport && p.sport === undefined) out.push('the source port');
  if (m.dport && p.dport === undefined) out.push('the destination port');
  return out;
}

type ChainEnd =
  | { kind: 'accept' | 'drop'; steps: Step[]; action: 'accept' | 'drop' | 'reject' }
  | { kind: 'return' };

/** A rule passed over because it might match, with the verdict it would have given. */
interface PassedOver {
  verdict: RulesetRule['verdict']['kind'];
  text: string;
}

/**
 * Whether a rule passed over could have changed its base chain's outcome: an accept rule where
 * the chain accepted anyway (or a drop where it dropped) would only have decided it sooner, by
 * another rule; jumps and returns could lead anywhere.
 */
function couldChange(p: PassedOver, outcome: 'accept' | 'drop'): boolean {
  if (p.verdict === 'accept') return outcome !== 'accept';
  if (p.verdict === 'drop' || p.verdict === 'reject') return outcome !== 'drop';
  return true;
}

class Walker {
  readonly uncertain: PassedOver[] = [];

  constructor(
    private readonly set: Ruleset,
    private readonly probe: Probe,
  ) {}

  chain(name: string): Chain {
    const c = this.set.chains.find((x) => x.name === name);
    if (!c) throw new EvaluationError(`${this.set.file}: a rule jumps to chain ${name}, which the file does not declare`);
    return c;
  }

  run(chain: Chain, depth: number): ChainEnd {
    if (depth > MAX_DEPTH) throw new EvaluationError(`${this.set.file}: jumps nest deeper than ${MAX_DEPTH} chains (a loop?) at chain ${chain.name}`);
    for (const rule of chain.rules) {
      const hit = matches(rule.match, this.probe, rule.unsupported !== undefined);
      if (hit === false) continue;
      if (rule.verdict.kind === 'continue') continue;
      if (hit === 'unknown' || rule.unsupported !== undefined) {
        const why = rule.unsupported ?? `not known: ${unknownFields(rule.match, this.probe).join('; ')}`;
        this.uncertain.push({ verdict: rule.verdict.kind, text: `${describeRule(rule)} (${rule.verdict.kind}) might match, passed over: ${why}` });
        continue;
      }
      const step: Step = { chain: chain.name, rule };
      const v = rule.verdict;
      switch (v.kind) {
        case 'accept':
          return { kind: 'accept', steps: [step], action: 'accept' };
        case 'drop':
        case 'reject':
          return { kind: 'drop', steps: [step], action: v.kind };
        case 'return':
          return { kind: 'return' };
        case 'jump':
        case 'goto': {
          const end = this.run(this.chain(v.chain), depth + 1);
          if (end.kind !== 'return') return { ...end, steps: [step, ...end.steps] };
          if (v.kind === 'goto') return end;
          continue;
        }
      }
    }
    return { kind: 'return' };
  }
}

/** The base chains on one hook for a family, over every rule set given, in the order the kernel runs them. */
function baseChains(sets: Ruleset[], hook: Hook, family: IpFamily): Array<{ set: Ruleset; chain: Chain }> {
  const out: Array<{ set: Ruleset; chain: Chain; order: number }> = [];
  let order = 0;
  for (const set of sets) {
    for (const chain of set.chains) {
      if (chain.hook === hook && chain.families.includes(family)) out.push({ set, chain, order: order++ });
    }
  }
  return out.sort((a, b) => (a.chain.priority ?? 0) - (b.chain.priority ?? 0) || a.order - b.order);
}

/**
 * The verdict of the rule sets for a packet on a path. Every base chain on the path must let
 * it go on: an accept ends only its own chain, a drop anywhere is final.
 */
export function evaluate(sets: Ruleset[], packet: Packet, path: Path, context: EvaluationContext = {}): Decision {
  const probe: Probe = { p: packet, src: hostOf(packet.src), dst: hostOf(packet.dst), context };
  const uncertain: string[] = [];
  const accepted: Decision[] = [];
  for (const hook of HOOKS[path]) {
    for (const { set, chain } of baseChains(sets, hook, packet.family)) {
      const walker = new Walker(set, probe);
      const end = walker.run(chain, 0);
      const outcome = end.kind === 'return' ? chain.policy ?? 'accept' : end.kind;
      append(uncertain, walker.uncertain.filter((p) => couldChange(p, outcome)).map((p) => p.text));
      let d: Decision;
      if (end.kind === 'return') {
        d = { verdict: chain.policy ?? 'accept', by: 'policy', source: chain.policySource, chain: chain.name, trail: [], passed: [], uncertain };
      } else {
        const deciding = end.steps[end.steps.length - 1]!;
        d = { verdict: end.kind, by: 'rule', source: deciding.rule.source, action: end.action, chain: deciding.chain, trail: end.steps, passed: [], uncertain };
      }
      if (d.verdict === 'drop') return { ...d, passed: accepted.map(passedOf) };
      accepted.push(d);
    }
  }
  const last = accepted.pop();
  if (!last) return { verdict: 'accept', by: 'no-chain', trail: [], passed: [], uncertain };
  // Accepted by every chain on the way: the answer is the last of them, the others are listed.
  return { ...last, passed: accepted.map(passedOf) };
}

function passedOf(d: Decision): PassedChain {
  return { chain: d.chain!, by: d.by === 'policy' ? 'policy' : 'rule', source: d.source };
}
