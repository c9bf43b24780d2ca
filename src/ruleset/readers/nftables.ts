import type { SourceLocation } from '../../errors';
import type { Chain, Hook, IpFamily, Ruleset, RulesetRule, SourceRef } from '../model';
import { NftBuilder, type SetElement } from './nft-build';
import { tokenize, type Token } from './nft-tokens';
import { lineText, readError } from './values';
import { append, insertAt } from '../../util/append';

/**
 * nftables text: what `nft list ruleset` prints and what `nft -f` reads (fwgen's own files are
 * such scripts). The statements of nft(8) that shape a rule set are followed in order (tables,
 * chains with their hook, priority and policy, named sets and their elements, add/insert/delete/
 * flush commands, define); rules are read into the shared model by nft-build.
 *
 * `include` is refused: it would read files the user did not name.
 */

const FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);

class Cursor {
  i = 0;
  constructor(
    readonly file: string,
    readonly toks: Token[],
  ) {}

  peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  loc(t: Token = this.peek()): SourceLocation {
    return { file: this.file, line: t.line, col: t.col };
  }
  atEnd(): boolean {
    return this.i >= this.toks.length - 1;
  }
  is(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind !== 'string' && t.text === text;
  }
  skipEnds(): void {
    while (this.peek().kind === 'end' && !this.atEnd()) this.next();
  }
  expect(text: string, field: string): Token {
    const t = this.next();
    if (t.text !== text || t.kind === 'string') throw readError(this.loc(t), field, `expected '${text}' here, found ${describe(t)}`);
    return t;
  }
  word(field: string): Token {
    const t = this.next();
    if (t.kind !== 'word' && t.kind !== 'string') throw readError(this.loc(t), field, `expected a name here, found ${describe(t)}`);
    return t;
  }
  /** The tokens up to the end of the statement (a newline or ';' outside braces). */
  statement(): Token[] {
    const out: Token[] = [];
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (this.atEnd()) break;
      if (t.kind === 'end' && depth === 0) break;
      if (t.kind === 'punct' && t.text === '}' && depth === 0) break;
      this.next();
      if (t.kind === 'end') continue;
      if (t.kind === 'punct' && t.text === '{') depth++;
      if (t.kind === 'punct' && t.text === '}') depth--;
      out.push(t);
    }
    return out;
  }
  /** The tokens of a { ... } block, braces excluded, ends kept; the cursor after the closing brace. */
  block(field: string): Token[] {
    const open = this.expect('{', field);
    const out: Token[] = [];
    let depth = 1;
    for (;;) {
      if (this.atEnd()) throw readError(this.loc(open), field, "this '{' is never closed");
      const t = this.next();
      if (t.kind === 'punct' && t.text === '{') depth++;
      if (t.kind === 'punct' && t.text === '}' && --depth === 0) break;
      out.push(t);
    }
    out.push({ kind: 'end', text: '\n', line: open.line, col: open.col });
    return out;
  }
}

function describe(t: Token): string {
  if (t.kind === 'end') return t.text === ';' ? "';'" : 'the end of the line';
  if (t.kind === 'string') return `"${t.text}"`;
  return `'${t.text}'`;
}

export interface SetState {
  name: string;
  elements: SetElement[];
  /** Filled at run time (flags dynamic or timeout): the file's elements are not all there is. */
  dynamic: boolean;
}

export interface ChainState {
  name: string;
  type?: string;
  hook?: string;
  priority?: number;
  policy?: 'accept' | 'drop';
  policySource?: SourceRef;
  declared: SourceRef;
  rules: RulesetRule[];
}

export interface TableState {
  family: string;
  name: string;
  chains: Map<string, ChainState>;
  sets: Map<string, SetState>;
}

/** Named objects of a table that count, limit or offload but never decide a packet's fate here. */
const STATEFUL_OBJECTS = new Set(['counter', 'quota', 'limit', 'ct', 'flowtable', 'secmark', 'synproxy']);

