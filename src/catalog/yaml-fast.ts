/*
 * The fast YAML reader: js-yaml plus an index of where each value starts. The `yaml` package
 * (yaml-source.ts, parseWithYaml) is the reference; this reader is an optimisation that must
 * never be seen. Its contract, for every text: the same data, the same position for every
 * path and the same refusal, to the byte of the message, as the reference. These tests are
 * that contract, and a change here is done when they pass:
 *   - test/unit/yaml-fast.test.ts: every YAML file of the project, generated documents and
 *     profile-shaped ones, read by both readers (data and every position compared);
 *   - test/unit/yaml-fast-mutations.test.ts: randomly mutated files, the same outcome;
 *   - test/unit/yaml-fast-fallback.test.ts: each construct this reader does not implement
 *     (HANDED_OFF below, tags, anchors, aliases, the listener's checks) hands the file to
 *     the reference or is refused as the reference refuses it;
 *   - CI (.ci/run) runs the suites that read YAML, and `fwgen check` over out/, again under
 *     FWGEN_YAML=reference, which reads every file with the `yaml` package alone.
 * A newly found difference is fixed by handing that shape to the reference (a pattern in
 * HANDED_OFF, or a check in the listener) with a case in the fallback test, not by teaching
 * this reader more YAML.
 */
import { load, type State } from 'js-yaml';
import { CORE_SCHEMA_AS_YAML } from './yaml-core-schema';
import { holdsUnsafeChar, newlinesOnlyInFreeText, rawTextIsClean } from './text-check';

/**
 * Where the children of one mapping or sequence start, as offsets into the text. A child is
 * the offset of a scalar's first character, the index of a nested container, or UNKNOWN
 * (a null value, whose position the `yaml` package puts elsewhere; or a container whose
 * values were not the ones its events produced).
 */
export interface ContainerIndex {
  readonly start: number;
  /** Mappings only: the keys (as `yaml` names them in a path), in document order. */
  readonly keys?: string[];
  readonly keyStarts?: number[];
  readonly items: Child[];
  byKey?: Map<string, number>;
}
export type Child = number | ContainerIndex;
export const UNKNOWN = -1;

export interface FastDocument {
  readonly data: unknown;
  readonly root: ContainerIndex;
}

/** Thrown from the event listener to give up on the fast path; never leaves this module. */
class Unsure extends Error {}

const DIRECTIVE = /^%/m;
/**
 * A line that starts with a document marker glued to more text (`---#x`, `...x`): js-yaml
 * reads a marker there, the `yaml` package a plain scalar.
 */
const GLUED_MARKER = /^(?:---|\.\.\.)[^ \t\r\n]/m;
/**
 * A `#` right after a comma or an opening bracket: the `yaml` package refuses a comment not
 * separated by white space, js-yaml reads one. (After a closing bracket or quote the listener
 * catches it; inside a quoted value it is only text, and such a file merely takes the
 * reference reader.)
 */
