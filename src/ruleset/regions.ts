import { InputError } from '../errors';
import type { Chain, Hook, IpFamily, PortMatch, RuleMatch, Ruleset, RulesetRule, SourceRef } from './model';
import { addressSpace, cidrRange, complement, EMPTY, intersect, normalize, sameRanges, span, subtract, union, type Ranges } from './ranges';
import { append } from '../util/append';

/**
 * What a chain admits, as a set of boxes: protocol × source × destination × ports × interfaces
 * × program, each box with the rule that decides it. Computed by running the chain over boxes
 * instead of packets: every rule takes what it matches out of what is still flowing, so a box
 * an earlier drop took is never credited to a later accept (shadowing), and jumps, returns and
 * default policies mean what they mean on the box.
 */

/** The dimensions of a box, in this order. */
export const DIM = { proto: 0, src: 1, dst: 2, sport: 3, dport: 4, iif: 5, oif: 6, program: 7 } as const;
const DIMS = 8;

export interface Box {
  family: IpFamily;
  d: Ranges[];
}

/** Who decides a box: a rule, or a chain's default (no rule matched). */
export interface Decision {
  verdict: 'accept' | 'drop';
  chain: string;
  source?: SourceRef;
  byDefault: boolean;
}

export interface Region {
  box: Box;
  by: Decision;
}

const ALL_PORTS = span(0n, 65535n);
const ALL_PROTOCOLS = span(0n, 255n);
/** Protocols that carry ports: tcp, udp, dccp, sctp, udplite. A port match implies one of them. */
const PORT_PROTOCOLS = normalize([6n, 33n, 17n, 132n, 136n].map((p) => [p, p] as const));

/**
 * A dimension of names (interfaces, programs) made finite: the names the rule set and the site
 * mention, one stand-in per prefix pattern for the names it covers that no one mentions, and
 * index 0 for every other name.
 */
export class NameDomain {
  readonly names: string[];
  private readonly index = new Map<string, number>();

  constructor(
    /** How index 0, every name no one mentions, is shown. */
    other: string,
    private readonly fold: (s: string) => string = (s) => s,
  ) {
    this.names = [other];
  }

  /** A name, or a prefix pattern ("eth+", "eth*") when `prefix` is true. */
  add(text: string, prefix = false): void {
    const key = prefix ? `${this.fold(text)}\u2026` : this.fold(text);
    if (this.index.has(key)) return;
    this.index.set(key, this.names.length);
    this.names.push(key);
  }

  get all(): Ranges {
    return span(0n, BigInt(this.names.length - 1));
  }

  indexOf(name: string): number | undefined {
    return this.index.get(this.fold(name));
  }

  /** The indices a pattern matches: the exact name, or every name (and stand-in) under a prefix. */
  match(text: string, prefix: boolean): Ranges {
    if (!prefix) {
      const i = this.index.get(this.fold(text));
      return i === undefined ? EMPTY : span(BigInt(i), BigInt(i));
    }
    const p = this.fold(text);
    return normalize(this.names.flatMap((n, i) => (i > 0 && n.startsWith(p) ? [[BigInt(i), BigInt(i)] as const] : [])));
  }

  only(names: readonly string[]): Ranges {
    return normalize(names.flatMap((n) => {
      const i = this.index.get(this.fold(n));
      return i === undefined ? [] : [[BigInt(i), BigInt(i)] as const];
    }));
  }
}

/** An interface pattern: "eth+" (iptables) and "eth*" (nftables) are prefixes. */
export function interfacePattern(text: string): { name: string; prefix: boolean } {
  return /[+*]$/.test(text) ? { name: text.slice(0, -1), prefix: true } : { name: text, prefix: false };
}

/** What a box is evaluated against: the name dimensions, and how names in rules become addresses. */
export interface Context {
  interfaces: NameDomain;
  programs: NameDomain;
  /** The addresses a host name stands for (audit: the site's lock file); undefined when unknown. */
  resolve(name: string): string[] | undefined;
}