/** A set declared (again): a later declaration of the same set adds to it, as nft does. */
function declareSet(t: TableState, name: string): SetState {
  let s = t.sets.get(name);
  if (!s) t.sets.set(name, (s = { name, elements: [], dynamic: false }));
  return s;
}

export const PRIORITY_NAMES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100, out: 100, in: -100 };

export function readNftables(file: string, text: string): Ruleset {
  return new NftReader(file, text).read();
}

class NftReader {
  private readonly tables = new Map<string, TableState>();
  private readonly defines = new Map<string, Token[]>();
  private readonly lines: string[];
  private readonly cur: Cursor;
  private readonly notes: string[] = [];

  constructor(
    private readonly file: string,
    text: string,
  ) {
    this.lines = text.split('\n');
    this.cur = new Cursor(file, tokenize(file, text));
  }

  private ref(t: Token): SourceRef {
    return { file: this.file, line: t.line, text: lineText(this.lines[t.line - 1] ?? '') };
  }

  read(): Ruleset {
    const c = this.cur;
    for (;;) {
      c.skipEnds();
      if (c.atEnd()) break;
      this.command(c);
    }
    return this.ruleset();
  }

  private table(family: string, name: string, create: boolean, at: Token): TableState {
    const key = `${family} ${name}`;
    let t = this.tables.get(key);
    if (!t) {
      if (!create) throw readError(this.cur.loc(at), 'table', `table ${key} is not declared before this command`);
      t = { family, name, chains: new Map(), sets: new Map() };
      this.tables.set(key, t);
    }
    return t;
  }

  /** [family] table-name, the family defaulting to ip as nft's does. */
  private tableRef(c: Cursor): { family: string; name: string; at: Token } {
    const first = c.word('table');
    if (FAMILIES.has(first.text) && first.kind === 'word' && c.peek().kind !== 'end' && !c.is('{')) {
      return { family: first.text, name: c.word('table').text, at: first };
    }
    return { family: 'ip', name: first.text, at: first };
  }

