import { formatPorts } from '../net/ports';
import type { Policy, Rule } from '../policy/types';
import type { Hook, IpFamily, Ruleset, RulesetRule } from '../ruleset/model';
import { addressSpace, BITS, cidrRange, count, EMPTY, normalize, rangesToCidrs, span, subtract, union, type Ranges } from '../ruleset/ranges';
import {
  compact,
  contextFor,
  DIM,
  evaluateHook,
  fullBox,
  intersectBox,
  protocolName,
  ruleBox,
  subtractAll,
  withDim,
  type Box,
  type Context,
  type Decision,
  type Evaluation,
  type Region,
} from '../ruleset/regions';
import { ruleRef, type AddressWidth, type AuditScope, type Decider, type FlowAudit, type Opening, type SpacePart, type UncertainRule } from './types';
import { append } from '../util/append';

/**
 * The policy against what a rule set admits. Audit looks at connections being opened to and
 * from the site's device classes: at a gateway the traffic whose source or destination is a
 * class, on a host what enters or leaves it. Loopback never crosses a firewall and is left out.
 */

const FAMILIES: IpFamily[] = [4, 6];
const LOOPBACK: Record<IpFamily, Ranges> = {
  4: span(0x7f000000n, 0x7fffffffn),
  6: span(1n, 1n),
};

function addressRanges(texts: readonly string[], family: IpFamily): Ranges {
  return normalize(texts.flatMap((t) => {
    const c = cidrRange(t);
    return 'error' in c || c.family !== family ? [] : [c.range];
  }));
}

function familyKey(f: IpFamily): 'ipv4' | 'ipv6' {
  return f === 4 ? 'ipv4' : 'ipv6';
}

function outsideAll(f: IpFamily): Ranges {
  return subtract(addressSpace(f), LOOPBACK[f]);
}

/** The families a scope's rule set filters: a file of one family (rules.v4) says nothing of the other. */
export function familiesOf(scope: AuditScope): IpFamily[] {
  const seen = new Set(scope.ruleset.chains.flatMap((c) => c.families));
  return FAMILIES.filter((f) => seen.size === 0 || seen.has(f));
}

/** The traffic a scope is judged on. */
function universe(policy: Policy, scope: AuditScope, hook: Hook, ctx: Context): Box[] {
  const notLo = subtract(ctx.interfaces.all, ctx.interfaces.only(['lo']));
  const boxes: Box[] = [];
  for (const f of familiesOf(scope)) {
    const any = outsideAll(f);
    const base = withDim(withDim(fullBox(f, ctx), DIM.src, any), DIM.dst, any);
    if (scope.deviceClass !== undefined) {
      boxes.push(withDim(base, hook === 'input' ? DIM.iif : DIM.oif, notLo));
      continue;
    }
    const site = addressRanges(policy.deviceClasses.flatMap((c) => c.addresses[familyKey(f)]), f);
    if (site.length === 0) continue;
    boxes.push(withDim(base, DIM.src, site));
    boxes.push(withDim(withDim(base, DIM.src, subtract(any, site)), DIM.dst, site));
  }
  return boxes;
}

/** Where a rule's other end is, as addresses: literal networks, peers, and the names the lock pins. */
function remoteOf(policy: Policy, rule: Rule): { texts: string[]; unpinned: string[] } {
  const texts = [...rule.remote.addresses.ipv4, ...rule.remote.addresses.ipv6];
  const unpinned: string[] = [];
  for (const n of rule.remote.names) {
    const info = policy.names.get(n);
    if (!info || info.wildcard || !info.addresses) unpinned.push(info?.wildcard ? `${n} (a wildcard: no address stands for it)` : `${n} (the lock holds no addresses for it)`);
    else append(append(texts, info.addresses.ipv4), info.addresses.ipv6);
  }
  return { texts, unpinned };
}

function hookOf(scope: AuditScope, rule: Rule): Hook {
  if (scope.deviceClass === undefined) return 'forward';
  return rule.direction === 'inbound' ? 'input' : 'output';
}

function protocolRanges(rule: Rule, f: IpFamily): Ranges {
  if (rule.protocol === undefined) return span(0n, 255n);
  const n = rule.protocol === 'tcp' ? 6n : rule.protocol === 'udp' ? 17n : f === 4 ? 1n : 58n;
  return span(n, n);
}

