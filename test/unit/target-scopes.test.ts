/**
 * A file's scope is data of its target's own type, never a string a view() takes apart again
 * (issue 21): every target and part in src/targets/ declares a scope type that is no string,
 * and no code there splits, slices or compares a scope as text. Read from the sources with
 * the compiler, so a new target is held to it without being named here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import type { Policy } from '../../src/policy/types';
import { Diagnostics } from '../../src/targets/diagnostics';
import { scopeKey } from '../../src/targets/scope';
import { sharedBuild } from '../../src/targets/shared-build';
import { repoRoot } from '../helpers';

const targetsDir = path.join(repoRoot, 'src', 'targets');
const targetFiles = fs
  .readdirSync(targetsDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join(targetsDir, f));

/** Methods that read a string's text: a scope passed through them is being parsed. */
const TEXT_METHODS = new Set(['split', 'startsWith', 'endsWith', 'indexOf', 'lastIndexOf', 'includes', 'slice', 'substring', 'substr', 'match', 'matchAll', 'replace', 'search', 'charAt', 'at']);
const EQUALITY = new Set([ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken]);

/** Whether an expression is a scope itself (`scope`, `file.scope`, `f.scope`), not a field of one. */
function isScope(node: ts.Node): boolean {
  if (ts.isIdentifier(node)) return /^_?scope$/i.test(node.text);
  return ts.isPropertyAccessExpression(node) && /^scope$/i.test(node.name.text);
}

function isText(node: ts.Node): boolean {
  return ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node);
}

/** Places where code reads a scope as text, as "file:line: code". */
function textReadsOfScope(file: string, text = fs.readFileSync(file, 'utf8')): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const report = (node: ts.Node) => found.push(`${path.basename(file)}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText()}`);
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && TEXT_METHODS.has(node.expression.name.text) && isScope(node.expression.expression)) report(node);
    if (ts.isBinaryExpression(node) && EQUALITY.has(node.operatorToken.kind) && ((isScope(node.left) && isText(node.right)) || (isScope(node.right) && isText(node.left)))) report(node);
    // A scope field written as text: `scope: 'cfn'` or `scope: \`${c}|ingress\``.
    if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'scope' && isText(node.initializer)) report(node);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** A target of one's own in src/targets/, for the checks to be shown to bite. */
const SAMPLE = path.join(targetsDir, 'sample-string-scope.ts');
const SAMPLE_TEXT = [
  "import type { Target, TargetPart } from './types';",
  "export const stringly: Target<null, string, string> = {",
  "  id: 'x', describe: '', apply: '', options: {},",
  "  files: () => [{ path: 'a', template: 't', scope: 'gateway' }],",
  "  check: () => [],",
  "  view(_p, _o, file) { const [c, part] = file.scope.split('|'); return file.scope === 'gateway' ? '' : `${c}${part}`; },",
  '};',
  "export const part: TargetPart<string, string | { kind: 'x' }> = { id: 'p', apply: '', files: () => [], check: () => [], view: () => '' };",
  "export const typed: Target<null, string, { kind: 'x' }> = { id: 't', describe: '', apply: '', options: {}, files: () => [], check: () => [], view: () => '' };",
].join('\n');

