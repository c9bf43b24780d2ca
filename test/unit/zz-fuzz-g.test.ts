import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { compareReaders } from './yaml-compare';

const root = path.resolve(__dirname, '../..');
const files: string[] = [];
const walk = (d: string): void => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const f = path.join(d, e.name); if (e.isDirectory()) walk(f); else if (/\.ya?ml$/.test(e.name)) files.push(f); } };
walk(path.join(root, 'catalog')); walk(path.join(root, 'examples'));
for (const f of fs.readdirSync(path.join(root, 'out'))) if (/\.lock\.yaml$/.test(f)) files.push(path.join(root, 'out', f));
walk(path.join(root, 'out'));
const texts = [...new Set(files)].map((f) => fs.readFileSync(f, 'utf8'));
const GEN = process.env.FZ_GEN ?? 'mut';
const DEADLINE = Number(process.env.FZ_DEADLINE);
const OUT = `/tmp/fz/${GEN}2.out`;

const pieces = [' ', ':', '-', '#', '?', '[', ']', '{', '}', ',', "'", '"', '\n', '|', '>', 'x', '  ', '   ', ': ', '- ', '? ', '\n  ', '\n- ', '\n    ', '...', '---', '--- ', '\n...\n', '\n---\n', '\t', '\r', '\r\n', '\u2028', '\u00e9', '\u{1F600}', '\\', '\\x41', '\\u00e9', '\\N', '\\_', '\\U0001F600', '\\\n', '"\\x41"', '|2-', '>+', '|-', '>-', '|+', '|1', '<<', '<<: ', '__proto__', '__proto__: ', 'constructor: ', '+.5', '0x', '0o', '1e', '-0', '.NaN', '1_0', '0x1F', '0o17', '1e3', '.inf', 'null', '~', 'null: ', '~: ', '"a": ', "'a': ", 'a: ', 'true: ', '1: ', '"1": ', '[x,\n', '{a: 1,\n', ']', '}', ' #c', '#c', '&a ', '*a', '!!str ', '%', '@', '`', 'k'.repeat(1030) + ': ', '"' + 'k'.repeat(1020) + '": ', "''", '""', '\\"', "'\n'", '"\n"', 'description: |\n  ', 'notes: "', '\n\n', '  \n'];

