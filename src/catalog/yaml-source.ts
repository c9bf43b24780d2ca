import type { Document, LineCounter, Node, Pair } from 'yaml';
import { unsafeTextIssues } from './text-check';
import { childAt, fastLoad, UNKNOWN, type Child, type ContainerIndex, type FastDocument } from './yaml-fast';
import { fieldPath, InputError, type LocatedIssue, type SourceLocation } from '../errors';
import { yamlPackage } from '../util/yaml-package';
import { LineTable } from '../util/line-table';

type PathPart = string | number;

/** FWGEN_YAML=reference reads every file with the `yaml` package alone: the fast reader's contract can be checked against it. */
const REFERENCE_ONLY = process.env.FWGEN_YAML === 'reference';

/**
 * A parsed YAML file that remembers where every value came from, so that any later
 * check (schema, semantics, selection) can point at file:line:col.
 */
export class YamlSource {
  private slowDoc?: { doc: Document.Parsed; lines: LineCounter };
  private fastLines?: LineTable;
  /** A deferred source (see deferred): the file parsed when a position is first asked for. */
  private parsedLater?: YamlSource;
  private deferredParse = false;

  private constructor(
    readonly file: string,
    private readonly text: string,
    readonly data: unknown,
    private readonly fast: FastDocument | undefined,
  ) {}

  /**
   * Most files take the fast reader (js-yaml with an index of where each value starts);
   * whatever it cannot vouch for (see fastLoad) is read by the `yaml` package, which stays
   * the reference for data, positions and every error message.
   */
  static parse(file: string, text: string): YamlSource {
    return REFERENCE_ONLY ? YamlSource.parseWithYaml(file, text) : YamlSource.parseFastFirst(file, text);
  }

  /**
   * The fast reader where it vouches for the file, else the reference. Its contract: the
   * same data, the same position for every path and the same refusal as parseWithYaml, for
   * every text; test/unit/yaml-fast*.test.ts (the project's files, generated documents and
   * random mutations) enforce it, and CI runs the suite under FWGEN_YAML=reference as well.
   */
  static parseFastFirst(file: string, text: string): YamlSource {
    const fast = fastLoad(text);
    if (fast) return new YamlSource(file, text, fast.data, fast);
    return YamlSource.parseWithYaml(file, text);
  }

  /**
   * A file whose data is already known (a profile from the cache, compiled-profile.ts): the
   * text is kept, and parsed, as parse does, only when a position is asked for (an error).
   * Its data is not to be read: the cached value is the data.
   */
  static deferred(file: string, text: string): YamlSource {
    const source = new YamlSource(file, text, undefined, undefined);
    source.deferredParse = true;
    return source;
  }

  /**
   * This source without its parsed tree, as a deferred source: what a large profile keeps once
   * it is built (its data and index of positions weigh several times its text). A position
   * asked for later reads the text again, with the reader that read it the first time.
   */
  released(): YamlSource {
    return this.deferredParse ? this : YamlSource.deferred(this.file, this.text);
  }

  /** The reference reader alone: the `yaml` package's document, checked node by node. */
  static parseWithYaml(file: string, text: string): YamlSource {
    const { doc, lines } = parseChecked(file, text);
    const unsafe = unsafeTextIssues(file, doc, lines);
    if (unsafe.length > 0) throw new InputError(unsafe);
    const source = new YamlSource(file, text, toData(file, doc, lines), undefined);
    source.slowDoc = { doc, lines };
    return source;
  }

  /** Which reader produced the data (the fast one, or the `yaml` package as the reference). */
  get reader(): 'fast' | 'yaml' {
    if (this.deferredParse) return this.parsed().reader;
    return this.fast ? 'fast' : 'yaml';
  }

  private parsed(): YamlSource {
    return (this.parsedLater ??= YamlSource.parse(this.file, this.text));
  }