  private command(c: Cursor): void {
    const head = c.peek();
    if (head.kind !== 'word') throw readError(c.loc(head), 'statement', `expected a command or 'table', found ${describe(head)}`);
    const verb = head.text;
    if (verb === 'table') {
      c.next();
      const { family, name, at } = this.tableRef(c);
      this.tableBody(this.table(family, name, true, at), c.block(`table ${name}`));
      return;
    }
    if (verb === 'define' || verb === 'redefine') {
      c.next();
      const name = c.word('define');
      c.expect('=', 'define');
      this.defines.set(name.text, c.statement());
      return;
    }
    if (verb === 'undefine') {
      c.next();
      this.defines.delete(c.word('undefine').text);
      return;
    }
    if (verb === 'include') throw readError(c.loc(head), 'include', 'include is not followed (it reads other files); give each file with --file');
    if (!['add', 'create', 'insert', 'replace', 'delete', 'destroy', 'flush'].includes(verb)) {
      throw readError(c.loc(head), 'statement', `'${verb}' is not a statement fwgen reads in an nft file (table, add, insert, delete, flush, define)`);
    }
    c.next();
    const object = c.word(verb);
    switch (object.text) {
      case 'ruleset':
        if (verb === 'flush') this.tables.clear();
        c.statement();
        return;
      case 'table': {
        const { family, name, at } = this.tableRef(c);
        const key = `${family} ${name}`;
        if (verb === 'delete' || verb === 'destroy') {
          if (verb === 'delete' && !this.tables.has(key)) throw readError(c.loc(at), 'table', `delete table ${key}: no such table`);
          this.tables.delete(key);
        } else if (verb === 'flush') {
          for (const ch of this.table(family, name, false, at).chains.values()) ch.rules = [];
        } else {
          const t = this.table(family, name, true, at);
          if (c.is('{')) this.tableBody(t, c.block(`table ${name}`));
        }
        c.statement();
        return;
      }
      case 'chain': {
        const { family, name, at } = this.tableRef(c);
        const t = this.table(family, name, verb !== 'delete' && verb !== 'flush' && verb !== 'destroy', at);
        const chainTok = c.word('chain');
        if (verb === 'delete' || verb === 'destroy') {
          if (verb === 'delete' && !t.chains.has(chainTok.text)) throw readError(c.loc(chainTok), 'chain', `delete chain: ${family} ${name} has no chain ${chainTok.text}`);
          t.chains.delete(chainTok.text);
        } else if (verb === 'flush') {
          this.chainOf(t, chainTok, c).rules = [];
        } else {
          const ch = this.declareChain(t, chainTok);
          if (c.is('{')) this.chainBody(t, ch, c.block(`chain ${chainTok.text}`));
        }
        c.statement();
        return;
      }
      case 'set':
      case 'map': {
        const { family, name, at } = this.tableRef(c);
        const t = this.table(family, name, verb === 'add' || verb === 'create', at);
        const setTok = c.word('set');
        if (object.text === 'map') {
          this.note(`${this.file}:${setTok.line}: map ${setTok.text} is not read; a rule using it is taken as unsupported`);
          if (c.is('{')) c.block('map');
        } else if (verb === 'delete' || verb === 'destroy') t.sets.delete(setTok.text);
        else if (verb === 'flush') this.setOf(t, setTok, c).elements = [];
        else {
          const s = declareSet(t, setTok.text);
          if (c.is('{')) this.setBody(s, c.block(`set ${setTok.text}`));
        }
        c.statement();
        return;
      }
      case 'element': {
        const { family, name, at } = this.tableRef(c);
        const t = this.table(family, name, false, at);
        const s = this.setOf(t, c.word('set'), c);
        const elements = NftBuilder.elements(this.file, c.block('element'), (n) => this.defines.get(n));
        if (verb === 'delete' || verb === 'destroy') {
          const gone = new Set(elements.map((e) => e.parts.map((p) => p.text).join(' . ')));
          s.elements = s.elements.filter((e) => !gone.has(e.parts.map((p) => p.text).join(' . ')));
        } else append(s.elements, elements);
        c.statement();
        return;
      }
      case 'rule': {
        const { family, name, at } = this.tableRef(c);
        const t = this.table(family, name, false, at);
        const ch = this.chainOf(t, c.word('chain'), c);
        let position: number | undefined;
        if (c.is('position') || c.is('handle') || c.is('index')) {
          const kw = c.next();
          position = Number(c.word('position').text);
          if (kw.text !== 'index' || verb === 'replace' || verb === 'delete') {
            throw readError(c.loc(kw), 'rule', `rules addressed by ${kw.text} cannot be placed without the live rule set's handles; list the rule set (nft list ruleset) and read that`);
          }
        }
        if (verb === 'delete' || verb === 'replace') throw readError(c.loc(head), 'rule', `${verb} rule needs the live rule set's handles; list the rule set (nft list ruleset) and read that`);
        const rules = this.rules(t, ch, c.statement(), head);
        if (position !== undefined) insertAt(ch.rules, verb === 'insert' ? position : position + 1, rules);
        else if (verb === 'insert') insertAt(ch.rules, 0, rules);
        else append(ch.rules, rules);
        return;
      }
      default:
        if (STATEFUL_OBJECTS.has(object.text)) {
          this.note(`${this.file}:${object.line}: ${verb} ${object.text} is not part of what decides a packet here; passed over`);
          c.statement();
          if (c.is('{')) c.block(object.text);
          return;
        }
        throw readError(c.loc(object), 'statement', `'${verb} ${object.text}' is not a command fwgen reads`);
    }
  }

