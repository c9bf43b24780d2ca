import type { SourceLocation } from '../../errors';
import type { Ruleset, SourceRef } from '../model';
import type { SetElement } from './nft-build';
import type { Token } from './nft-tokens';
import { buildRules, nftRuleset, type ChainState, type TableState } from './nftables';
import { readError } from './values';
import { append } from '../../util/append';

/**
 * `nft -j list ruleset` (libnftables-json(5)): the same rule set as the text, as objects. Each
 * rule's expressions are written back as the words of the text grammar and read by the same
 * builder as `nft list ruleset` output, so both formats mean one thing. A rule's place is the
 * line and column of its "rule" key (nft -j prints one line; pretty-printed JSON gives lines),
 * with its handle in the text.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export function looksLikeNftJson(text: string): boolean {
  return /^\s*\{\s*"nftables"\s*:/.test(text);
}

/** Line and column of each top-level object key ("table", "chain", "rule"...) in order. */
function keyPositions(text: string, key: string): SourceLocation[] {
  const out: SourceLocation[] = [];
  const re = new RegExp(`(?<!\\\\)"${key}"\\s*:`, 'g');
  let line = 1;
  let lineStart = 0;
  let scanned = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    for (let i = scanned; i < m.index; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    scanned = m.index;
    out.push({ file: '', line, col: m.index - lineStart + 1 });
  }
  return out;
}

function isObj(v: Json | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readNftJson(file: string, text: string): Ruleset {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (e) {
    const m = /position (\d+)/.exec(String(e));
    const pos = m ? Number(m[1]) : 0;
    const before = text.slice(0, pos);
    throw readError({ file, line: before.split('\n').length, col: pos - before.lastIndexOf('\n') }, '(document)', `not valid JSON: ${(e as Error).message}`);
  }
  if (!isObj(doc) || !Array.isArray(doc.nftables)) throw readError({ file, line: 1, col: 1 }, 'nftables', 'expected {"nftables": [...]} as nft -j list ruleset prints it');
  const rulePos = keyPositions(text, 'rule');
  let ruleIndex = 0;
  const tables = new Map<string, TableState>();
  const notes: string[] = [];
  const tableOf = (o: Obj, at: SourceLocation): TableState => {
    const key = `${String(o.family)} ${String(o.table ?? o.name)}`;
    let t = tables.get(key);
    if (!t) {
      if (typeof o.family !== 'string') throw readError(at, 'family', 'an object without its table family');
      t = { family: o.family, name: String(o.table ?? o.name), chains: new Map(), sets: new Map() };
      tables.set(key, t);
    }
    return t;
  };
  doc.nftables.forEach((item, k) => {
    if (!isObj(item)) throw readError({ file, line: 1, col: 1 }, `nftables[${k}]`, 'expected an object');
    const [kind] = Object.keys(item);
    const body = item[kind!];
    if (kind === 'metainfo') return;
    if (!isObj(body)) throw readError({ file, line: 1, col: 1 }, `nftables[${k}].${kind}`, 'expected an object');
    const at: SourceLocation = kind === 'rule' ? { ...(rulePos[ruleIndex++] ?? { line: 1, col: 1 }), file } : { file, line: 1, col: 1 };
    switch (kind) {
      case 'table':
        tableOf({ family: body.family ?? null, table: body.name ?? null }, at);
        return;
      case 'chain': {
        const t = tableOf(body, at);
        const name = String(body.name);
        const ref: SourceRef = { file, line: at.line, text: `chain ${t.family} ${t.name} ${name}${body.hook ? ` (hook ${String(body.hook)}, policy ${String(body.policy ?? 'accept')})` : ''}` };
        const ch: ChainState = t.chains.get(name) ?? { name, declared: ref, rules: [] };
        if (typeof body.hook === 'string') {
          ch.type = String(body.type ?? 'filter');
          ch.hook = body.hook;
          ch.priority = typeof body.prio === 'number' ? body.prio : 0;
          ch.policy = body.policy === 'drop' ? 'drop' : 'accept';
          ch.policySource = ref;
        }
        t.chains.set(name, ch);
        return;
      }
      case 'set': {
        const t = tableOf(body, at);
        const flags = Array.isArray(body.flags) ? body.flags.map(String) : [];
        const elem = Array.isArray(body.elem) ? body.elem : [];
        t.sets.set(String(body.name), {
          name: String(body.name),
          elements: elem.map((e) => element(e, at, `set ${String(body.name)}`)),
          dynamic: flags.includes('dynamic') || flags.includes('timeout') || body.timeout !== undefined,
        });
        return;
      }
      case 'map':
        notes.push(`map ${String(body.name)} is not read; a rule using it is taken as unsupported`);
        return;
      case 'rule': {
        const t = tableOf(body, at);
        const ch = t.chains.get(String(body.chain));
        if (!ch) throw readError(at, 'rule.chain', `chain ${String(body.chain)} of ${t.family} ${t.name} is not listed before its rules`);
        const exprs = Array.isArray(body.expr) ? body.expr : [];
        const words = new Words(at);
        exprs.forEach((e, i) => words.statement(e, `expr[${i}]`));
        const ref: SourceRef = { file, line: at.line, text: `rule ${t.family} ${t.name} ${ch.name} handle ${String(body.handle ?? '?')}: ${words.text()}${typeof body.comment === 'string' ? ` comment "${body.comment}"` : ''}` };
        append(ch.rules, buildRules(file, ref, t, words.toks));
        return;
      }
      default:
        // element, counter, quota, ct helper, flowtable...: nothing that decides a packet here.
        return;
    }
  });
  return nftRuleset('nftables-json', file, [...tables.values()], notes);
}

/** A set element of the JSON as the text grammar's element: its parts. */
function element(e: Json, at: SourceLocation, field: string): SetElement {
  if (isObj(e) && isObj(e.elem)) return element(e.elem.val ?? null, at, field);
  if (isObj(e) && Array.isArray(e.concat)) return { parts: e.concat.map((p) => ({ text: scalar(p, at, field), loc: at })) };
  return { parts: [{ text: scalar(e, at, field), loc: at }] };
}

function scalar(v: Json, at: SourceLocation, field: string): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (isObj(v) && isObj(v.prefix)) return `${String(v.prefix.addr)}/${String(v.prefix.len)}`;
  if (isObj(v) && Array.isArray(v.range) && v.range.length === 2) return `${scalar(v.range[0]!, at, field)}-${scalar(v.range[1]!, at, field)}`;
  if (isObj(v) && isObj(v.elem)) return scalar(v.elem.val ?? null, at, field);
  throw readError(at, field, `${JSON.stringify(v)?.slice(0, 80)} is not a value fwgen reads (address, prefix, range, port, name)`);
}

