import type { SourceLocation } from '../../errors';
import type { ConnState, IpFamily, RuleMatch, RulesetRule, SourceRef, Verdict } from '../model';
import type { Token } from './nft-tokens';
import { addressCidrs, icmpTypeName, portRange, protocolOf, readError } from './values';
import { append } from '../../util/append';

/**
 * One nft rule (its words, as nft-tokens reads them) into the shared model. A rule whose
 * matches hold a list the model keeps as one field (addresses, ports, states) stays one rule;
 * a list the model cannot hold in one field (interfaces, protocols, concatenations, verdict
 * maps) becomes one rule per element, in order, with the same source line: first match over
 * them means what the kernel's single lookup means.
 *
 * What is not modelled (marks, limits, TCP flags, sets filled at run time) is kept in
 * `unsupported`, with the modelled matches as a necessary condition only.
 */

export interface SetElement {
  /** The parts of a concatenated element ("10.0.0.1 . 443"), one for a plain one. */
  parts: Array<{ text: string; loc: SourceLocation }>;
  /** Verdict maps: what the element maps to. */
  verdict?: Verdict;
}

export interface BuildContext {
  set(name: string): { elements: SetElement[]; dynamic: boolean } | undefined;
  define(name: string): Token[] | undefined;
  /** The model's name of a chain of the same table. */
  chainName(name: string): string;
}

type Selector =
  | { kind: 'addr'; side: 'src' | 'dst'; family: IpFamily }
  | { kind: 'port'; side: 'sport' | 'dport'; proto?: 'tcp' | 'udp' }
  | { kind: 'proto'; family?: IpFamily }
  | { kind: 'iface'; side: 'iif' | 'oif' }
  | { kind: 'state' }
  | { kind: 'icmp'; family: IpFamily }
  | { kind: 'nfproto' };

interface Alt {
  match: RuleMatch;
  verdict?: Verdict;
  unsupported: string[];
}

/** A rule may expand into this many; beyond, the file is refused rather than read slowly. */
const MAX_ALTERNATIVES = 65536;

const STATES: ConnState[] = ['new', 'established', 'related', 'invalid', 'untracked'];
const VERDICT_WORDS = new Set(['accept', 'drop', 'return', 'continue', 'jump', 'goto', 'reject', 'queue']);

function loc(file: string, t: Token): SourceLocation {
  return { file, line: t.line, col: t.col };
}

export class NftBuilder {
  private alts: Alt[] = [{ match: {}, unsupported: [] }];
  private verdict: Verdict = { kind: 'continue' };
  private toks: Token[] = [];
  private i = 0;

  constructor(
    private readonly file: string,
    private readonly source: SourceRef,
    /** The table's family when it is ip or ip6 (an inet table leaves it open). */
    private readonly tableFamily: IpFamily | undefined,
    private readonly ctx: BuildContext,
  ) {}