  private note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  private chainOf(t: TableState, tok: Token, c: Cursor): ChainState {
    const ch = t.chains.get(tok.text);
    if (!ch) throw readError(c.loc(tok), 'chain', `${t.family} ${t.name} has no chain ${tok.text} at this point`);
    return ch;
  }

  private setOf(t: TableState, tok: Token, c: Cursor): SetState {
    const s = t.sets.get(tok.text);
    if (!s) throw readError(c.loc(tok), 'set', `${t.family} ${t.name} has no set ${tok.text} at this point`);
    return s;
  }

  private declareChain(t: TableState, tok: Token): ChainState {
    let ch = t.chains.get(tok.text);
    if (!ch) {
      ch = { name: tok.text, declared: this.ref(tok), rules: [] };
      t.chains.set(tok.text, ch);
    }
    return ch;
  }

  private tableBody(t: TableState, toks: Token[]): void {
    const c = new Cursor(this.file, toks);
    for (;;) {
      c.skipEnds();
      if (c.atEnd()) break;
      const kw = c.word('table');
      if (kw.text === 'chain') {
        const name = c.word('chain');
        this.chainBody(t, this.declareChain(t, name), c.block(`chain ${name.text}`));
      } else if (kw.text === 'set') {
        const name = c.word('set');
        this.setBody(declareSet(t, name.text), c.block(`set ${name.text}`));
      } else if (kw.text === 'map') {
        const name = c.word('map');
        this.note(`${this.file}:${name.line}: map ${name.text} is not read; a rule using it is taken as unsupported`);
        c.block('map');
      } else if (STATEFUL_OBJECTS.has(kw.text)) {
        c.word(kw.text);
        if (c.is('{')) c.block(kw.text);
      } else if (kw.text === 'flags' || kw.text === 'comment') {
        c.statement();
      } else {
        throw readError(c.loc(kw), 'table', `'${kw.text}' is not a declaration fwgen reads in a table (chain, set, map)`);
      }
    }
  }

  private setBody(s: SetState, toks: Token[]): void {
    const c = new Cursor(this.file, toks);
    for (;;) {
      c.skipEnds();
      if (c.atEnd()) break;
      const kw = c.word('set');
      if (kw.text === 'elements') {
        c.expect('=', 'elements');
        s.elements = NftBuilder.elements(this.file, c.block('elements'), (n) => this.defines.get(n));
      } else if (kw.text === 'flags') {
        const flags = c.statement().filter((t) => t.kind === 'word').map((t) => t.text);
        if (flags.includes('dynamic') || flags.includes('timeout')) s.dynamic = true;
      } else if (kw.text === 'timeout') {
        s.dynamic = true;
        c.statement();
      } else {
        // type, typeof, size, policy, auto-merge, gc-interval, comment, counter: not needed to match.
        c.statement();
      }
    }
  }

  private chainBody(t: TableState, ch: ChainState, toks: Token[]): void {
    const c = new Cursor(this.file, toks);
    for (;;) {
      c.skipEnds();
      if (c.atEnd()) break;
      const head = c.peek();
      if (c.is('type')) {
        c.next();
        ch.type = c.word('type').text;
        c.expect('hook', 'type');
        ch.hook = c.word('hook').text;
        if (c.is('device')) {
          c.next();
          c.word('device');
        }
        c.expect('priority', 'priority');
        ch.priority = this.priority(c);
        continue;
      }
      if (c.is('policy')) {
        c.next();
        const p = c.word('policy');
        if (p.text !== 'accept' && p.text !== 'drop') throw readError(c.loc(p), 'policy', `a chain's policy is accept or drop, not '${p.text}'`);
        ch.policy = p.text;
        ch.policySource = this.ref(p);
        continue;
      }
      if (c.is('comment') && c.peek(1).kind === 'string' && c.peek(2).kind === 'end') {
        c.statement();
        continue;
      }
      if (c.is('devices') || c.is('flags')) {
        c.statement();
        continue;
      }
      append(ch.rules, this.rules(t, ch, c.statement(), head));
    }
  }

