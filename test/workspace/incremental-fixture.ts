import * as fs from 'node:fs';
import * as path from 'node:path';
import { runInProcess, tempDir, type RunResult } from '../helpers';
import { commit, git, listText, lockText, siteText, vendorText, workspaceText, writeTree } from '../diff/fixture';

/*
 * A small Git workspace for check --base and diff --base: three sites over a catalog layer of
 * the workspace's own, rendered and committed under the tag `base`. store-3 also uses a
 * second vendor, whose list no other site names.
 */

export const SITES = ['store-1', 'store-2', 'store-3'];
export const otherVendor = vendorText
  .replace('id: acme', 'id: other')
  .replace('Acme Payments', 'Other Payments')
  .replace('acme-edge', 'other-edge')
  .replace('domains: [api.acme.example]', 'addresses: [192.0.2.200]');
const otherList = listText.replace('id: acme-edge', 'id: other-edge').replace('198.51.100.0/25', '198.51.100.128/25');

export function startFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'fwgen.yaml': workspaceText,
    'catalog-local/vendors/acme.yaml': vendorText,
    'catalog-local/lists/acme-edge.yaml': listText,
    'catalog-local/vendors/other.yaml': otherVendor,
    'catalog-local/lists/other-edge.yaml': otherList,
  };
  SITES.forEach((site, i) => {
    let text = siteText.replace('name: store-1', `name: ${site}`).replace('10.1.0.0/28', `10.${i + 1}.0.0/28`);
    if (site === 'store-3') text = text.replace('  acme: {}', '  acme: {}\n  other: {}');
    files[`sites/${site}.yaml`] = text;
    files[`sites/${site}.lock.yaml`] = lockText('203.0.113.10');
  });
  return files;
}

/** A file an earlier edit removed reads as empty. */
export const read = (repo: string, rel: string) => (fs.existsSync(path.join(repo, rel)) ? fs.readFileSync(path.join(repo, rel), 'utf8') : '');
export const write = (repo: string, rel: string, text: string) => writeTree({ [rel]: text }, repo);

export async function render(repo: string): Promise<void> {
  const r = await runInProcess(['render'], repo);
  if (r.status !== 0) throw new Error(`render: ${r.stderr}`);
}

/** The workspace rendered and committed as `base`. */
export async function baseRepo(): Promise<string> {
  const repo = tempDir('fwgen-incremental-');
  git(repo, ['init', '-q', '-b', 'main']);
  writeTree(startFiles(), repo);
  await render(repo);
  commit(repo, 'base', {});
  return repo;
}

/** Back to `tag` on main, untracked and ignored files gone. */
export function reset(repo: string, tag: string): void {
  git(repo, ['checkout', '-q', '-f', 'main']);
  git(repo, ['reset', '-q', '--hard', tag]);
  git(repo, ['clean', '-q', '-fdx']);
}

/** The line that says what the shortcut skipped: the one thing it adds to a result. */
const NOTE = /^fwgen: .*(unchanged since|every site rendered)/;

/** What a result says, the note about skipped sites aside. */
export function outcome(r: RunResult): string {
  const err = r.stderr
    .split('\n')
    .filter((l) => !NOTE.test(l))
    .join('\n');
  return JSON.stringify({ status: r.status, stdout: r.stdout, stderr: err }, null, 2);
}

export function noteOf(r: RunResult): string {
  return r.stderr.split('\n').find((l) => NOTE.test(l)) ?? '';
}

export interface Agreement {
  check: RunResult;
  diff: RunResult;
}

/**
 * check and diff against `base` with the shortcut and without it (--full): both must say the
 * same. With `json`, the JSON report too (every unchanged site's detail read from the base).
 */
export async function agree(repo: string, base: string, context: string, json = false): Promise<Agreement> {
  const same = async (args: string[]) => {
    const quick = await runInProcess([...args, '--base', base], repo);
    const full = await runInProcess([...args, '--base', base, '--full'], repo);
    expect({ context, args, result: outcome(quick) }).toEqual({ context, args, result: outcome(full) });
    return quick;
  };
  const check = await same(['check']);
  const diff = await same(['diff']);
  if (json) await same(['diff', '--format', 'json']);
  return { check, diff };
}

/** Every file under out/, relative to the workspace. */
export function outFiles(repo: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(repo, dir), { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${dir}/${e.name}`);
      else out.push(`${dir}/${e.name}`);
    }
  };
  walk('out');
  return out.sort();
}