export function contextFor(rulesets: readonly Ruleset[], extraInterfaces: readonly string[], extraPrograms: readonly string[], resolve: Context['resolve']): Context {
  const interfaces = new NameDomain('(any other interface)');
  const programs = new NameDomain('(any other program)', (s) => s.toLowerCase());
  for (const n of extraInterfaces) interfaces.add(n);
  for (const p of extraPrograms) programs.add(p);
  for (const rs of rulesets) {
    for (const c of rs.chains) {
      for (const r of c.rules) {
        for (const i of [r.match.iif, r.match.oif]) {
          if (i === undefined) continue;
          const p = interfacePattern(i);
          interfaces.add(p.name, p.prefix);
        }
        if (r.match.program !== undefined) programs.add(r.match.program);
      }
    }
  }
  return { interfaces, programs, resolve };
}

export function fullBox(family: IpFamily, ctx: Context): Box {
  return { family, d: [ALL_PROTOCOLS, addressSpace(family), addressSpace(family), ALL_PORTS, ALL_PORTS, ctx.interfaces.all, ctx.interfaces.all, ctx.programs.all] };
}

export function withDim(box: Box, dim: number, r: Ranges): Box {
  const d = box.d.slice();
  d[dim] = r;
  return { family: box.family, d };
}

export function intersectBox(a: Box, b: Box): Box | undefined {
  if (a.family !== b.family) return undefined;
  const d: Ranges[] = [];
  for (let i = 0; i < DIMS; i++) {
    const x = intersect(a.d[i]!, b.d[i]!);
    if (x.length === 0) return undefined;
    d.push(x);
  }
  return { family: a.family, d };
}

/** a minus b, as at most one box per dimension. */
export function subtractBox(a: Box, b: Box): Box[] {
  if (a.family !== b.family) return [a];
  const pieces: Box[] = [];
  const cur = a.d.slice();
  for (let i = 0; i < DIMS; i++) {
    const inside = intersect(cur[i]!, b.d[i]!);
    if (inside.length === 0) return [a];
    const outside = subtract(cur[i]!, b.d[i]!);
    if (outside.length > 0) {
      const d = cur.slice();
      d[i] = outside;
      pieces.push({ family: a.family, d });
    }
    cur[i] = inside;
  }
  return pieces;
}

/** What is left of `boxes` once every box of `cut` is taken out. */
export function subtractAll(boxes: readonly Box[], cut: readonly Box[]): Box[] {
  let left = [...boxes];
  for (const c of cut) {
    const next: Box[] = [];
    for (const b of left) append(next, subtractBox(b, c));
    left = next.length > 64 ? compact(next) : next;
  }
  return left;
}

function key(box: Box, skip: number): string {
  return `${box.family}|${box.d.map((r, i) => (i === skip ? '' : r.map(([x, y]) => `${x}-${y}`).join(','))).join('|')}`;
}

/**
 * Items whose boxes differ in one dimension only (and that `same` lets go together) become one
 * item: keeps the pieces of repeated subtraction few.
 */
function compactBy<T>(items: T[], boxOf: (t: T) => Box, rebox: (t: T, b: Box) => T, same: (a: T, b: T) => boolean): T[] {
  let list = items;
  for (let dim = 0; dim < DIMS; dim++) {
    const groups = new Map<string, T[]>();
    for (const it of list) {
      const b = boxOf(it);
      const k = key(b, dim);
      const g = groups.get(k);
      const at = g ? g.findIndex((x) => same(x, it)) : -1;
      if (g && at >= 0) {
        const fb = boxOf(g[at]!);
        g[at] = rebox(g[at]!, withDim(fb, dim, union(fb.d[dim]!, b.d[dim]!)));
      } else if (g) g.push(it);
      else groups.set(k, [it]);
    }
    list = [...groups.values()].flat();
  }
  return list;
}

export function compact(boxes: Box[]): Box[] {
  return compactBy(boxes, (b) => b, (_b, nb) => nb, () => true);
}

