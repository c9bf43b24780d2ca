import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { load } from 'js-yaml';
import { Document, parseDocument, Scalar, isMap, isSeq, isScalar, visit } from 'yaml';
import { CORE_SCHEMA_AS_YAML } from '../../src/catalog/yaml-core-schema';
import { YamlSource } from '../../src/catalog/yaml-source';
import { compareReaders } from './yaml-compare';

const root = path.resolve(__dirname, '../..');

describe('the core schema given to js-yaml', () => {
  const special = fc.constantFrom(
    '', '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE', 'yes', 'No', 'on', 'off', 'y', 'n',
    '0', '-0', '+0', '00', '010', '0o17', '0o8', '0O17', '0x1F', '0xg', '0X1F', '-0x1', '+12', '1_000', '0b101', '1:30', '190:20:30',
    '.inf', '-.inf', '+.INF', '.Inf', '.NaN', '.nan', '.NAN', '-.nan', 'inf', 'nan', '1e3', '1E+3', '-1.5e-3', '.5', '5.', '.e3', '1.e3', '-.5e2',
    '2001-12-14', '2001-12-14t21:59:43.10-05:00', '<<', '=', '1.0', '1.10', '3.14159', '12345678901234567890', '0x7fffffffffffffffff', '1e400',
  );
  const numeric = fc.stringMatching(/^[-+]?(0[ox])?[0-9a-fA-F._eE+-]{0,8}$/);
  const scalars = fc.oneof(special, numeric, fc.string({ unit: fc.constantFrom(...'0123456789.eE+-_xoINFnatrueflsNUL~'), maxLength: 8 }));

  it('reads every plain scalar to the same value as the yaml package', () => {
    fc.assert(
      fc.property(scalars, (text) => {
        const source = `- ${text}\n`;
        const doc = parseDocument(source);
        const item = isSeq(doc.contents) ? doc.contents.items[0] : undefined;
        // Only what the yaml package reads as one plain scalar (not "-", "? x", "a: b", "#").
        if (doc.errors.length > 0 || !isScalar(item) || item.type !== Scalar.PLAIN) return;
        const expected = doc.toJS();
        const actual = load(source, { schema: CORE_SCHEMA_AS_YAML });
        expect(actual).toEqual(expected);
        const [a, b] = [(actual as unknown[])[0], (expected as unknown[])[0]];
        expect(Object.is(a, b) || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

/** Every YAML file the project ships or keeps as a fixture or as checked output. */
function projectYamlFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) found.push(full);
    }
  };
  for (const dir of ['catalog', 'examples', 'test', 'out']) walk(path.join(root, dir));
  for (const file of fs.readdirSync(root)) if (/\.ya?ml$/.test(file)) found.push(path.join(root, file));
  return found.sort();
}

describe('the fast reader on the project\'s own YAML files', () => {
  const files = projectYamlFiles();

  it('covers catalog, examples, fixtures and locks', () => {
    expect(files.filter((f) => f.includes(`${path.sep}catalog${path.sep}`)).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.endsWith('.lock.yaml')).length).toBeGreaterThan(0);
  });

  it.each(files.map((f) => [path.relative(root, f)]))('%s: same data, same position for every path', (rel) => {
    const text = fs.readFileSync(path.join(root, rel), 'utf8');
    const { diffs } = compareReaders(text);
    expect(diffs).toEqual([]);
  });

  it('takes the fast path for the catalog, the examples and the locks, unless they hold anchors', () => {
    const wanted = files.filter((f) => /(catalog|examples)\/|\.lock\.yaml$/.test(path.relative(root, f)));
    const readers = wanted.map((f) => {
      const text = fs.readFileSync(f, 'utf8');
      let anchors = false;
      visit(parseDocument(text), { Alias: () => void (anchors = true), Node: (_k, n) => void (anchors ||= !!(n as { anchor?: string }).anchor) });
      return [path.relative(root, f), anchors ? 'yaml' : 'fast', compareReaders(text).reader];
    });
    expect(readers.filter(([, want, got]) => want !== got)).toEqual([]);
    expect(readers.filter(([, , got]) => got === 'fast').length).toBeGreaterThan(5);
  });
});

/** A random document, written by the yaml package with random styles, comments and blank lines. */
const word = fc.constantFrom('a', 'id', 'flows', 'description', 'ports', '80', '0x1F', 'true', 'null', 'x y', 'a:b', 'k#1', '-', 'é', 'with "q"', "it's", '', ' lead', 'trail ', '1.0', '[x]');
const scalarValue = fc.oneof(word, fc.integer({ min: -1000, max: 100000 }), fc.boolean(), fc.double({ noDefaultInfinity: false }), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme-ascii', maxLength: 12 }));
type Tree = unknown;
const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarValue,
    fc.array(tie('node'), { maxLength: 5 }),
    fc.dictionary(word, tie('node'), { maxKeys: 5 }),
  ),
})).node;
const container = fc.oneof(fc.array(tree, { minLength: 1, maxLength: 6 }), fc.dictionary(word, tree, { minKeys: 1, maxKeys: 6 }));
const styling = fc.record({
  seed: fc.integer(),
  indent: fc.integer({ min: 1, max: 4 }),
  indentSeq: fc.boolean(),
  crlf: fc.boolean(),
  marker: fc.boolean(),
  headerComment: fc.boolean(),
});