const GLUED_COMMENT = /[,[{]#/;
/**
 * An explicit key indicator (`?`) with nothing after it on its line, or before a collection:
 * the libraries write an empty key ("" or "null") and a collection key ("{ z: 1 }" or
 * "[object Object]") differently.
 */
const EXPLICIT_KEY = /(?:^|[\s[{,])\?[ \t]*(?:[\r\n\]},:[{]|-[ \t\r\n]|$)/m;
/** A block collection on the `---` line: js-yaml reads it, the `yaml` package refuses it. */
const COLLECTION_ON_MARKER = /^---[ \t]+[^ \t\r\n#]/m;
/** A `\U` escape: one above U+10FFFF is refused by one library and garbled by the other. */
const LONG_ESCAPE = /\\U/;
/** A backslash at a line end: an escaped line break is folded differently next to empty lines. */
const ESCAPED_LINE_BREAK = /\\\r?\n/;
/**
 * Shapes of text the two libraries were found to read differently: the reference reads them.
 * Named, so that the fallback test can hold a case for each.
 */
export const HANDED_OFF: Readonly<Record<string, RegExp>> = {
  directive: DIRECTIVE,
  'glued document marker': GLUED_MARKER,
  'glued comment': GLUED_COMMENT,
  'explicit key': EXPLICIT_KEY,
  'collection on the document marker': COLLECTION_ON_MARKER,
  '\\U escape': LONG_ESCAPE,
  'escaped line break': ESCAPED_LINE_BREAK,
};
const FOR_THE_REFERENCE = Object.values(HANDED_OFF);
/**
 * A line of only spaces in a block scalar: the libraries treat one at its start differently
 * (one refuses it, the other keeps a space).
 */
const SPACES_ONLY_LINE = /\n[ \t]+\r?(?:\n|$)/;

/**
 * Reads a YAML file with js-yaml and an index of where each value starts, or returns
 * undefined whenever the result might differ from the `yaml` package's (which the caller
 * then uses, as the reference): a file js-yaml refuses, directives, anchors, aliases or
 * tags, a character the text check refuses anywhere in the raw text, a line break where
 * the text check refuses one, a root that is not a mapping or sequence, or keys that
 * `yaml` would read differently.
 */
export function fastLoad(text: string): FastDocument | undefined {
  if (!rawTextIsClean(text) || FOR_THE_REFERENCE.some((re) => re.test(text))) return undefined;
  const builder = new IndexBuilder(text);
  let data: unknown;
  try {
    data = load(text, { schema: CORE_SCHEMA_AS_YAML, listener: (event, state) => builder.on(event, state) });
  } catch {
    return undefined;
  }
  const root = builder.root();
  if (root === undefined || typeof root === 'number') return undefined;
  if (builder.sawLineBreak && !newlinesOnlyInFreeText(data)) return undefined;
  return { data, root };
}

class IndexBuilder {
  /** Per open node: where js-yaml stood when it opened it, and the children closed inside it. */
  private readonly opens: number[] = [];
  private readonly kidResults: Array<unknown[] | null> = [];
  private readonly kidIndex: Array<Child[] | null> = [];
  private readonly top: Child[] = [];
  sawLineBreak = false;

  constructor(private readonly text: string) {}

  on(event: string, state: State): void {
    if (event === 'open') {
      this.opens.push(state.position);
      this.kidResults.push(null);
      this.kidIndex.push(null);
      return;
    }
    const start = skipSeparation(this.text, this.opens.pop()!);
    const results = this.kidResults.pop()!;
    const kids = this.kidIndex.pop()!;
    const c = this.text.charCodeAt(start);
    // A tag (!), an anchor (&) or an alias (*): the `yaml` package is the reference for those.
    if (c === 0x21 || c === 0x26 || c === 0x2a) throw new Unsure();
    const result: unknown = state.result;
    // "[a]#x" or "'a'#x": js-yaml reads a comment, the `yaml` package refuses the file.
    if ((c === 0x5b || c === 0x7b || c === 0x22 || c === 0x27) && this.text.charCodeAt(state.position) === 0x23) throw new Unsure();
    const collection = c === 0x5b || c === 0x7b;
    const blockScalar = c === 0x7c || c === 0x3e;
    if (blockScalar && SPACES_ONLY_LINE.test(upToLineEnd(this.text, start, state.position))) throw new Unsure();
    // "[\n] b: 1": js-yaml reads another key after a flow collection, the `yaml` package refuses.
    if (collection && !endsCleanly(this.text, state.position)) throw new Unsure();
    // A flow collection or a flow scalar that ended on a later line than it started.
    if (state.lineStart > start && !blockScalar && (state.kind === 'scalar' || collection)) {
      checkContinuationIndent(this.text, start, state.position, collection);
    }
    let node: Child;
    if (result === null || result === undefined) {
      node = UNKNOWN;
    } else if (typeof result !== 'object') {
      if (typeof result === 'string') this.checkString(result, c);
      node = start;
    } else if (results !== null && results.length === 1 && results[0] === result) {
      // A block-context attempt at a mapping key that turned out to be this whole node.
      node = kids![0]!;
    } else if (state.kind === 'mapping') {
      node = mappingIndex(this.text, start, result as Record<string, unknown>, results ?? [], kids ?? []);
    } else if (state.kind === 'sequence') {
      node = sequenceIndex(start, result as unknown[], results ?? [], kids ?? []);
    } else {
      throw new Unsure();
    }
    const depth = this.kidResults.length - 1;
    if (depth < 0) {
      this.top.push(node);
      return;
    }
    if (this.kidResults[depth] === null) {
      this.kidResults[depth] = [];
      this.kidIndex[depth] = [];
    }
    this.kidResults[depth]!.push(result);
    this.kidIndex[depth]!.push(node);
  }

  /** Escapes (only in double-quoted scalars) can produce what the raw-text check cannot see. */
  private checkString(value: string, firstChar: number): void {
    if (value.indexOf('\n') !== -1) this.sawLineBreak = true;
    if (firstChar === 0x22 && holdsUnsafeChar(value)) throw new Unsure();
  }

  root(): Child | undefined {
    return this.top.length === 1 ? this.top[0] : undefined;
  }
}

/** Longest implicit key the `yaml` package accepts; js-yaml has no such limit. */
const MAX_KEY_SPAN = 1024;

function mappingIndex(text: string, start: number, map: Record<string, unknown>, results: unknown[], kids: Child[]): Child {
  // One event for a key and one for its value, per pair; anything else (a key without a
  // value, a pair inside a flow sequence) may hide a key the two readers write differently.
  const pairs = results.length / 2;
  if (results.length % 2 !== 0 || Object.keys(map).length !== pairs) throw new Unsure();
  const keys: string[] = new Array(pairs);
  const keyStarts: number[] = new Array(pairs);
  const items: Child[] = new Array(pairs);
  for (let i = 0; i < pairs; i++) {
    const key = results[2 * i];
    const keyStart = kids[2 * i]!;
    // Keys `yaml` writes differently from js-yaml (null, collections) decide the data, not only positions.
    if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') throw new Unsure();
    const name = String(key);
    if (typeof keyStart !== 'number' || keyStart < 0) throw new Unsure();
    const value = kids[2 * i + 1]!;
    const valueStart = typeof value === 'number' ? value : value.start;
    if (name.length > MAX_KEY_SPAN || keySpanMayExceed(text, keyStart, valueStart)) throw new Unsure();
    if (!Object.prototype.hasOwnProperty.call(map, name) || !Object.is(map[name], results[2 * i + 1])) throw new Unsure();
    keys[i] = name;
    keyStarts[i] = keyStart;
    items[i] = value;
  }
  return { start, keys, keyStarts, items };
}

/**
 * Whether the key's text (not its name: quotes and escapes make the two differ) may run past
 * the limit before its `:`. With a value, the value's start bounds it; without one, the rest
 * of the key's line does, since an implicit key ends on the line it starts on.
 */
function keySpanMayExceed(text: string, keyStart: number, valueStart: number): boolean {
  if (valueStart >= 0) return valueStart - keyStart > MAX_KEY_SPAN;
  const lineEnd = text.indexOf('\n', keyStart);
  return (lineEnd === -1 ? text.length : lineEnd) - keyStart > MAX_KEY_SPAN;
}

function sequenceIndex(start: number, seq: unknown[], results: unknown[], kids: Child[]): Child {
  if (results.length !== seq.length) throw new Unsure();
  // An item that is not its own event's result (a pair js-yaml built in a flow sequence) may
  // hide a key the two readers write differently.
  for (let i = 0; i < seq.length; i++) if (!Object.is(seq[i], results[i])) throw new Unsure();
  return { start, items: kids };
}

/**
 * The `yaml` package refuses a flow collection or quoted scalar whose continuation lines are
 * not indented past the block they sit in; js-yaml reads them. The block's indent is taken
 * as the column of the start line's content past any "- " markers (stricter than `yaml` for
 * nested compact sequences, which then take the reference reader).
 */
function checkContinuationIndent(text: string, start: number, end: number, collection: boolean): void {
  // js-yaml may stand past the separation after a plain scalar when it closes it.
  while (end > start && isSeparation(text.charCodeAt(end - 1))) end--;
  let pos = text.lastIndexOf('\n', start - 1) + 1;
  const lineBegin = pos;
  for (;;) {
    while (text.charCodeAt(pos) === 0x20) pos++;
    if (text.charCodeAt(pos) === 0x2d && text.charCodeAt(pos + 1) === 0x20) pos++;
    else break;
  }
  const blockIndent = pos - lineBegin;
  for (let nl = text.indexOf('\n', start); nl !== -1 && nl < end; nl = text.indexOf('\n', nl + 1)) {
    let i = nl + 1;
    while (text.charCodeAt(i) === 0x20) i++;
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || i >= text.length) continue;
    const indent = i - nl - 1;
    // Only a collection's own lines may start with a closing bracket at the block's indent.
    const closer = collection && (c === 0x5d || c === 0x7d);
    if (closer ? indent < blockIndent : indent <= blockIndent) throw new Unsure();
    // Only the outermost collection may close at its block's indent, and only itself: a
    // nested one closing there (`{b: [\n  x\n]\n}`) is refused by the `yaml` package.
    if (closer && indent === blockIndent && i !== end - 1) throw new Unsure();
  }
}

/** The text from start to the end of the line where js-yaml stopped. */
function upToLineEnd(text: string, start: number, pos: number): string {
  const nl = text.indexOf('\n', pos);
  return text.slice(start, nl === -1 ? text.length : nl + 1);
}

/** After a flow collection: only spaces, then a line end, a comment, a flow indicator or the end. */
function endsCleanly(text: string, pos: number): boolean {
  while (text.charCodeAt(pos) === 0x20 || text.charCodeAt(pos) === 0x09) pos++;
  if (pos >= text.length) return true;
  const c = text.charCodeAt(pos);
  return c === 0x0a || c === 0x0d || c === 0x23 || c === 0x2c || c === 0x5d || c === 0x7d;
}

function isSeparation(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Past spaces, tabs, line breaks and comments: where the node js-yaml opened really starts. */
function skipSeparation(text: string, pos: number): number {
  const end = text.length;
  while (pos < end) {
    const c = text.charCodeAt(pos);
    if (isSeparation(c)) {
      pos++;
    } else if (c === 0x23) {
      while (pos < end && text.charCodeAt(pos) !== 0x0a) pos++;
    } else {
      break;
    }
  }
  return pos;
}

/**
 * The child at one step of a path, as the `yaml` package's locate walks it: a mapping finds
 * the key by its string form, a sequence takes numbers only. Returns the pair's key offset
 * too, for "unknown field" positions.
 */
export function childAt(node: ContainerIndex, part: string | number): { child: Child; keyStart?: number } | undefined {
  if (node.keys) {
    const i = keyIndex(node, String(part));
    return i === undefined ? undefined : { child: node.items[i]!, keyStart: node.keyStarts![i]! };
  }
  if (typeof part !== 'number') return undefined;
  const child = node.items[part];
  return child === undefined ? undefined : { child };
}

function keyIndex(node: ContainerIndex, name: string): number | undefined {
  const keys = node.keys!;
  if (keys.length <= 8) {
    const i = keys.indexOf(name);
    return i === -1 ? undefined : i;
  }
  if (!node.byKey) {
    node.byKey = new Map();
    for (let i = keys.length - 1; i >= 0; i--) node.byKey.set(keys[i]!, i);
  }
  return node.byKey.get(name);
}