const VERDICTS = ['accept', 'drop', 'return', 'continue', 'reject', 'queue'];

/** The words of the text grammar a rule's JSON expressions stand for. */
class Words {
  readonly toks: Token[] = [];
  constructor(private readonly at: SourceLocation) {}

  private push(...texts: string[]): void {
    for (const text of texts) this.toks.push({ kind: text === '{' || text === '}' || text === ',' ? 'punct' : 'word', text, line: this.at.line, col: this.at.col });
  }

  text(): string {
    return this.toks.map((t) => t.text).join(' ').replace(/ , /g, ', ');
  }

  statement(e: Json, field: string): void {
    if (!isObj(e)) throw readError(this.at, field, 'expected an expression object');
    const [kind] = Object.keys(e);
    const body = e[kind!];
    if (kind === 'match' && isObj(body)) {
      this.left(body.left ?? null, field);
      const op = String(body.op ?? '==');
      this.push(op === 'in' ? '==' : op);
      this.right(body.right ?? null, field);
      return;
    }
    if (VERDICTS.includes(kind!)) return this.push(kind!);
    if ((kind === 'jump' || kind === 'goto') && isObj(body)) return this.push(kind, String(body.target));
    if (kind === 'counter' || kind === 'log' || kind === 'comment' || kind === 'notrack') return kind === 'comment' ? undefined : this.push(kind);
    if (kind === 'vmap' && isObj(body)) {
      this.left(body.key ?? null, field);
      this.push('vmap', '{');
      const data = isObj(body.data) && Array.isArray(body.data.set) ? body.data.set : [];
      data.forEach((pair, i) => {
        if (!Array.isArray(pair) || pair.length !== 2 || !isObj(pair[1])) throw readError(this.at, `${field}.vmap`, 'a verdict map element is [key, verdict]');
        if (i > 0) this.push(',');
        this.value(pair[0]!, field);
        const [v] = Object.keys(pair[1]);
        const target = pair[1][v!];
        if (isObj(target) && target.target !== undefined) this.push(':', v!, String(target.target));
        else this.push(':', v!);
      });
      this.push('}');
      return;
    }
    // Anything else (xt, mangle, limit, nat...): a word the builder keeps as unsupported.
    this.push(`json:${kind}`);
  }

  private left(l: Json, field: string): void {
    if (isObj(l) && isObj(l.payload)) return this.push(String(l.payload.protocol), String(l.payload.field));
    if (isObj(l) && isObj(l.meta)) return this.push('meta', String(l.meta.key));
    if (isObj(l) && isObj(l.ct)) return this.push('ct', String(l.ct.key));
    if (isObj(l) && Array.isArray(l.concat)) {
      l.concat.forEach((p, i) => {
        if (i > 0) this.push('.');
        this.left(p, field);
      });
      return;
    }
    this.push(`json:${isObj(l) ? Object.keys(l)[0] : 'value'}`);
  }

  private right(r: Json, field: string): void {
    if (isObj(r) && Array.isArray(r.set)) {
      this.push('{');
      r.set.forEach((v, i) => {
        if (i > 0) this.push(',');
        this.value(v, field);
      });
      this.push('}');
      return;
    }
    if (Array.isArray(r)) {
      r.forEach((v, i) => {
        if (i > 0) this.push(',');
        this.value(v, field);
      });
      return;
    }
    this.value(r, field);
  }

  private value(v: Json, field: string): void {
    if (isObj(v) && Array.isArray(v.concat)) {
      v.concat.forEach((p, i) => {
        if (i > 0) this.push('.');
        this.push(scalar(p, this.at, field));
      });
      return;
    }
    this.push(scalar(v, this.at, field));
  }
}