  /** The elements of a set body or anonymous set: parts joined by '.', separated by ',' or newlines. */
  static elements(file: string, toks: Token[], define: (name: string) => Token[] | undefined, depth = 0): SetElement[] {
    const out: SetElement[] = [];
    let cur: SetElement | undefined;
    let expectPart = true;
    const flush = () => {
      if (cur) out.push(cur);
      cur = undefined;
      expectPart = true;
    };
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i]!;
      if (t.kind === 'end' || (t.kind === 'punct' && t.text === ',')) {
        flush();
        continue;
      }
      if (t.kind === 'punct') throw readError(loc(file, t), 'elements', `unexpected '${t.text}' in a list of elements`);
      if (t.kind === 'word' && t.text === '.' && cur) {
        expectPart = true;
        continue;
      }
      if (t.kind === 'word' && t.text === ':' && cur) {
        const v = toks[++i];
        if (!v || v.kind !== 'word' || !VERDICT_WORDS.has(v.text)) throw readError(loc(file, t), 'vmap', 'a verdict map element needs a verdict after ":"');
        cur.verdict = v.text === 'jump' || v.text === 'goto' ? { kind: v.text, chain: toks[++i]?.text ?? '' } : simpleVerdict(v.text);
        continue;
      }
      if (!expectPart) {
        // Options after an element: timeout, expires, counter ..., comment "..."
        if (t.text === 'timeout' || t.text === 'expires' || t.text === 'comment') i++;
        else if (t.text === 'counter') while (toks[i + 1]?.kind === 'word' && /^(packets|bytes|\d+)$/.test(toks[i + 1]!.text)) i++;
        else throw readError(loc(file, t), 'elements', `'${t.text}' after an element: separate elements with ','`);
        continue;
      }
      let parts: SetElement['parts'] = [{ text: t.text, loc: loc(file, t) }];
      if (t.kind === 'word' && t.text.startsWith('$')) {
        if (depth > 16) throw readError(loc(file, t), 'define', 'defines nest too deep');
        const body = define(t.text.slice(1));
        if (!body) throw readError(loc(file, t), 'define', `${t.text} is not defined before this line`);
        const inner = body.length > 1 && body[0]!.text === '{' && body[body.length - 1]!.text === '}' ? body.slice(1, -1) : body;
        const expanded = NftBuilder.elements(file, inner, define, depth + 1);
        if (cur === undefined && expanded.length !== 1) {
          append(out, expanded);
          expectPart = false;
          continue;
        }
        if (expanded.length !== 1) throw readError(loc(file, t), 'define', `${t.text} holds several elements and cannot be one part of a concatenation`);
        parts = expanded[0]!.parts;
      }
      if (cur) append(cur.parts, parts);
      else cur = { parts };
      expectPart = false;
    }
    flush();
    return out;
  }

  build(toks: Token[]): RulesetRule[] {
    this.toks = toks;
    this.i = 0;
    while (this.i < toks.length) this.expression();
    return this.alts.map((a) => {
      const rule: RulesetRule = { match: a.match, verdict: a.verdict ?? this.verdict, source: this.source };
      if (a.unsupported.length > 0) rule.unsupported = a.unsupported.join('; ');
      return rule;
    });
  }

  private peek(k = 0): Token | undefined {
    return this.toks[this.i + k];
  }

  private take(field: string): Token {
    const t = this.toks[this.i++];
    if (!t) throw readError(loc(this.file, this.toks[this.toks.length - 1]!), field, `the rule ends where ${field} needs a value`);
    return t;
  }

  private err(t: Token, field: string, message: string): never {
    throw readError(loc(this.file, t), field, message);
  }

  private unsupportedAll(text: string): void {
    for (const a of this.alts) a.unsupported.push(text);
  }

  /** The rest of the rule is not modelled: kept as text, with its verdict when it ends with one. */
  private unsupportedRest(): void {
    const rest = this.toks.slice(this.i);
    this.i = this.toks.length;
    this.unsupportedAll(rest.map((t) => (t.kind === 'string' ? `"${t.text}"` : t.text)).join(' '));
    const last = rest[rest.length - 1];
    const before = rest[rest.length - 2];
    if (before && (before.text === 'jump' || before.text === 'goto')) this.verdict = { kind: before.text, chain: this.ctx.chainName(last!.text) };
    else if (last && ['accept', 'drop', 'return'].includes(last.text)) this.verdict = simpleVerdict(last.text);
    else if (rest.some((t) => t.text === 'reject')) this.verdict = { kind: 'reject' };
  }

  private expression(): void {
    const t = this.take('rule');
    if (t.kind !== 'word') this.err(t, 'rule', `unexpected ${t.kind === 'string' ? `"${t.text}"` : `'${t.text}'`} in a rule`);
    const w = t.text;
    if (VERDICT_WORDS.has(w)) return this.verdictWord(t);
    switch (w) {
      case 'counter':
        if (this.peek()?.text === 'name') this.i += 2;
        while (this.peek() && /^(packets|bytes)$/.test(this.peek()!.text)) this.i += 2;
        return;
      case 'log':
        while (this.peek() && ['prefix', 'level', 'group', 'snaplen', 'queue-threshold'].includes(this.peek()!.text)) this.i += 2;
        if (this.peek()?.text === 'flags') {
          this.i++;
          while (this.peek() && !VERDICT_WORDS.has(this.peek()!.text) && this.peek()!.text !== 'comment' && this.peek()!.text !== 'counter') this.i++;
        }
        return;
      case 'comment':
        this.take('comment');
        return;
      case 'notrack':
        return;
      case 'limit':
      case 'quota':
        return this.skipRate(t);
    }
    const sel = this.selector(t);
    if (sel === 'statement' || sel === 'unsupported') return;
    const selectors = [sel];
    while (this.peek()?.text === '.') {
      this.i++;
      const next = this.take('concatenation');
      const s = next.kind === 'word' ? this.selector(next) : undefined;
      if (s === undefined || s === 'statement' || s === 'unsupported') this.err(next, 'concatenation', `'${next.text}' cannot be part of a concatenation fwgen reads`);
      selectors.push(s);
    }
    this.value(selectors, t);
  }

  private skipRate(t: Token): void {
    const start = this.i - 1;
    if (this.peek()?.text === 'rate') this.i++;
    if (this.peek()?.text === 'over' || this.peek()?.text === 'until') this.i++;
    this.i++;
    if (this.peek() && /^(bytes|kbytes|mbytes)(\/\w+)?$|^\/\w+$/.test(this.peek()!.text)) this.i++;
    if (this.peek()?.text === 'used') this.i += 2;
    if (this.peek()?.text === 'burst') {
      this.i += 2;
      if (this.peek() && /^(packets|bytes|kbytes|mbytes)$/.test(this.peek()!.text)) this.i++;
    }
    this.unsupportedAll(`${this.toks.slice(start, this.i).map((x) => x.text).join(' ')} (matches depend on the traffic's rate)`);
    void t;
  }

  private verdictWord(t: Token): void {
    if (t.text === 'jump' || t.text === 'goto') {
      const target = this.take('chain');
      this.verdict = { kind: t.text, chain: this.ctx.chainName(target.text) };
    } else if (t.text === 'reject') {
      this.verdict = { kind: 'reject' };
      this.i = this.toks.length; // "with icmp type ..." says how, not whether
    } else if (t.text === 'queue') {
      this.unsupportedAll('queue (a program in user space decides)');
      this.verdict = { kind: 'drop' };
      this.i = this.toks.length;
    } else this.verdict = simpleVerdict(t.text);
    if (this.i < this.toks.length) {
      const extra = this.peek()!;
      if (extra.text === 'comment') {
        this.i += 2;
        return;
      }
      this.err(extra, 'rule', `'${extra.text}' after the verdict '${t.text}'`);
    }
  }

  /** What a match expression tests; 'statement' for an effect (mark set ...), 'unsupported' when passed over. */
  private selector(t: Token): Selector | 'statement' | 'unsupported' {
    const w = t.text;
    const field = () => this.take(w);
    const famOf = (x: string): IpFamily => (x === 'ip6' || x === 'icmpv6' ? 6 : 4);
    if (w === 'ip' || w === 'ip6') {
      const f = field();
      if (f.text === 'saddr' || f.text === 'daddr') return { kind: 'addr', side: f.text === 'saddr' ? 'src' : 'dst', family: famOf(w) };
      if (f.text === 'protocol' || f.text === 'nexthdr') return { kind: 'proto', family: famOf(w) };
      return this.unmodelled(`${w} ${f.text}`);
    }
    if (['tcp', 'udp', 'th', 'sctp', 'udplite', 'dccp'].includes(w)) {
      const f = field();
      if (f.text === 'dport' || f.text === 'sport') {
        if (w === 'tcp' || w === 'udp' || w === 'th') return { kind: 'port', side: f.text, proto: w === 'th' ? undefined : w };
      }
      return this.unmodelled(`${w} ${f.text}`);
    }
    if (w === 'meta') {
      const f = field();
      if (f.text === 'l4proto') return { kind: 'proto' };
      if (f.text === 'nfproto') return { kind: 'nfproto' };
      if (['iifname', 'oifname', 'iif', 'oif'].includes(f.text)) return { kind: 'iface', side: f.text.startsWith('i') ? 'iif' : 'oif' };
      return this.unmodelled(`meta ${f.text}`);
    }
    if (['iifname', 'oifname', 'iif', 'oif'].includes(w)) return { kind: 'iface', side: w.startsWith('i') ? 'iif' : 'oif' };
    if (w === 'ct') {
      const f = field();
      if (f.text === 'state') return { kind: 'state' };
      return this.unmodelled(`ct ${f.text}`);
    }
    if (w === 'icmp' || w === 'icmpv6') {
      const f = field();
      if (f.text === 'type') return { kind: 'icmp', family: famOf(w) };
      return this.unmodelled(`${w} ${f.text}`);
    }
    if (w === 'mark' || w === 'ether' || w === 'vlan' || w === 'arp' || w === 'rt' || w === 'fib' || w === 'socket' || w === 'osf' || w === 'ipsec' || w === 'exthdr' || w === 'tcpopt') {
      return this.unmodelled(`${w} ${field().text}`);
    }
    if (['masquerade', 'snat', 'dnat', 'redirect', 'tproxy', 'dup', 'fwd', 'flow', 'synproxy', 'set', 'update', 'add', 'delete'].includes(w)) {
      this.i--;
      this.unsupportedRest();
      return 'unsupported';
    }
    this.i--;
    this.unsupportedRest();
    return 'unsupported';
  }

  /** A match fwgen does not model: its value is read past, the rule kept as unsupported; "x set v" is an effect. */
  private unmodelled(what: string): 'statement' | 'unsupported' {
    if (this.peek()?.text === 'set') {
      this.i++;
      this.skipValue();
      return 'statement';
    }
    const start = this.i;
    if (this.peek() && /^(==|!=|eq|ne|<|>|<=|>=|lt|gt|le|ge)$/.test(this.peek()!.text)) this.i++;
    this.skipValue();
    this.unsupportedAll(`${what} ${this.toks.slice(start, this.i).map((x) => x.text).join(' ')}`.trim());
    return 'unsupported';
  }

  private skipValue(): void {
    const t = this.take('value');
    if (t.text === '{') {
      let depth = 1;
      while (depth > 0 && this.i < this.toks.length) {
        const x = this.toks[this.i++]!;
        if (x.text === '{') depth++;
        if (x.text === '}') depth--;
      }
      return;
    }
    while (this.peek()?.text === ',') this.i += 2;
  }

  /** Operator and value of a match, applied to every alternative. */
  private value(selectors: Selector[], head: Token): void {
    let negate = false;
    let vmap = false;
    const op = this.peek();
    if (op && (op.text === '==' || op.text === 'eq')) this.i++;
    else if (op && (op.text === '!=' || op.text === 'ne')) {
      negate = true;
      this.i++;
    } else if (op && op.text === 'vmap') {
      vmap = true;
      this.i++;
    } else if (op && /^(<|>|<=|>=|lt|gt|le|ge)$/.test(op.text)) {
      return this.comparison(selectors, op);
    }
    const v = this.take('value');
    let elements: SetElement[];
    let setName: string | undefined;
    if (v.kind === 'punct' && v.text === '{') {
      const start = this.i;
      let depth = 1;
      while (depth > 0) {
        const x = this.take('set');
        if (x.text === '{' && x.kind === 'punct') depth++;
        if (x.text === '}' && x.kind === 'punct') depth--;
      }
      elements = NftBuilder.elements(this.file, this.toks.slice(start, this.i - 1), (n) => this.ctx.define(n));
    } else if (v.kind === 'word' && v.text.startsWith('@')) {
      setName = v.text.slice(1);
      const s = this.ctx.set(setName);
      if (!s) this.err(v, 'set', `set ${setName} is not declared before this rule (or is a map, which is not read)`);
      if (s.dynamic) {
        this.unsupportedAll(`${selectors.map(describeSelector).join(' . ')} ${negate ? '!= ' : ''}@${setName}: the set is filled at run time, its elements are not in the file`);
        return;
      }
      elements = s.elements;
    } else {
      const list: Token[] = [v];
      while (this.peek()?.text === ',' && this.peek(1)) {
        this.i++;
        list.push(this.take('value'));
      }
      const parts: Token[] = [v];
      while (list.length === 1 && this.peek()?.text === '.' && selectors.length > parts.length) {
        this.i++;
        parts.push(this.take('value'));
      }
      elements =
        parts.length > 1
          ? [{ parts: parts.map((p) => ({ text: p.text, loc: loc(this.file, p) })) }]
          : list.flatMap((x) => NftBuilder.elements(this.file, [x], (n) => this.ctx.define(n)));
    }
    for (const e of elements) {
      if (e.parts.length !== selectors.length) throw readError(e.parts[0]?.loc ?? loc(this.file, head), 'elements', `element has ${e.parts.length} part(s); the match needs ${selectors.length}`);
      if (vmap && !e.verdict) throw readError(e.parts[0]!.loc, 'vmap', 'a verdict map element needs ": verdict"');
    }
    if (vmap) {
      this.expand(elements.map((e) => (m: Alt) => {
        e.parts.forEach((p, k) => this.applyTo(m, selectors[k]!, [p], false, undefined));
        m.verdict = e.verdict!.kind === 'jump' || e.verdict!.kind === 'goto' ? { kind: e.verdict!.kind, chain: this.ctx.chainName(e.verdict!.chain) } : e.verdict!;
      }));
      return;
    }
    if (selectors.length > 1) {
      if (negate) {
        this.unsupportedAll(`${selectors.map(describeSelector).join(' . ')} != ...: a negated concatenation`);
        return;
      }
      this.expand(elements.map((e) => (m: Alt) => e.parts.forEach((p, k) => this.applyTo(m, selectors[k]!, [p], false, undefined))));
      return;
    }
    const sel = selectors[0]!;
    const values = elements.map((e) => e.parts[0]!);
    if ((sel.kind === 'proto' || sel.kind === 'iface') && values.length > 1) {
      if (negate) {
        this.unsupportedAll(`${describeSelector(sel)} != a list`);
        return;
      }
      this.expand(values.map((p) => (m: Alt) => this.applyTo(m, sel, [p], false, setName)));
      return;
    }
    if (values.length === 0) {
      // An empty set matches nothing; negated, everything.
      if (!negate) this.alts = [];
      return;
    }
    for (const a of this.alts) this.applyTo(a, sel, values, negate, setName);
  }

  /** Port comparisons (tcp dport < 1024): a range. */
  private comparison(selectors: Selector[], op: Token): void {
    this.i++;
    const v = this.take('value');
    const sel = selectors[0]!;
    if (selectors.length !== 1 || sel.kind !== 'port') {
      this.unsupportedAll(`${selectors.map(describeSelector).join(' . ')} ${op.text} ${v.text}`);
      return;
    }
    const [p] = portRange(v.text, loc(this.file, v), describeSelector(sel));
    const o = op.text;
    const range: [number, number] =
      o === '<' || o === 'lt' ? [0, p - 1] : o === '<=' || o === 'le' ? [0, p] : o === '>' || o === 'gt' ? [p + 1, 65535] : [p, 65535];
    for (const a of this.alts) this.setPorts(a, sel, [range], false);
  }

  private expand(options: Array<(m: Alt) => void>): void {
    if (this.alts.length * options.length > MAX_ALTERNATIVES) {
      throw readError(loc(this.file, this.toks[0]!), 'rule', `this rule stands for more than ${MAX_ALTERNATIVES} combinations of matches; fwgen does not read it`);
    }
    const next: Alt[] = [];
    for (const a of this.alts) {
      for (const o of options) {
        const copy: Alt = { match: { ...a.match }, verdict: a.verdict, unsupported: [...a.unsupported] };
        o(copy);
        next.push(copy);
      }
    }
    this.alts = next;
  }

  private setFamily(a: Alt, family: IpFamily, at: SourceLocation): void {
    if (this.tableFamily !== undefined && this.tableFamily !== family) {
      throw readError(at, 'family', `an IPv${family} match in an IPv${this.tableFamily} table`);
    }
    if (a.match.family !== undefined && a.match.family !== family) {
      throw readError(at, 'family', `an IPv${family} match after an IPv${a.match.family} one in the same rule (nft refuses it: conflicting protocols)`);
    }
    a.match.family = family;
  }

  private setPorts(a: Alt, sel: Extract<Selector, { kind: 'port' }>, ranges: Array<[number, number]>, negate: boolean): void {
    a.match[sel.side] = { ranges, ...(negate ? { negate } : {}) };
    if (sel.proto) a.match.protocol = sel.proto;
  }

  private applyTo(a: Alt, sel: Selector, values: Array<{ text: string; loc: SourceLocation }>, negate: boolean, name: string | undefined): void {
    const field = describeSelector(sel);
    switch (sel.kind) {
      case 'addr': {
        const cidrs = values.flatMap((v) => {
          const c = addressCidrs(v.text, v.loc, field);
          if (c.some((x) => x.includes(':') !== (sel.family === 6))) throw readError(v.loc, field, `'${v.text}' is not an IPv${sel.family} address`);
          return c;
        });
        this.setFamily(a, sel.family, values[0]!.loc);
        a.match[sel.side] = { cidrs, ...(negate ? { negate } : {}), ...(name ? { name } : {}) };
        return;
      }
      case 'port':
        return this.setPorts(a, sel, values.map((v) => portRange(v.text, v.loc, field)), negate);
      case 'proto': {
        const p = protocolOf(values[0]!.text, values[0]!.loc, field);
        if (sel.family) this.setFamily(a, sel.family, values[0]!.loc);
        a.match.protocol = p;
        if (negate) a.match.negateProtocol = true;
        return;
      }
      case 'iface': {
        const n = values[0]!.text;
        if (sel.side === 'iif') {
          a.match.iif = n;
          if (negate) a.match.negateIif = true;
        } else {
          a.match.oif = n;
          if (negate) a.match.negateOif = true;
        }
        return;
      }
      case 'state': {
        const states = values.map((v) => {
          const s = v.text.toLowerCase() as ConnState;
          if (!STATES.includes(s)) throw readError(v.loc, field, `'${v.text}' is not a conntrack state (${STATES.join(', ')})`);
          return s;
        });
        a.match.state = negate ? STATES.filter((s) => !states.includes(s)) : states;
        return;
      }
      case 'icmp':
        this.setFamily(a, sel.family, values[0]!.loc);
        a.match.protocol = 'icmp';
        a.match.icmpTypes = { types: values.map((v) => icmpTypeName(v.text, sel.family)), ...(negate ? { negate } : {}) };
        return;
      case 'nfproto': {
        const f = values[0]!.text;
        if (f !== 'ipv4' && f !== 'ipv6') throw readError(values[0]!.loc, field, `'${f}' is not ipv4 or ipv6`);
        if (negate || values.length > 1) a.unsupported.push(`meta nfproto ${negate ? '!= ' : ''}${values.map((v) => v.text).join(',')}`);
        else this.setFamily(a, f === 'ipv4' ? 4 : 6, values[0]!.loc);
        return;
      }
    }
  }
}

function describeSelector(s: Selector): string {
  switch (s.kind) {
    case 'addr':
      return `${s.family === 6 ? 'ip6' : 'ip'} ${s.side === 'src' ? 'saddr' : 'daddr'}`;
    case 'port':
      return `${s.proto ?? 'th'} ${s.side}`;
    case 'proto':
      return 'meta l4proto';
    case 'iface':
      return s.side === 'iif' ? 'iifname' : 'oifname';
    case 'state':
      return 'ct state';
    case 'icmp':
      return s.family === 6 ? 'icmpv6 type' : 'icmp type';
    case 'nfproto':
      return 'meta nfproto';
  }
}

function simpleVerdict(w: string): Verdict {
  if (w === 'accept' || w === 'drop' || w === 'return' || w === 'continue' || w === 'reject') return { kind: w };
  return { kind: 'continue' };
}
