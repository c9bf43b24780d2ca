/**
 * What a community.windows module accepts, read from the module's own PowerShell rather than
 * from its documentation: `ansible-doc` lists no choices for win_firewall_rule's profiles, yet
 * the code throws "Unknown profile 'any'" for anything but domain, private and public.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { collectionsPath } from './harness';

/** The .ps1 of community.windows.NAME among the collection paths the plays use, or undefined. */
export function moduleSource(name: string): string | undefined {
  for (const root of collectionsPath.split(':')) {
    // A collection path may name the ansible_collections folder itself, as Debian's does.
    const base = path.basename(root) === 'ansible_collections' ? root : path.join(root, 'ansible_collections');
    const file = path.join(base, 'community/windows/plugins/modules', `${name}.ps1`);
    if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8');
  }
  return undefined;
}

export interface ModuleSpec {
  /** Every option the module reads (Get-AnsibleParam -name, and its -aliases). */
  options: Set<string>;
  /** The values the code accepts per option, where it restricts them; a trailing `*` matches any rest (a `switch -wildcard` label). */
  choices: Record<string, string[]>;
}

function quoted(list: string): string[] {
  return [...list.matchAll(/["']([^"']*)["']/g)].map((m) => m[1]!);
}

/**
 * The options and accepted values of a module written with Ansible.ModuleUtils.Legacy:
 * - `$x = Get-AnsibleParam ... -name "x" ... -validateset "a", "b"` (or `-validateset $list`);
 * - a `ConvertTo-*` function whose `switch` throws on any label it lacks, called on an option;
 * - a `$x -ne "any"` guard, which lets "any" past the converter;
 * - a loop over a fixed list that only looks at the option's values in that list
 *   (`ForEach ($p in $known) { if ($x -notcontains $p) { continue } ... }`), which ignores the rest.
 */
export function moduleSpec(source: string): ModuleSpec {
  const lists = new Map<string, string[]>();
  for (const m of source.matchAll(/^\s*\$(\w+) = (?:@\()?((?:["'][^"'\n]*["'](?:,\s*)?)+)\)?\s*$/gm)) lists.set(m[1]!, quoted(m[2]!));
  const optionOf = new Map<string, string>();
  const options = new Set<string>();
  const choices: Record<string, string[]> = {};
  for (const m of source.matchAll(/^\s*\$(\w+) = Get-AnsibleParam (?:-obj )?\$params (?:-name )?"(\w+)"(.*)$/gm)) {
    const [, variable, option, rest] = m as unknown as [string, string, string, string];
    optionOf.set(variable, option);
    options.add(option);
    const aliases = /-aliases ((?:["'][^"']*["'](?:,\s*)?)+)/.exec(rest);
    for (const a of aliases ? quoted(aliases[1]!) : []) options.add(a);
    const set = /-validateset (\$\w+|(?:["'][^"']*["'](?:,\s*)?)+)/.exec(rest);
    if (set) choices[option] = set[1]!.startsWith('$') ? lists.get(set[1]!.slice(1))! : quoted(set[1]!);
  }
  const converters = new Map<string, string[]>();
  for (const m of source.matchAll(/^function (ConvertTo-[\w-]+) \{([\s\S]*?)^\}/gm)) {
    if (/default \{ throw /.test(m[2]!)) converters.set(m[1]!, [...m[2]!.matchAll(/^\s*"([^"]+)" \{/gm)].map((l) => l[1]!));
  }
  for (const m of source.matchAll(/(ConvertTo-[\w-]+) -\w+ \$(\w+)/g)) {
    const option = optionOf.get(m[2]!);
    const labels = converters.get(m[1]!);
    if (option && labels) choices[option] = [...new Set([...(choices[option] ?? []), ...labels])];
  }
  for (const m of source.matchAll(/\$(\w+) -ne "any"/g)) {
    const option = optionOf.get(m[1]!);
    if (option && choices[option]) choices[option] = [...new Set([...choices[option]!, 'any'])];
  }
  for (const m of source.matchAll(/ForEach \(\$(\w+) in \$(\w+)\)[\s\S]*?if \(\$(\w+) -notcontains \$\1\) \{\s*continue/gi)) {
    const option = optionOf.get(m[3]!);
    if (option && lists.has(m[2]!)) choices[option] = lists.get(m[2]!)!;
  }
  return { options, choices };
}

/**
 * What the module would refuse (or, for a value a loop skips, silently ignore) among these
 * arguments: options it does not read, and values outside its choices, list elements each.
 * Matched exactly, which is stricter than PowerShell's case-insensitive `switch` and `-contains`.
 */
export function refused(spec: ModuleSpec, args: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const accepts = (choices: string[], v: unknown) =>
    typeof v === 'string' && choices.some((c) => (c.endsWith('*') ? v.startsWith(c.slice(0, -1)) : v === c));
  for (const [key, value] of Object.entries(args)) {
    if (!spec.options.has(key)) {
      problems.push(`${key}: not an option the module reads`);
      continue;
    }
    const choices = spec.choices[key];
    if (!choices) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (!accepts(choices, v)) problems.push(`${key}: ${JSON.stringify(v)} is not one of ${choices.join(', ')}`);
    }
  }
  return problems;
}