function render(data: unknown, style: { seed: number; indent: number; indentSeq: boolean; crlf: boolean; marker: boolean; headerComment: boolean }): string {
  const doc = new Document(data);
  let n = style.seed >>> 0;
  const next = (): number => {
    n = (Math.imul(n, 1103515245) + 12345) >>> 0;
    return n >>> 16;
  };
  const quoting = [Scalar.PLAIN, Scalar.QUOTE_DOUBLE, Scalar.QUOTE_SINGLE, Scalar.PLAIN, Scalar.BLOCK_LITERAL, Scalar.BLOCK_FOLDED] as const;
  visit(doc, (_key, node) => {
    if (isScalar(node)) {
      const type = quoting[next() % quoting.length]!;
      if (typeof node.value === 'string' || (type !== Scalar.BLOCK_LITERAL && type !== Scalar.BLOCK_FOLDED)) node.type = type;
    }
    if (isMap(node) || isSeq(node)) node.flow = next() % 4 === 0;
    if (isScalar(node) || isMap(node) || isSeq(node)) {
      const r = next() % 8;
      if (r === 0) node.commentBefore = ' before';
      if (r === 1) node.comment = ' after';
      if (r === 2) node.spaceBefore = true;
    }
  });
  if (style.headerComment) doc.commentBefore = ' header';
  let text = doc.toString({ indent: style.indent, indentSeq: style.indentSeq, directives: style.marker ? true : undefined, lineWidth: 0 });
  if (style.crlf) text = text.replace(/\n/g, '\r\n');
  return text;
}

describe('the fast reader on generated documents', () => {
  it('gives the same data and the same position for every path as the yaml package', () => {
    let fast = 0;
    let runs = 0;
    fc.assert(
      fc.property(container, styling, (data, style) => {
        const text = render(data, style);
        const { reader, diffs } = compareReaders(text);
        runs++;
        if (reader === 'fast') fast++;
        expect({ text, diffs }).toEqual({ text, diffs: [] });
      }),
      { numRuns: 400, seed: 1123 },
    );
    // Many generated documents are odd on purpose (explicit keys, comments and blank lines inside
    // multi-line flow collections) and take the reference reader; enough must take the fast one.
    expect(fast / runs).toBeGreaterThan(0.25);
  });
});



describe('the fast reader on profile-shaped documents', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
  const flow = fc.record({
    id: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
    description: fc.constantFrom('web front', 'one\ntwo', 'a: b', '# not a comment'),
    addresses: fc.array(ipv4, { maxLength: 20 }),
    ports: fc.array(fc.integer({ min: 1, max: 65535 }), { maxLength: 4 }),
  });
  const profile = fc.record({ profile: fc.record({ name: fc.constantFrom('site', 'eu-1') }), flows: fc.array(flow, { minLength: 1, maxLength: 6 }) });

  it('always takes the fast path, with the same data and positions', () => {
    fc.assert(
      fc.property(profile, fc.integer(), fc.boolean(), (data, seed, crlf) => {
        const doc = new Document(data);
        let n = seed >>> 0;
        visit(doc, (_key, node) => {
          n = (Math.imul(n, 1103515245) + 12345) >>> 0;
          if (isSeq(node) && node.items.every((item) => isScalar(item))) node.flow = true;
          if ((isMap(node) || isScalar(node)) && n % 5 === 0) node.commentBefore = ' note';
          if (isMap(node) && n % 7 === 0) node.spaceBefore = true;
        });
        let text = `# header\n${doc.toString({ lineWidth: 0 })}`;
        if (crlf) text = text.replace(/\n/g, '\r\n');
        const { reader, diffs } = compareReaders(text);
        expect({ text, reader, diffs }).toEqual({ text, reader: 'fast', diffs: [] });
      }),
      { numRuns: 200 },
    );
  });
});