/** Each exported target or part of the given files and the type its files' scopes have (`TEXT ...` when it is not data). */
function scopeTypes(files: string[], extra?: { file: string; text: string }): Map<string, string> {
  const config = ts.readConfigFile(path.join(repoRoot, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot);
  const host = ts.createCompilerHost(options);
  if (extra) {
    const read = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version, ...rest) => (path.resolve(name) === extra.file ? ts.createSourceFile(name, extra.text, version) : read(name, version, ...rest));
    const exists = host.fileExists.bind(host);
    host.fileExists = (name) => path.resolve(name) === extra.file || exists(name);
  }
  const program = ts.createProgram(extra ? [...files, extra.file] : files, { ...options, noEmit: true }, host);
  const checker = program.getTypeChecker();
  const out = new Map<string, string>();
  for (const sf of program.getSourceFiles()) {
    if (!files.includes(path.resolve(sf.fileName)) && path.resolve(sf.fileName) !== extra?.file) continue;
    for (const statement of sf.statements) {
      if (!ts.isVariableStatement(statement) || !statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
      for (const decl of statement.declarationList.declarations) {
        const type = checker.getTypeAtLocation(decl.name);
        const filesProp = type.getProperty('files');
        if (!filesProp || !type.getProperty('view')) continue;
        const signature = checker.getTypeOfSymbolAtLocation(filesProp, decl).getCallSignatures()[0];
        const element = signature && checker.getIndexTypeOfType(signature.getReturnType(), ts.IndexKind.Number);
        const scope = element?.getProperty('scope');
        const name = `${path.basename(sf.fileName)}:${decl.name.getText()}`;
        if (!scope) {
          out.set(name, 'no scope');
          continue;
        }
        const scopeType = checker.getTypeOfSymbolAtLocation(scope, decl);
        out.set(name, `${isData(scopeType) ? '' : 'TEXT '}${checker.typeToString(scopeType)}`);
      }
    }
  }
  return out;
}

/** A scope type that is data: an object or a union of objects, never text, any or unknown. */
function isData(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.every(isData);
  if (type.flags & (ts.TypeFlags.StringLike | ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return false;
  return (type.flags & ts.TypeFlags.Object) !== 0 || type.isIntersection();
}

describe('a file\'s scope is a typed value', () => {
  test('no code in src/targets/ reads a scope as text (split, slice, compared with a string, written as one)', () => {
    expect(targetFiles.flatMap((f) => textReadsOfScope(f))).toEqual([]);
  });

  test('the text scan catches the ways a scope was read before', () => {
    expect(textReadsOfScope(SAMPLE, SAMPLE_TEXT)).toEqual([
      "sample-string-scope.ts:4: scope: 'gateway'",
      "sample-string-scope.ts:6: file.scope.split('|')",
      "sample-string-scope.ts:6: file.scope === 'gateway'",
    ]);
    const old = [
      "function scopeFor(file: OutputFile) { return file.scope.startsWith('gateway') ? undefined : file.scope.split('|')[0]; }",
      "if (f.scope.endsWith('|dnsmasq')) continue;",
      'files.push({ path: `${c}.ingress.json`, template: t, scope: `${c}|ingress` });',
    ].join('\n');
    expect(textReadsOfScope(SAMPLE, old)).toHaveLength(4);
  });

  test('every target and part declares a scope type of data, and the compiler sees through to a string one', () => {
    const types = scopeTypes(targetFiles, { file: SAMPLE, text: SAMPLE_TEXT });
    const own = [...types].filter(([name]) => !name.startsWith('sample-string-scope.ts:'));
    // Found by reading the sources: every target module and the Network Firewall part.
    expect(own.map(([name]) => name).sort()).toEqual(
      ['ansible.ts:ansible', 'aws.ts:aws', 'iptables.ts:iptables', 'network-firewall.ts:networkFirewall', 'nftables.ts:nftables', 'pfsense.ts:pfsense', 'windows.ts:windows'].sort(),
    );
    expect(own.filter(([, type]) => type.startsWith('TEXT') || type === 'no scope')).toEqual([]);
    expect(types.get('sample-string-scope.ts:stringly')).toBe('TEXT string');
    expect(types.get('sample-string-scope.ts:part')).toMatch(/^TEXT /);
    expect(types.get('sample-string-scope.ts:typed')).toBe('{ kind: "x"; }');
  }, 120_000);
});

describe('the one printable form of a scope', () => {
  test('equal scopes print alike whatever the order of their fields; an absent field is no field', () => {
    expect(scopeKey({ part: 'rules', deviceClass: 'pos', family: 'ipv4' })).toBe(scopeKey({ family: 'ipv4', deviceClass: 'pos', part: 'rules' }));
    expect(scopeKey({ deviceClass: undefined, part: 'rules' })).toBe(scopeKey({ part: 'rules' }));
    expect(scopeKey({ kind: 'group', deviceClass: 'pos', direction: 'ingress' })).toBe('{"deviceClass":"pos","direction":"ingress","kind":"group"}');
  });

  test('different scopes print apart: the gateway is no class, not a class named after it', () => {
    const keys = [undefined, null, 'gateway', 'null', '', { part: 'rules' }, { deviceClass: 'gateway', part: 'rules' }, { part: 'rules', family: 'ipv4' }, ['a', 'b'], 'a|b'];
    expect(new Set(keys.map(scopeKey)).size).toBe(keys.length - 1); // undefined and null both mean no key
    expect(scopeKey(undefined)).toBe(scopeKey(null));
  });

  test('a shared build is made once per policy, options and key, the key compared by that form', () => {
    const made: unknown[] = [];
    const build = sharedBuild('test', (_policy, o: { n: number }, key: { deviceClass?: string; part: string } | undefined, diags) => {
      made.push(key);
      diags.add('warning', `built ${scopeKey(key)} at ${o.n}`);
      return { key };
    });
    const policy = {} as Policy;
    const diags = new Diagnostics('test');
    const first = build(policy, { n: 1 }, { deviceClass: 'pos', part: 'rules' }, diags);
    expect(build(policy, { n: 1 }, { part: 'rules', deviceClass: 'pos' }, diags)).toBe(first);
    build(policy, { n: 1 }, undefined, diags);
    build(policy, { n: 1 }, { part: 'rules' }, diags);
    build(policy, { n: 2 }, { deviceClass: 'pos', part: 'rules' }, diags);
    build({} as Policy, { n: 1 }, { deviceClass: 'pos', part: 'rules' }, diags);
    expect(made).toEqual([{ deviceClass: 'pos', part: 'rules' }, undefined, { part: 'rules' }, { deviceClass: 'pos', part: 'rules' }, { deviceClass: 'pos', part: 'rules' }]);
    // What a build said comes with every answer, as if it had been built again.
    const again = new Diagnostics('test');
    build(policy, { n: 1 }, { part: 'rules', deviceClass: 'pos' }, again);
    expect(again.list().map((d) => d.message)).toEqual(['built {"deviceClass":"pos","part":"rules"} at 1']);
  });
});