interface FlowShape {
  hook: Hook;
  /**
   * Builds the flow's boxes with the remote side's interfaces as given; 'any' leaves both sides'
   * interfaces open (what counts as the flow when openings beyond the profile are looked for:
   * the profile says nothing about interfaces, so a rule is not an opening for where it matches).
   */
  boxes(outside: Ranges | 'any'): Box[];
  /** Whether the remote side crosses an interface outside the site (not a peer class). */
  external: boolean;
  /** A flow to names alone that no address stands for: its boxes with any remote address. */
  names?: Box[];
  notes: string[];
  unchecked?: string;
}

function flowShape(policy: Policy, scope: AuditScope, rule: Rule, ctx: Context): FlowShape {
  const hook = hookOf(scope, rule);
  const notes: string[] = [];
  const host = scope.deviceClass !== undefined;
  if (rule.protocol === undefined && !scope.programs) {
    return { hook, boxes: () => [], external: false, notes, unchecked: `a program rule (${rule.programs.join(', ')}): only a Windows firewall matches programs` };
  }
  const { texts, unpinned } = rule.protocol === undefined ? { texts: ['0.0.0.0/0', '::/0'], unpinned: [] } : remoteOf(policy, rule);
  if (unpinned.length) notes.push(`not checked: ${unpinned.join(', ')}`);
  // Names no pinned address stands for: what the flow would be with any address at the other end.
  const names = unpinned.length ? flowShape(policy, scope, { ...rule, remote: { ...rule.remote, names: [], addresses: { ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] } } }, ctx).boxes('any') : undefined;
  if (texts.length === 0) return { hook, boxes: () => [], external: false, notes, unchecked: `no address stands for its other end: ${unpinned.join(', ')}`, ...(names ? { names } : {}) };
  const cls = policy.deviceClasses.find((c) => c.id === rule.deviceClass)!;
  const ifaceOf = (id: string): Ranges => {
    const name = scope.classInterface(id);
    return name === undefined ? ctx.interfaces.all : ctx.interfaces.only([name]);
  };
  const peers = rule.remote.peers;
  const peerIfaces = peers.reduce<Ranges>((acc, p) => union(acc, ifaceOf(p)), EMPTY);
  const outbound = rule.direction === 'outbound';
  const ports = rule.protocol === 'tcp' || rule.protocol === 'udp'
    ? rule.ports.length ? normalize(rule.ports.map((p) => [BigInt(p.from), BigInt(p.to)] as const)) : span(0n, 65535n)
    : span(0n, 65535n);
  const programs = scope.programs && rule.programs.length ? ctx.programs.only(rule.programs) : ctx.programs.all;
  const boxes = (outside: Ranges | 'any'): Box[] => {
    const out: Box[] = [];
    for (const f of familiesOf(scope)) {
      const remote = subtract(addressRanges(texts, f), LOOPBACK[f]);
      const local = host ? outsideAll(f) : addressRanges(cls.addresses[familyKey(f)], f);
      if (remote.length === 0 || local.length === 0) continue;
      let b = fullBox(f, ctx);
      b = withDim(b, DIM.proto, protocolRanges(rule, f));
      b = withDim(b, DIM.dport, ports);
      b = withDim(b, DIM.program, programs);
      b = withDim(b, DIM.src, outbound ? local : remote);
      b = withDim(b, DIM.dst, outbound ? remote : local);
      if (outside === 'any') {
        // Both interface dimensions stay whole.
      } else if (host) {
        b = withDim(b, outbound ? DIM.oif : DIM.iif, outside);
      } else {
        const remoteIf = peers.length ? peerIfaces : outside;
        b = withDim(b, outbound ? DIM.iif : DIM.oif, ifaceOf(cls.id));
        b = withDim(b, outbound ? DIM.oif : DIM.iif, remoteIf);
      }
      out.push(b);
    }
    return out;
  };
  return { hook, boxes, external: host || peers.length === 0, notes, ...(names ? { names } : {}) };
}

function decider(d: Decision): Decider {
  return { verdict: d.verdict, chain: d.chain, ...(d.source ? { rule: ruleRef(d.source) } : {}), byDefault: d.byDefault };
}

function deciderKey(d: Decision): string {
  return d.source ? `${d.source.file}\u0000${d.source.line}\u0000${d.source.text}\u0000${d.verdict}` : `${d.chain}\u0000${d.verdict}\u0000default`;
}

function volume(boxes: readonly Box[]): bigint {
  let v = 0n;
  for (const b of boxes) v += count(b.d[DIM.proto]!) * count(b.d[DIM.src]!) * count(b.d[DIM.dst]!) * count(b.d[DIM.dport]!);
  return v;
}

