import * as fs from 'node:fs';
import * as path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

let parser: Parser | undefined;

/** The PowerShell grammar, parsed offline from the grammar package's .wasm. */
async function powershell(): Promise<Parser> {
  if (parser) return parser;
  await Parser.init();
  // Bytes, not a path: loading by path makes web-tree-sitter import fs dynamically, which jest's CommonJS runtime refuses.
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('tree-sitter-powershell/package.json')), 'tree-sitter-powershell.wasm'));
  const lang = await Language.load(wasm);
  parser = new Parser();
  parser.setLanguage(lang);
  return parser;
}

function walk(node: Node, visit: (n: Node) => void): void {
  visit(node);
  for (const child of node.children) if (child) walk(child, visit);
}

export interface PsParse {
  errors: string[];
  /** Command names in the order they appear (New-NetFirewallRule, ...). */
  commands: string[];
  /** Every string literal's text, as written. */
  strings: string[];
}

export async function parsePowerShell(text: string): Promise<PsParse> {
  const tree = (await powershell()).parse(text)!;
  const result: PsParse = { errors: [], commands: [], strings: [] };
  walk(tree.rootNode, (n) => {
    if (n.type === 'ERROR' || n.isMissing) {
      result.errors.push(`${n.isMissing ? 'MISSING' : 'ERROR'} at ${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${n.text.slice(0, 80)}`);
    }
    if (n.type === 'command_name') result.commands.push(n.text);
    if (n.type === 'string_literal') result.strings.push(n.text);
  });
  return result;
}
