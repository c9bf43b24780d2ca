import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { readYaml } from '../catalog/read-file';
import { InputError, type LocatedIssue } from '../errors';
import { LinkGuard } from '../fs';
import { displayPath } from '../util/paths';
import { groupName, OwnTemplate, type InventoryGroup, type PlayId } from '../targets/ansible';
import type { RenderedFile } from '../targets/render';
import { siteNames } from './fleet';
import { fleetFilesOf, siteEntry, type FleetEntry } from './inventory';
import type { OpenWorkspace } from './sites';

/** Where a site's own inventory sits under the output folder (the ansible target writes it). */
export function siteInventoryPath(site: string): string {
  return `${site}/ansible/inventory.yml`;
}

/** An `!unsafe` scalar as read back: literal text, which the fleet's inventory marks the same way. */
class Literal {
  constructor(readonly text: string) {}
}

/**
 * The Jinja expression fwgen itself writes into a site's inventory. Any other string that is
 * not `!unsafe` was not written by fwgen, and is refused.
 */
function ownTemplate(key: string, text: string): OwnTemplate | undefined {
  if (key === 'ansible_python_interpreter' && text === '{{ ansible_playbook_python }}') return new OwnTemplate(text);
  return undefined;
}

/**
 * A site's committed inventory read back as the data fwgen printed: every string `!unsafe`
 * except fwgen's own expressions, string keys only. The file is committed, so it is input
 * like any other: anything fwgen would not have written is refused with its place.
 */
function readSiteInventory(file: string, shown: string, site: string): Record<string, unknown> {
  const lines = new LineCounter();
  const doc = parseDocument(fs.readFileSync(file, 'utf8'), { lineCounter: lines, customTags: [{ tag: '!unsafe', resolve: (s: string) => new Literal(s) }] });
  const at = (node: Node | null | undefined, field: string, message: string): LocatedIssue => {
    const pos = lines.linePos(node?.range?.[0] ?? 0);
    return { loc: { file: shown, line: pos.line, col: pos.col }, field, message };
  };
  const refuse = (node: Node | null | undefined, field: string, message: string): never => {
    throw new InputError([at(node, field, `${message}; this is not the inventory fwgen renders for site '${site}': render the site again (fwgen render ${site})`)]);
  };
  if (doc.errors.length > 0) refuse(null, '', `not YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const walk = (node: unknown, field: string, key: string): unknown => {
    if (node === null || node === undefined) return null;
    if (isMap(node)) {
      const obj: Record<string, unknown> = {};
      for (const pair of node.items) {
        const k = pair.key;
        if (!isScalar(k) || typeof k.value !== 'string' || k.tag) refuse(k as Node, field, 'a key that is not plain text');
        const name = (k as { value: string }).value;
        if (Object.prototype.hasOwnProperty.call(obj, name)) refuse(k as Node, field, `key '${name}' twice`);
        obj[name] = walk(pair.value, field ? `${field}.${name}` : name, name);
      }
      return obj;
    }
    if (isSeq(node)) return node.items.map((item, i) => walk(item, `${field}[${i}]`, key));
    if (isScalar(node)) {
      if (node.value instanceof Literal) return node.value.text;
      if (typeof node.value === 'string') {
        return ownTemplate(key, node.value) ?? refuse(node, field, 'a string Ansible would template (fwgen marks every string it writes !unsafe)');
      }
      if (node.value === null || typeof node.value === 'number' || typeof node.value === 'boolean') return node.value;
    }
    return refuse(node as Node, field, 'a value fwgen does not write');
  };
  const data = walk(doc.contents, '', '') as { all?: { children?: Record<string, unknown> } } | null;
  const children = data?.all?.children;
  const group = groupName(site);
  const keys = children && typeof children === 'object' ? Object.keys(children) : [];
  if (Object.keys(data ?? {}).join() !== 'all' || Object.keys(data!.all ?? {}).join() !== 'children' || keys.join() !== group) {
    refuse(doc.contents as Node, 'all.children', `one group, ${group}, under all.children`);
  }
  const vars = (children![group] as { vars?: Record<string, unknown> } | null)?.vars;
  if (vars?.fwgen_site !== site) refuse(doc.contents as Node, `all.children.${group}.vars`, `the var fwgen_site: ${site}`);
  return children!;
}

/**
 * A site's groups as data, from its inventory as read back: each play's group is named after
 * the play (`<site>_linux`, ...), and the groups below the Linux and Windows groups are theirs.
 * Hosts are placed at the inventory file, where a clash with another site is said.
 */
function groupsOf(name: string, body: unknown, play: PlayId | undefined, site: string, shown: string): InventoryGroup {
  const b = (body ?? {}) as { hosts?: Record<string, unknown>; vars?: Record<string, unknown>; children?: Record<string, unknown> };
  const own = (['linux', 'windows', 'aws', 'pfsense'] as PlayId[]).find((p) => name === groupName(site, p)) ?? play;
  return {
    name,
    hosts: Object.keys(b.hosts ?? {}).map((h) => ({ name: h, field: `all.children.${name}.hosts`, loc: { file: shown, line: 1, col: 1 } })),
    vars: b.vars ?? {},
    children: Object.entries(b.children ?? {}).map(([child, value]) => groupsOf(child, value, own, site, shown)),
    ...(own ? { play: own } : {}),
  };
}

/**
 * The fleet's inventory.yml and site.yml, assembled from the sites' own inventories under the
 * output folder, without rendering: after the parts of a sharded render (--shard K/N) each
 * wrote their sites, or to check what they committed. The same text as a render of every
 * site makes. Every site of the workspace must have been rendered with the ansible target.
 */
export function mergedFleetFiles(ws: OpenWorkspace, output: string): RenderedFile[] {
  const guard = new LinkGuard(path.resolve(output));
  const entries: FleetEntry[] = [];
  const issues: LocatedIssue[] = [];
  for (const s of siteNames(ws, ws.siteFiles)) {
    const src = readYaml(s.file, ws.root);
    if (s.name === undefined) {
      issues.push(src.issue(['profile', 'name'], 'no site name fwgen can assemble an inventory from; fwgen render says what is wrong with the profile'));
      continue;
    }
    const rel = siteInventoryPath(s.name);
    const file = path.join(guard.top, rel);
    const shown = displayPath(file);
    const st = guard.check(rel); // a link on the way is refused, never read through
    if (st === undefined || !st.isFile()) {
      issues.push({ loc: { file: shown, line: 1, col: 1 }, field: '', message: `missing: render site '${s.name}' (its shard, or fwgen render ${s.name} -t ansible) before assembling the fleet's inventory` });
      continue;
    }
    try {
      const printed = readSiteInventory(file, shown, s.name);
      const top = groupName(s.name);
      entries.push(siteEntry(s.name, src.file, groupsOf(top, printed[top], undefined, s.name, shown), printed[top] as Record<string, unknown>));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      for (const i of err.issues) issues.push(i);
    }
  }
  if (issues.length > 0) throw new InputError(issues);
  return fleetFilesOf(entries);
}