function overlapping(regions: readonly Region[], boxes: readonly Box[]): Region[] {
  return regions.filter((r) => boxes.some((b) => intersectBox(r.box, b)));
}

const EXCEPT_MAX = 6;

function width(r: Ranges, f: IpFamily): AddressWidth {
  const cidrs = rangesToCidrs(r, f);
  const widest = cidrs.reduce((m, c) => Math.min(m, Number(c.slice(c.indexOf('/') + 1))), BITS[f]);
  // Nearly everything reads better as what it leaves out.
  const rest = rangesToCidrs(subtract(addressSpace(f), r), f);
  return { cidrs, count: count(r).toString(), widest, ...(cidrs.length > EXCEPT_MAX && rest.length <= EXCEPT_MAX ? { except: rest } : {}) };
}

function portText(r: Ranges): string {
  if (r.length === 1 && r[0]![0] === 0n && r[0]![1] === 65535n) return 'any';
  return formatPorts(r.map(([a, b]) => ({ from: Number(a), to: Number(b) })));
}

const PORTED = new Set([6n, 17n, 33n, 132n, 136n]);

/**
 * Boxes in words. Boxes that differ only in their ports become one part (exact: the union of
 * boxes equal elsewhere); others stay apart, so a part never claims more than was found.
 */
function describe(boxes: readonly Box[], ctx: Context): SpacePart[] {
  const parts = new Map<string, { family: IpFamily; proto: Ranges; src: Ranges; dst: Ranges; dport: Ranges; sport: Ranges; iif: Ranges; oif: Ranges; prog: Ranges }>();
  for (const b of compact([...boxes])) {
    const k = b.d.map((r, i) => (i === DIM.dport ? '' : r.map(([x, y]) => `${x}-${y}`).join(','))).join('|') + `|${b.family}`;
    const p = parts.get(k);
    if (!p) parts.set(k, { family: b.family, proto: b.d[DIM.proto]!, src: b.d[DIM.src]!, dst: b.d[DIM.dst]!, dport: b.d[DIM.dport]!, sport: b.d[DIM.sport]!, iif: b.d[DIM.iif]!, oif: b.d[DIM.oif]!, prog: b.d[DIM.program]! });
    else {
      p.src = union(p.src, b.d[DIM.src]!);
      p.dst = union(p.dst, b.d[DIM.dst]!);
      p.dport = union(p.dport, b.d[DIM.dport]!);
      p.sport = union(p.sport, b.d[DIM.sport]!);
      p.iif = union(p.iif, b.d[DIM.iif]!);
      p.oif = union(p.oif, b.d[DIM.oif]!);
      p.prog = union(p.prog, b.d[DIM.program]!);
    }
  }
  // Interfaces are named only where a box leaves some out (loopback aside, which audit never looks at).
  const names = (r: Ranges, all: Ranges, list: string[], ignored: string[] = []): string[] | undefined => {
    const broad = subtract(all, normalize(ignored.flatMap((n) => { const i = list.indexOf(n); return i < 0 ? [] : [[BigInt(i), BigInt(i)] as const]; })));
    return count(subtract(broad, r)) === 0n ? undefined : r.flatMap(([a, b]) => list.slice(Number(a), Number(b) + 1)).filter((n) => !ignored.includes(n));
  };
  return [...parts.values()]
    .sort((a, b) => a.family - b.family)
    .map((p) => {
      const protocolNames = (r: Ranges): string[] => r.flatMap(([a, b]) => {
        const out: string[] = [];
        for (let n = a; n <= b && out.length < 8; n++) out.push(protocolName(n, p.family));
        return b - a >= 8n ? [...out, '…'] : out;
      });
      const left = subtract(span(0n, 255n), p.proto);
      const protos = left.length === 0 ? ['any'] : count(left) <= 4n ? [`any but ${protocolNames(left).join(', ')}`] : protocolNames(p.proto);
      const ported = protos.includes('any') || p.proto.some(([a, b]) => [...PORTED].some((x) => x >= a && x <= b));
      const iif = names(p.iif, ctx.interfaces.all, ctx.interfaces.names, ['lo']);
      const oif = names(p.oif, ctx.interfaces.all, ctx.interfaces.names, ['lo']);
      const prog = names(p.prog, ctx.programs.all, ctx.programs.names);
      const sports = portText(p.sport);
      return {
        family: p.family,
        protocols: protos,
        src: width(p.src, p.family),
        dst: width(p.dst, p.family),
        ports: ported ? portText(p.dport) : 'any',
        ...(ported && sports !== 'any' ? { sourcePorts: sports } : {}),
        ...(iif ? { inInterfaces: iif } : {}),
        ...(oif ? { outInterfaces: oif } : {}),
        ...(prog ? { programs: prog } : {}),
      };
    });
}