export function compactRegions<T extends { box: Box }>(items: T[], same: (a: T, b: T) => boolean): T[] {
  return compactBy(items, (t) => t.box, (t, box) => ({ ...t, box }), same);
}

function portRanges(m: PortMatch): Ranges {
  const r = normalize(m.ranges.map(([a, b]) => [BigInt(a), BigInt(b)] as const));
  return m.negate ? complement(r, ALL_PORTS) : r;
}

function protocolNumber(p: NonNullable<RuleMatch['protocol']>, family: IpFamily): bigint {
  if (p === 'tcp') return 6n;
  if (p === 'udp') return 17n;
  if (p === 'icmp') return family === 4 ? 1n : 58n;
  return BigInt(p);
}

export function protocolName(n: bigint, family: IpFamily): string {
  if (n === 6n) return 'tcp';
  if (n === 17n) return 'udp';
  if (n === (family === 4 ? 1n : 58n)) return 'icmp';
  return `protocol ${n}`;
}

/** The box a rule matches for one family; undefined when it matches nothing of it (or no new connection). */
export function ruleBox(m: RuleMatch, family: IpFamily, ctx: Context, unresolved?: (name: string) => void, uncertain = false): Box | undefined {
  if (m.family !== undefined && m.family !== family) return undefined;
  // Audit looks at connections being opened; a rule for established or related packets only admits none.
  if (m.state !== undefined && !m.state.includes('new')) return undefined;
  const box = fullBox(family, ctx);
  if (m.protocol !== undefined) {
    const p = protocolNumber(m.protocol, family);
    const r = span(p, p);
    box.d[DIM.proto] = m.negateProtocol ? complement(r, ALL_PROTOCOLS) : r;
  }
  if (m.sport || m.dport) box.d[DIM.proto] = intersect(box.d[DIM.proto]!, PORT_PROTOCOLS);
  for (const [field, dim] of [['src', DIM.src], ['dst', DIM.dst]] as const) {
    const a = m[field];
    if (!a) continue;
    // A rule that cannot be modelled whole and names addresses the file does not hold (a group
    // reference, a prefix list): what it might match there is anything, so it is named, not skipped.
    if (uncertain && a.cidrs.length === 0 && !a.names?.length && a.name !== undefined) continue;
    const texts = [...a.cidrs];
    for (const n of a.names ?? []) {
      const got = ctx.resolve(n);
      if (got) append(texts, got);
      else unresolved?.(n);
    }
    const ranges = normalize(texts.flatMap((t) => {
      const c = cidrRange(t);
      return 'error' in c || c.family !== family ? [] : [c.range];
    }));
    box.d[dim] = a.negate ? complement(ranges, addressSpace(family)) : ranges;
  }
  if (m.sport) box.d[DIM.sport] = portRanges(m.sport);
  if (m.dport) box.d[DIM.dport] = portRanges(m.dport);
  for (const [field, neg, dim] of [['iif', 'negateIif', DIM.iif], ['oif', 'negateOif', DIM.oif]] as const) {
    const i = m[field];
    if (i === undefined) continue;
    const p = interfacePattern(i);
    const r = ctx.interfaces.match(p.name, p.prefix);
    box.d[dim] = m[neg] ? complement(r, ctx.interfaces.all) : r;
  }
  if (m.program !== undefined) box.d[DIM.program] = ctx.programs.match(m.program, false);
  return box.d.some((r) => r.length === 0) ? undefined : box;
}

export interface Evaluation {
  accepted: Region[];
  denied: Region[];
  /** Rules the reader could not model that some traffic reached: never taken to match. */
  uncertain: RulesetRule[];
  /** Names in rules with no known addresses: their rules matched nothing by them. */
  unresolved: Array<{ name: string; rule: SourceRef }>;
  /** Accept rules for IPv6 neighbour discovery alone, which IPv6 needs to work: not an opening. */
  neighbourDiscovery: SourceRef[];
}