  private priority(c: Cursor): number {
    const t = c.word('priority');
    let base: number;
    if (/^-?\d+$/.test(t.text)) base = Number(t.text);
    else if (PRIORITY_NAMES[t.text] !== undefined) base = PRIORITY_NAMES[t.text]!;
    else throw readError(c.loc(t), 'priority', `'${t.text}' is not a chain priority (a number or raw, mangle, dstnat, filter, security, srcnat)`);
    if ((c.is('+') || c.is('-')) && /^\d+$/.test(c.peek(1).text)) {
      const sign = c.next().text === '-' ? -1 : 1;
      base += sign * Number(c.next().text);
    } else if (/^[+-]\d+$/.test(c.peek().text)) base += Number(c.next().text);
    return base;
  }

  private rules(t: TableState, ch: ChainState, toks: Token[], head: Token): RulesetRule[] {
    if (toks.length === 0) return [];
    return buildRules(this.file, this.ref(head), t, toks, (name) => this.defines.get(name));
  }

  private ruleset(): Ruleset {
    return nftRuleset('nftables', this.file, [...this.tables.values()], this.notes);
  }
}

/** The tables an nft reader built, as the shared model: base chains with hook, priority and policy. */
export function nftRuleset(format: 'nftables' | 'nftables-json', file: string, tables: TableState[], notes: string[]): Ruleset {
  const note = (text: string) => {
    if (!notes.includes(text)) notes.push(text);
  };
  const chains: Chain[] = [];
  for (const t of tables) {
    const families = familiesOf(t.family);
    if (families.length === 0 && t.chains.size > 0) note(`table ${t.family} ${t.name} does not filter IP traffic on the hooks queried; passed over`);
    for (const ch of t.chains.values()) {
      const chain: Chain = { name: `${t.family} ${t.name} ${ch.name}`, families, rules: ch.rules };
      const hook = ch.hook as Hook | undefined;
      if (hook !== undefined && ['input', 'output', 'forward', 'prerouting', 'postrouting'].includes(hook)) {
        if (ch.type === 'nat') {
          note(`chain ${chain.name} is a nat chain: its address translation is not followed`);
        } else {
          chain.hook = hook;
          chain.priority = ch.priority ?? 0;
          chain.policy = ch.policy ?? 'accept';
          chain.policySource = ch.policySource ?? ch.declared;
        }
      } else if (hook !== undefined) {
        note(`chain ${chain.name} on hook ${hook} is not evaluated (queries follow prerouting, input, forward, output and postrouting)`);
      }
      chains.push(chain);
    }
  }
  const names = new Set(chains.map((c) => c.name));
  for (const c of chains) {
    for (const r of c.rules) {
      if ((r.verdict.kind === 'jump' || r.verdict.kind === 'goto') && !names.has(r.verdict.chain)) {
        throw readError({ file, line: r.source.line, col: 1 }, r.verdict.kind, `chain ${r.verdict.chain} is not declared in the file (nft refuses a ${r.verdict.kind} to it)`);
      }
    }
  }
  return { format, file, chains, notes };
}

/** One rule's words into the model, in the context of its table (its sets, its chains). */
export function buildRules(file: string, source: SourceRef, t: TableState, toks: Token[], define: (name: string) => Token[] | undefined = () => undefined): RulesetRule[] {
  const builder = new NftBuilder(file, source, t.family === 'ip6' ? 6 : t.family === 'ip' ? 4 : undefined, {
    set: (name) => t.sets.get(name),
    define,
    chainName: (name) => `${t.family} ${t.name} ${name}`,
  });
  return builder.build(toks);
}

export function familiesOf(family: string): IpFamily[] {
  if (family === 'ip') return [4];
  if (family === 'ip6') return [6];
  if (family === 'inet') return [4, 6];
  return [];
}

