import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { append, largest } from '../../src/util/append';
import { repoRoot } from '../helpers';

/**
 * A spread argument puts every element of an array on the call stack: past about 100,000
 * elements V8 throws "RangeError: Maximum call stack size exceeded" (a 10,000-site render did,
 * in `files.push(...result.files)`). So no call in src/ takes a spread argument (push, unshift,
 * Math.max, String.fromCharCode or any other), nor spreads through apply: append() in
 * src/util/append.ts adds any number of items. A spread of an array literal written in place, whose
 * size is what the source says, is the one exception.
 */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) for (const f of sourceFiles(full)) out.push(f);
    else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Every spread passed as an argument, and every `.apply(`, in one file: `file:line: text`. */
function spreadCalls(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const where = (node: ts.Node) => `${path.relative(repoRoot, file)}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}: ${node.getText(sf).slice(0, 120)}`;
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      for (const arg of node.arguments ?? []) {
        if (ts.isSpreadElement(arg) && !ts.isArrayLiteralExpression(arg.expression)) found.push(where(node));
      }
      const callee = node.expression;
      if (ts.isPropertyAccessExpression(callee) && callee.name.text === 'apply' && (node.arguments?.length ?? 0) >= 2) found.push(where(node));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('no array of unbounded size is spread into a call', () => {
  it('finds no spread argument anywhere in src/', () => {
    const files = sourceFiles(path.join(repoRoot, 'src'));
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap(spreadCalls)).toEqual([]);
  });

  it('append and largest take more items than a spread could', () => {
    const many = Array.from({ length: 1_000_000 }, (_, i) => i);
    expect(() => ([] as number[]).push(...many)).toThrow(RangeError);
    const into = [-1];
    expect(append(into, many)).toBe(into);
    expect(into.length).toBe(1_000_001);
    expect(into[1_000_000]).toBe(999_999);
    expect(largest(-1, many)).toBe(999_999);
  });

  it('catches the forms it is meant to catch', () => {
    const dir = fs.mkdtempSync(path.join(repoRoot, 'test', '.spread-'));
    try {
      const file = path.join(dir, 'sample.ts');
      fs.writeFileSync(
        file,
        [
          'const a: number[] = [];',
          'const b: number[] = [1];',
          'a.push(...b);', // caught
          'a.push(...[1, 2]);', // a literal: bounded by the source
          'Math.max(...b);', // caught
          'String.fromCharCode(...b);', // caught
          'a.concat([...b]);', // an array literal holding a spread: no spread argument
          'Math.max.apply(null, b);', // caught
          'new Set(...[b]);',
          'const c = { ...{ x: 1 } };',
          '',
        ].join('\n'),
      );
      expect(spreadCalls(file).map((f) => f.replace(/^.*?:(\d+):.*$/, '$1'))).toEqual(['3', '5', '6', '8']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
