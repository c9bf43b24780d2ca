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

export interface PsCommand {
  name: string;
  /** Parameter name (without the dash) → its values: string literals unquoted, bare words as written. */
  params: Record<string, string[]>;
}

function values(node: Node): string[] {
  const out: string[] = [];
  walk(node, (n) => {
    if (n.type === 'verbatim_string_characters') out.push(n.text.slice(1, -1).replace(/''/g, "'"));
    else if (n.type === 'generic_token' || n.type === 'variable') out.push(n.text);
  });
  return out;
}

/** Every command of a script with its parameters, read from the parse tree. */
export async function psCommands(text: string): Promise<PsCommand[]> {
  const tree = (await powershell()).parse(text)!;
  const commands: PsCommand[] = [];
  walk(tree.rootNode, (n) => {
    if (n.type !== 'command') return;
    const name = n.children.find((c) => c?.type === 'command_name')?.text ?? '';
    const params: Record<string, string[]> = {};
    const elements = n.children.find((c) => c?.type === 'command_elements');
    let current: string | undefined;
    for (const c of elements?.children ?? []) {
      if (!c || c.type === 'command_argument_sep') continue;
      if (c.type === 'command_parameter') {
        current = c.text.replace(/^-/, '').replace(/:$/, '');
        params[current] = [];
      } else if (current !== undefined) {
        params[current]!.push(...values(c));
      }
    }
    commands.push({ name, params });
  });
  return commands;
}

/** The only commands fwgen's scripts run: anything else was smuggled in by a catalog value. */
export const FWGEN_PS_COMMANDS = new Set([
  'Get-NetFirewallRule',
  'Remove-NetFirewallRule',
  'New-NetFirewallRule',
  'Out-Null',
  'Remove-NetFirewallDynamicKeywordAddress',
  'New-NetFirewallDynamicKeywordAddress',
  'Set-NetFirewallProfile',
]);