function flowPorts(rule: Rule): string {
  if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') return 'any';
  return rule.ports.length ? formatPorts(rule.ports) : 'any';
}

function inScope(scope: AuditScope, rule: Rule): boolean {
  return scope.deviceClass === undefined || rule.deviceClass === scope.deviceClass;
}

export interface ScopeResult {
  flows: FlowAudit[];
  openings: Opening[];
  uncertain: UncertainRule[];
  notes: string[];
  hooks: Hook[];
}

/** Audits one scope: each in-scope flow of the policy, and what the rule set admits beyond them. */
export function auditScope(policy: Policy, scope: AuditScope, rulesetsForDomain: readonly Ruleset[]): ScopeResult {
  const names = new Map<string, string[]>();
  for (const [n, info] of policy.names) if (info.addresses && !info.wildcard) names.set(n.toLowerCase(), [...info.addresses.ipv4, ...info.addresses.ipv6]);
  const classIfaces = policy.deviceClasses.map((c) => scope.classInterface(c.id)).filter((x): x is string => x !== undefined);
  const programs = scope.programs ? policy.rules.flatMap((r) => r.programs) : [];
  const ctx = contextFor(rulesetsForDomain, [...classIfaces, 'lo'], programs, (n) => names.get(n.toLowerCase()));
  // The other end of a flow may arrive on any interface but loopback, a class's own included
  // (a DMZ whose servers are reached on the interface they sit behind).
  const outside = subtract(ctx.interfaces.all, ctx.interfaces.only(['lo']));
  const hooks: Hook[] = scope.deviceClass === undefined ? ['forward'] : ['input', 'output'];
  const evals = new Map<Hook, Evaluation>(hooks.map((h) => [h, evaluateHook(scope.ruleset, h, universe(policy, scope, h, ctx), ctx)]));
  const notes = [...scope.notes];
  for (const f of FAMILIES.filter((x) => !familiesOf(scope).includes(x))) notes.push(`IPv${f}: the files hold no rules for it, so its traffic and flows are not audited here`);
  const flows: FlowAudit[] = [];
  const covering = new Map<Hook, Box[]>(hooks.map((h) => [h, []]));
  const nameFlows = new Map<Hook, Box[]>(hooks.map((h) => [h, []]));
  const vendorPages = new Map(policy.vendors.map((v) => [v.id, v.citation]));

  for (const rule of policy.rules) {
    if (!inScope(scope, rule)) continue;
    const shape = flowShape(policy, scope, rule, ctx);
    const ev = evals.get(shape.hook)!;
    const base: Omit<FlowAudit, 'status' | 'missing' | 'admittedBy' | 'blockedBy'> = {
      scope: scope.label,
      id: rule.id,
      vendor: rule.vendor,
      service: rule.service,
      deviceClass: rule.deviceClass,
      direction: rule.direction,
      protocol: rule.protocol ?? 'program',
      ports: flowPorts(rule),
      origins: rule.origins.map((o) => ({ file: o.loc.file, line: o.loc.line, col: o.loc.col, ...(o.cite ? { cite: o.cite } : {}) })),
      ...(vendorPages.get(rule.vendor) ? { page: vendorPages.get(rule.vendor)! } : {}),
      notes: shape.notes,
    };
    if (shape.names) append(nameFlows.get(shape.hook)!, shape.names);
    if (shape.unchecked) {
      flows.push({ ...base, status: 'unchecked', missing: [], admittedBy: [], blockedBy: [], notes: [shape.unchecked] });
      continue;
    }
    append(covering.get(shape.hook)!, shape.boxes('any'));
    // The remote side may be reached through any interface outside the site: the flow is met
    // when one of them admits all of it (an admin's rule names the WAN interface it uses).
    const candidates = shape.external ? outside.flatMap(([a, b]) => {
      const out: Ranges[] = [];
      for (let i = a; i <= b; i++) out.push(span(i, i));
      return out;
    }) : [EMPTY];
    let best: { boxes: Box[]; missing: Box[]; lost: bigint } | undefined;
    for (const cand of candidates) {
      const boxes = shape.boxes(cand);
      const missing = subtractAll(boxes, overlapping(ev.accepted, boxes).map((r) => r.box));
      const lost = volume(missing);
      if (!best || lost < best.lost) best = { boxes, missing, lost };
      if (lost === 0n) break;
    }
    // Admitted through no interface at all: say what stops it on every one of them.
    if (candidates.length > 1 && best!.lost === volume(best!.boxes)) {
      const boxes = shape.boxes(outside);
      best = { boxes, missing: subtractAll(boxes, overlapping(ev.accepted, boxes).map((r) => r.box)), lost: best!.lost };
    }
    const { boxes, missing, lost } = best!;
    const admitted = overlapping(ev.accepted, boxes);
    const status = missing.length === 0 ? 'met' : lost === volume(boxes) && admitted.length === 0 ? 'missing' : 'partial';
    const blockers = new Map<string, Decider>();
    for (const r of overlapping(ev.denied, missing)) blockers.set(deciderKey(r.by), decider(r.by));
    const admitters = new Map<string, ReturnType<typeof ruleRef>>();
    for (const r of admitted) if (r.by.source) admitters.set(deciderKey(r.by), ruleRef(r.by.source));
    flows.push({ ...base, status, missing: describe(missing, ctx), admittedBy: [...admitters.values()], blockedBy: [...blockers.values()] });
  }

  const openings: Opening[] = [];
  const uncertain: UncertainRule[] = [];
  for (const h of hooks) {
    const ev = evals.get(h)!;
    const flowsHere = covering.get(h)!;
    const extra = new Map<string, { by: Decision; boxes: Box[] }>();
    for (const r of ev.accepted) {
      const left = subtractAll([r.box], flowsHere.filter((b) => intersectBox(r.box, b)));
      if (left.length === 0) continue;
      const k = deciderKey(r.by);
      const e = extra.get(k) ?? { by: r.by, boxes: [] };
      append(e.boxes, left);
      extra.set(k, e);
    }
    for (const e of extra.values()) openings.push({ scope: scope.label, by: decider(e.by), parts: describe(e.boxes, ctx) });
    const universeHere = universe(policy, scope, h, ctx);
    for (const r of ev.uncertain) {
      if (implementsNameFlow(r, universeHere, nameFlows.get(h)!, ctx)) {
        notes.push(`${r.source.file}:${r.source.line} matches addresses filled in at run time (${r.unsupported}) for a flow to names no address in the lock stands for; checked no further`);
        continue;
      }
      uncertain.push({ scope: scope.label, rule: ruleRef(r.source), verdict: r.verdict.kind, why: r.unsupported ?? '' });
    }
    for (const nd of ev.neighbourDiscovery) notes.push(`${nd.file}:${nd.line} allows IPv6 neighbour discovery, which IPv6 needs to work; not counted as an opening`);
    for (const u of ev.unresolved) notes.push(`${u.name} (${u.rule.file}:${u.rule.line}): the lock file holds no addresses for it, so its rule matched nothing by it here`);
  }
  openings.sort((a, b) => (a.by.rule?.line ?? Infinity) - (b.by.rule?.line ?? Infinity) || a.by.chain.localeCompare(b.by.chain));
  return { flows, openings, uncertain: dedupeUncertain(uncertain), notes: [...new Set(notes)], hooks };
}

/**
 * An accept rule the reader could not model whole (a set filled at run time, by dnsmasq say)
 * that, by what it does model, admits nothing beyond the profile's flows to names that no
 * pinned address stands for: it is how such a flow is done, not an unknown opening.
 */
function implementsNameFlow(rule: RulesetRule, universeBoxes: Box[], nameFlowBoxes: Box[], ctx: Context): boolean {
  if (rule.verdict.kind !== 'accept' || nameFlowBoxes.length === 0) return false;
  for (const f of FAMILIES) {
    const rb = ruleBox(rule.match, f, ctx);
    if (!rb) continue;
    const inside = universeBoxes.map((u) => intersectBox(u, rb)).filter((b): b is Box => !!b);
    if (subtractAll(inside, nameFlowBoxes).length > 0) return false;
  }
  return true;
}

function dedupeUncertain(list: UncertainRule[]): UncertainRule[] {
  const seen = new Set<string>();
  return list.filter((u) => {
    const k = `${u.rule.file}:${u.rule.line}:${u.rule.text}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