  /** Position of the value at path; with key=true, of its key (for "unknown field" messages). */
  locate(path: ReadonlyArray<PathPart>, key = false): SourceLocation {
    if (this.deferredParse) return this.parsed().locate(path, key);
    const offset = this.fast ? fastOffset(this.fast.root, path, key) : undefined;
    if (offset === undefined) return this.slowLocate(path, key);
    this.fastLines ??= new LineTable(this.text);
    const pos = this.fastLines.linePos(offset);
    return { file: this.file, line: pos.line, col: pos.col };
  }

  /**
   * Errors take their position as locate does: the index agrees with the `yaml` package on
   * every path (test/unit/yaml-fast*.test.ts), and building that package's document for one
   * bad value in a profile of a million addresses would take longer than the render.
   */
  issue(path: ReadonlyArray<PathPart>, message: string, key = false): LocatedIssue {
    return { loc: this.locate(path, key), field: fieldPath(path), message };
  }

  private slowLocate(path: ReadonlyArray<PathPart>, key: boolean): SourceLocation {
    this.slowDoc ??= parseChecked(this.file, this.text);
    const { doc, lines } = this.slowDoc;
    const { isMap, isPair, isScalar, isSeq } = yamlPackage();
    let node: unknown = doc.contents;
    let best: Node | null = (node as Node | null) ?? null;
    for (let i = 0; i < path.length; i++) {
      const part = path[i]!;
      let next: unknown;
      let pair: Pair | undefined;
      if (isMap(node)) {
        pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part));
        next = pair?.value;
      } else if (isSeq(node) && typeof part === 'number') {
        next = node.items[part];
      }
      if (next === undefined && pair === undefined) break;
      const last = i === path.length - 1;
      if (last && key && pair && pair.key) {
        best = pair.key as Node;
        break;
      }
      if (next === null || next === undefined) {
        best = (pair?.key as Node | undefined) ?? best;
        break;
      }
      node = next;
      best = next as Node;
    }
    const offset = best?.range?.[0] ?? 0;
    const pos = lines.linePos(offset);
    return { file: this.file, line: pos.line, col: pos.col };
  }
}

/**
 * The `yaml` package's document and line table; its syntax errors refuse the file. (A file
 * the fast reader accepted reaches this only for a position, and the two readers agree on
 * what they accept; should they not, the file is refused as the `yaml` package refuses it.)
 */
function parseChecked(file: string, text: string): { doc: Document.Parsed; lines: LineCounter } {
  const { LineCounter, parseDocument } = yamlPackage();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues: LocatedIssue[] = doc.errors.map((err) => {
      const pos = lines.linePos(err.pos[0]);
      return { loc: { file, line: pos.line, col: pos.col }, field: '', message: `YAML: ${firstLine(err.message)}` };
    });
    throw new InputError(issues);
  }
  return { doc, lines };
}

/**
 * The offset the `yaml` package's locate (above) would find, from the fast index; undefined
 * where the index does not know (a null value, a container whose index was dropped).
 */
function fastOffset(root: ContainerIndex, path: ReadonlyArray<PathPart>, key: boolean): number | undefined {
  let node: Child = root;
  for (let i = 0; i < path.length; i++) {
    if (typeof node === 'number') break;
    const step = childAt(node, path[i]!);
    if (step === undefined) break;
    if (key && i === path.length - 1 && step.keyStart !== undefined) return step.keyStart;
    node = step.child;
  }
  const offset = typeof node === 'number' ? node : node.start;
  return offset === UNKNOWN ? undefined : offset;
}

/**
 * The plain data of a document. Aliases that expand past a bound (a "billion laughs" file)
 * are refused at the first alias rather than expanded.
 */
function toData(file: string, doc: Document.Parsed, lines: LineCounter): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    if (!(err instanceof ReferenceError) || !/alias/i.test(err.message)) throw err;
    let offset = 0;
    const { visit } = yamlPackage();
    visit(doc, {
      Alias(_key, node) {
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const pos = lines.linePos(offset);
    const message = 'YAML: aliases expand to too many values (more than 100 per alias); write the values out instead';
    throw new InputError([{ loc: { file, line: pos.line, col: pos.col }, field: '', message }]);
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