let tried = 0, fast = 0, diverged = 0;
const seen = new Map<string, string>();
const KNOWN = [/\\U(?!000|0010)/, /\\\r?\n[ ]*\r?\n/, /^---[ ]+[^ \r\n#]/m, /\n *[\]}] *[^ #\r\n,\]}]/];
let skipped = 0;
function record(text: string): void {
  if (KNOWN.some((re) => re.test(text)) || (/[|>]/.test(text) && /(^|\n) +(\r?\n|$)/.test(text))) { skipped++; return; }
  tried++;
  let r;
  try { r = compareReaders(text); } catch (e) { r = { reader: 'throw', diffs: [`THROW ${(e as Error).message.slice(0, 200)}`] }; }
  if (r.reader === 'fast') fast++;
  if (r.diffs.length) {
    diverged++;
    const sig = r.diffs[0]!.replace(/\d+/g, 'N').replace(/\[.*?\]/g, '[]').slice(0, 60);
    const prev = seen.get(sig);
    if (prev === undefined || text.length < prev.length) seen.set(sig, text);
    fs.appendFileSync(OUT + '.raw', JSON.stringify({ text: text.length < 4000 ? text : text.slice(0, 4000), d: r.diffs.slice(0, 2) }) + '\n');
  }
}

function edit(text: string, edits: Array<[number, number, string]>): string {
  for (const [at, remove, insert] of edits) {
    const p = at % (text.length + 1);
    text = text.slice(0, p) + insert + text.slice(p + remove);
  }
  return text;
}

const mutArb = fc.tuple(fc.nat(texts.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(4), fc.oneof(fc.constantFrom(...pieces), fc.string({ unit: fc.constantFrom(...' :-#?[]{},\'"\n|>x\\0.e+1'), maxLength: 4 }))), { minLength: 1, maxLength: 4 }))
  .map(([w, e]) => edit(texts[w]!, e));
// line-level: indentation changes, duplication, deletion, swapping, on a random window of a file
const lineArb = fc.tuple(fc.nat(texts.length - 1), fc.nat(), fc.nat(60), fc.array(fc.tuple(fc.nat(), fc.nat(5), fc.integer({ min: -3, max: 3 }), fc.constantFrom(...pieces)), { minLength: 1, maxLength: 4 }))
  .map(([w, s, n, ops]) => {
    const all = texts[w]!.split('\n');
    const st = s % all.length;
    let lines = n === 0 ? all : all.slice(st, st + n + 5);
    for (const [at, kind, d, piece] of ops) {
      const i = at % Math.max(lines.length, 1);
      const l = lines[i] ?? '';
      if (kind === 0) lines[i] = d >= 0 ? ' '.repeat(d) + l : l.replace(new RegExp(`^ {0,${-d}}`), '');
      else if (kind === 1) lines.splice(i, 0, l);
      else if (kind === 2) lines.splice(i, 1);
      else if (kind === 3) { const j = (at * 7) % Math.max(lines.length, 1); [lines[i], lines[j]] = [lines[j] ?? '', l]; }
      else if (kind === 4) { const c = l.indexOf(': '); lines[i] = c >= 0 ? l.slice(0, c + 2) + piece + l.slice(c + 2) : piece + l; }
      else lines[i] = l + piece;
    }
    return lines.join('\n') + (d0(w) ? '\n' : '');
  });
function d0(w: number): boolean { return w % 3 !== 0; }

// grammar: small documents built from odd keys and values
const keyArb = fc.constantFrom('a', 'b', 'description', 'notes', '"a"', "'a'", '"\\x61"', '__proto__', 'constructor', '<<', '~', 'null', '"null"', '1', '"1"', '1.0', '0x1', '-0', '.NaN', 'true', '"true"', 'k'.repeat(1030), '"' + 'k'.repeat(1022) + '"', '? a', '? "a"', '"a b"', 'a b', '"\\u00e9"', 'é', '"a\\nb"', "'a''b'", '-a', '.a', 'a#b', 'a ', '"a" ', '?a', ':a', '[a]', '{a: 1}', '*a', '&x a', '!!str a', '"\\U0001F600"', '"\\ud800"');
const scalarArb = fc.constantFrom('x', 'x y', '"x"', "'x'", '+.5', '0x', '0o', '1e', '-0', '.NaN', '1_0', '0x1F', '0o17', '1e3', '1e400', '.inf', '-.Inf', '~', 'null', '', 'true', 'yes', '"\\x41"', '"\\u00e9"', '"\\N"', '"\\_"', '"\\L"', '"\\/"', '"\\e"', '"\\0"', '"\\U00110000"', '"\\U0010FFFF"', '"\\uDFFF"', '"a\\\n  b"', '"a\\\n\n  b"', '"a\n  b"', '"a\n\n  b"', '"a \n  b"', "'a\n  b'", "'a\n\n  b'", 'a\n  b', 'a\n\n  b', 'a #c', 'a#c', '"a"#c', '[a, b]', '[a,\n  b]', '[a,\nb]', '{a: 1,\n  b: 2}', '{a: 1, a: 2}', '[a: 1]', '{a, b}', '[? a]', '[]', '{}', '[\n]', '{\n  }', '---', '...', '- x', '&a x', '*a', '!!int 1', '2001-12-14', '1:30', '0b1', '@x', '`x', '%x');
const blockArb = fc.tuple(fc.constantFrom('|', '>', '|-', '>-', '|+', '>+', '|2', '|2-', '>1+', '|+2', '| #c', '|#c', '>\n', '|0', '|10'), fc.array(fc.tuple(fc.nat(4), fc.constantFrom('x', 'y z', '', ' ', '  ', '# c', '- x', 'a: b', '---', '...', '"q"')), { maxLength: 5 }), fc.boolean())
  .map(([h, ls, _]) => h + '\n' + ls.map(([i, s]) => ' '.repeat(i) + s).join('\n'));
const valueArb = fc.oneof({ weight: 5, arbitrary: scalarArb }, { weight: 2, arbitrary: blockArb });
type Node = string;
const docArb: fc.Arbitrary<Node> = fc.letrec<{ node: Node; map: Node; seq: Node }>((tie) => ({
  node: fc.oneof({ maxDepth: 3, depthIdentifier: 'd' }, valueArb, tie('map'), tie('seq')),
  map: fc.array(fc.tuple(keyArb, fc.constantFrom(': ', ':', ' : ', ':  ', ': #c\n'), tie('node')), { minLength: 1, maxLength: 4 }).map((ps) => ps.map(([k, s, v]) => `${k}${s}${/\n/.test(v) && !/^[|>]/.test(v) ? '\n' + v : v}`).join('\n')),
  seq: fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((xs) => xs.map((x) => '- ' + x).join('\n')),
})).node;
const gramArb = fc.tuple(fc.constantFrom('', '---\n', '--- ', '# c\n', ' ', '--- #c\n'), docArb, fc.constantFrom('\n', '', '\n...\n', '\n\n', '\r\n'), fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...pieces)), { maxLength: 2 }))
  // indent nested block structure: any line after "key:" newline gets two spaces
  .map(([pre, d, post, e]) => edit(pre + indentNested(d) + post, e));
function indentNested(d: string): string {
  const out: string[] = [];
  let depth = 0;
  for (const l of d.split('\n')) { out.push('  '.repeat(depth) + l); if (/:\s*$/.test(l)) depth = Math.min(depth + 1, 3); }
  return out.join('\n');
}

const arbs: Record<string, fc.Arbitrary<string>> = { mut: mutArb, line: lineArb, gram: gramArb };

test('fuzz', () => {
  const arb = arbs[GEN]!;
  fs.writeFileSync(OUT + '.raw', '');
  let seed = Date.now() ^ (GEN.length * 7919);
  while (Date.now() < DEADLINE) {
    for (const t of fc.sample(arb, { numRuns: 200, seed: seed++ })) record(t);
    fs.writeFileSync(OUT, JSON.stringify({ GEN, skipped, tried, fast, diverged, classes: [...seen.entries()] }, null, 1));
  }
});