/** ICMPv6 neighbour discovery and router messages (133-137), by nft or ip6tables name, or number. */
const NEIGHBOUR_DISCOVERY = new Set([
  'nd-router-solicit', 'nd-router-advert', 'nd-neighbor-solicit', 'nd-neighbor-advert', 'nd-redirect',
  'router-solicitation', 'router-advertisement', 'neighbour-solicitation', 'neighbour-advertisement', 'neighbor-solicitation', 'neighbor-advertisement', 'redirect',
  '133', '134', '135', '136', '137',
]);

/**
 * A match on ICMP types: audit does not split ICMP by type, so such a rule is taken to match
 * nothing (a drop then stops less than it does, an accept admits less) and is named instead;
 * neighbour discovery alone is IPv6's own plumbing and only noted.
 */
function icmpTypesWhy(m: RuleMatch): string | undefined {
  if (!m.icmpTypes) return undefined;
  return `ICMP types ${m.icmpTypes.negate ? 'other than ' : ''}${m.icmpTypes.types.join(', ')} only`;
}

function neighbourDiscoveryOnly(m: RuleMatch): boolean {
  // "redirect" is ICMPv6 137 only in an IPv6 rule; in ICMP it is type 5.
  return !!m.icmpTypes && !m.icmpTypes.negate && m.icmpTypes.types.every((t) => NEIGHBOUR_DISCOVERY.has(t) && (t !== 'redirect' || m.family === 6));
}

interface Flowing {
  box: Box;
  /** What an earlier base chain on the hook decided, kept when a later one accepts by default. */
  prior?: Decision;
}

const MAX_DEPTH = 64;

class Runner {
  readonly out: Evaluation = { accepted: [], denied: [], uncertain: [], unresolved: [], neighbourDiscovery: [] };
  private readonly chains: Map<string, Chain>;
  private readonly boxes = new Map<RulesetRule, Map<IpFamily, Box | undefined>>();
  private readonly uncertainSeen = new Set<RulesetRule>();
  private readonly unresolvedSeen = new Set<string>();

  constructor(
    rs: Ruleset,
    private readonly ctx: Context,
  ) {
    this.chains = new Map(rs.chains.map((c) => [c.name, c]));
  }

  private boxOf(rule: RulesetRule, family: IpFamily): Box | undefined {
    let byFamily = this.boxes.get(rule);
    if (!byFamily) this.boxes.set(rule, (byFamily = new Map()));
    if (!byFamily.has(family)) {
      byFamily.set(family, ruleBox(rule.match, family, this.ctx, (name) => {
        const k = `${name}|${rule.source.file}:${rule.source.line}`;
        if (this.unresolvedSeen.has(k)) return;
        this.unresolvedSeen.add(k);
        this.out.unresolved.push({ name, rule: rule.source });
      }, rule.unsupported !== undefined));
    }
    return byFamily.get(family);
  }

