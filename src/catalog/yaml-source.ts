import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import { unsafeTextIssues } from './text-check';
import { fieldPath, InputError, type LocatedIssue, type SourceLocation } from '../errors';

type PathPart = string | number;

/**
 * A parsed YAML file that remembers where every value came from, so that any later
 * check (schema, semantics, selection) can point at file:line:col.
 */
export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    readonly data: unknown,
  ) {}

  static parse(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const issues: LocatedIssue[] = doc.errors.map((err) => {
        const pos = lines.linePos(err.pos[0]);
        return { loc: { file, line: pos.line, col: pos.col }, field: '', message: `YAML: ${firstLine(err.message)}` };
      });
      throw new InputError(issues);
    }
    const unsafe = unsafeTextIssues(file, doc, lines);
    if (unsafe.length > 0) throw new InputError(unsafe);
    return new YamlSource(file, doc, lines, toData(file, doc, lines));
  }

  /** Position of the value at path; with key=true, of its key (for "unknown field" messages). */
  locate(path: ReadonlyArray<PathPart>, key = false): SourceLocation {
    let node: unknown = this.doc.contents;
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
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, col: pos.col };
  }

  issue(path: ReadonlyArray<PathPart>, message: string, key = false): LocatedIssue {
    return { loc: this.locate(path, key), field: fieldPath(path), message };
  }
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