  /** Runs a chain; what leaves it by falling off its end or by return is given back. */
  run(chain: Chain, input: Flowing[], depth: number, via?: RulesetRule): Flowing[] {
    if (depth > MAX_DEPTH) {
      const at = via?.source;
      throw new InputError([{ loc: { file: at?.file ?? chain.name, line: at?.line ?? 1, col: 1 }, field: chain.name, message: `jumps nest deeper than ${MAX_DEPTH} chains (a loop?)` }]);
    }
    let flowing = input;
    const returned: Flowing[] = [];
    for (const rule of chain.rules) {
      if (flowing.length === 0) break;
      const matched: Flowing[] = [];
      const rest: Flowing[] = [];
      for (const f of flowing) {
        const rb = this.boxOf(rule, f.box.family);
        const inside = rb && intersectBox(f.box, rb);
        if (!rb || !inside) {
          rest.push(f);
          continue;
        }
        matched.push({ box: inside, prior: f.prior });
        for (const piece of subtractBox(f.box, rb)) rest.push({ box: piece, prior: f.prior });
      }
      if (matched.length === 0) continue;
      const why = rule.unsupported ?? icmpTypesWhy(rule.match);
      if (why !== undefined) {
        if (!this.uncertainSeen.has(rule)) {
          this.uncertainSeen.add(rule);
          if (rule.unsupported === undefined && rule.verdict.kind === 'accept' && neighbourDiscoveryOnly(rule.match)) this.out.neighbourDiscovery.push(rule.source);
          else this.out.uncertain.push(rule.unsupported === undefined ? { ...rule, unsupported: why } : rule);
        }
        continue;
      }
      const v = rule.verdict;
      if (v.kind === 'continue') continue;
      flowing = rest.length > 32 ? compactRegions(rest, samePrior) : rest;
      const decision = (verdict: 'accept' | 'drop'): Decision => ({ verdict, chain: chain.name, source: rule.source, byDefault: false });
      if (v.kind === 'accept') append(this.out.accepted, matched.map((m) => ({ box: m.box, by: decision('accept') })));
      else if (v.kind === 'drop' || v.kind === 'reject') append(this.out.denied, matched.map((m) => ({ box: m.box, by: decision('drop') })));
      else if (v.kind === 'return') append(returned, matched);
      else {
        const target = this.chains.get(v.chain);
        if (!target) {
          throw new InputError([{ loc: { file: rule.source.file, line: rule.source.line, col: 1 }, field: chain.name, message: `jumps to chain ${v.chain}, which the file does not define` }]);
        }
        const back = this.run(target, matched, depth + 1, rule);
        if (v.kind === 'jump') flowing = [...flowing, ...back];
        else append(returned, back);
      }
    }
    append(returned, flowing);
    if (chain.hook === undefined) return returned;
    // A base chain: what no rule decided meets the chain's policy (accept when it declares none).
    const verdict = chain.policy ?? 'accept';
    for (const f of returned) {
      const own: Decision = { verdict, chain: chain.name, ...(chain.policySource ? { source: chain.policySource } : {}), byDefault: true };
      (verdict === 'accept' ? this.out.accepted : this.out.denied).push({ box: f.box, by: verdict === 'accept' && f.prior ? f.prior : own });
    }
    return [];
  }
}

function samePrior(a: Flowing, b: Flowing): boolean {
  return a.prior === b.prior;
}

/** The chains a packet on `hook` passes, in order (nftables priority; equal priorities keep file order). */
export function hookChains(rs: Ruleset, hook: Hook): Chain[] {
  return rs.chains
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.hook === hook)
    .sort((a, b) => (a.c.priority ?? 0) - (b.c.priority ?? 0) || a.i - b.i)
    .map(({ c }) => c);
}

/**
 * What `universe` comes to on `hook`: the accepted boxes and the denied ones, each with its
 * deciding rule. Several base chains on one hook must each accept; a drop in any is final.
 */
export function evaluateHook(rs: Ruleset, hook: Hook, universe: readonly Box[], ctx: Context): Evaluation {
  const runner = new Runner(rs, ctx);
  const chains = hookChains(rs, hook);
  if (chains.length === 0) {
    append(runner.out.accepted, universe.map((box) => ({ box, by: { verdict: 'accept' as const, chain: `(no ${hook} chain)`, byDefault: true } })));
    return runner.out;
  }
  let current: Flowing[] = universe.map((box) => ({ box }));
  for (const chain of chains) {
    // A chain of one family (iptables, ip6tables) is not met by the other family's packets.
    const meets = (f: Flowing): boolean => chain.families.length === 0 || chain.families.includes(f.box.family);
    const before = runner.out.accepted.length;
    runner.run(chain, current.filter(meets), 0);
    // What this chain accepted goes on to the next base chain, remembering who accepted it.
    const passed = runner.out.accepted.splice(before);
    current = [...current.filter((f) => !meets(f)), ...passed.map((r) => ({ box: r.box, prior: r.by }))];
  }
  append(runner.out.accepted, current.map((f) => ({ box: f.box, by: f.prior ?? { verdict: 'accept' as const, chain: `(no ${hook} chain for IPv${f.box.family})`, byDefault: true } })));
  return runner.out;
}

export function sameBox(a: Box, b: Box): boolean {
  return a.family === b.family && a.d.every((r, i) => sameRanges(r, b.d[i]!));
}
