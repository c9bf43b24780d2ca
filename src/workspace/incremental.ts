import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { git, GitError, resolveRevision } from '../diff/base-tree';
import { lockPathFor } from '../resolve/lock';
import { siteNames } from './fleet';
import type { KeptSite } from './fleet-output';
import type { OpenWorkspace } from './sites';
import { fileDigest, isOwnCheckout, parseRecord, recordPath, relPath, workspaceInputs, type SiteRecord, type WorkspaceInputs } from './site-inputs';

/*
 * Incremental check and diff (--base REV). Files under out/ are applied as root, and a pull
 * request controls every file of its head, records included: the trust anchor is the render
 * record the BASE revision committed (out/<site>/inputs.json, read with git as diff reads the
 * base), never the head's own. A site is not rendered again only when
 *  (a) the record computed now from the head's inputs (profile and lock bytes, each catalog
 *      file the site selects, the names of all catalog files, fwgen's build, fwgen.yaml and
 *      the options check renders with) equals the base's record, and
 *  (b) the head's files under out/<site>/ are exactly the base's, and those are exactly the
 *      files the base's record names (same paths, same blob ids): a hand edit under out/, or a
 *      file planted there, committed or not, means a render.
 * Deterministic rendering then makes the site's files what a render would make.
 */

/** A site not rendered again, with what check and diff need of it from the base's record. */
export interface UnchangedSite extends KeptSite {
  profileFile: string;
  record: SiteRecord;
  /** The blob id of the base's policy snapshot of the site. */
  snapshotBlob: string;
}

export interface Shortcut {
  /** The revision as given, for messages. */
  label: string;
  /** Site profiles to render. */
  render: string[];
  kept: UnchangedSite[];
  /** Why every site is rendered, when that was decided before looking at sites. */
  why?: string;
  /** Why sites were rendered, with how many of each. */
  reasons: Map<string, number>;
  repo?: { root: string; rev: string; outRel: string; wsRel: string };
}

interface BaseEntry {
  mode: string;
  id: string;
}

const RENDER_REASONS = {
  noRecord: 'no render record in the base',
  inputs: 'inputs changed',
  files: 'files under the output folder differ from the base',
  record: "the base's files are not the ones its record names",
  clash: 'a site name is claimed twice',
} as const;

/**
 * Which sites of the workspace can be left as the base revision `ref` committed them, and
 * which must be rendered. `output` is the folder the run compares with: the records are read
 * from the workspace's own output folder only.
 */
export function unchangedSince(ws: OpenWorkspace, ref: string | undefined, output: string = ws.output): Shortcut {
  const label = ref ?? 'the merge base';
  const all = (why: string): Shortcut => ({ label, render: ws.siteFiles, kept: [], why, reasons: new Map() });
  if (isOwnCheckout(ws)) return all("fwgen's own checkout, whose code changes without a new build");
  if (path.resolve(output) !== path.resolve(ws.output)) return all("--output names another folder than the workspace's");
  const { repoRoot, rev } = resolveRevision(ws.root, ref);
  const realRoot = fs.realpathSync(repoRoot);
  const wsRel = path.relative(realRoot, fs.realpathSync(ws.root)).split(path.sep).join('/');
  const outRel = [wsRel, relPath(ws, ws.output)].filter(Boolean).join('/');
  if (outRel === '' || outRel.startsWith('..') || path.isAbsolute(outRel)) return all('the output folder is not inside the repository');
  const base = baseOutputs(repoRoot, rev, outRel);
  const recordIds: Array<[string, string]> = [];
  for (const [site, files] of base) {
    const id = files.get(recordPath(site))?.id;
    if (id !== undefined) recordIds.push([site, id]);
  }
  if (recordIds.length === 0) return all(`${label} holds no render records (rendered by an older fwgen, or never rendered)`);
  const touched = touchedSites(repoRoot, rev, outRel);
  const records = new Map<string, SiteRecord>();
  for (const [site, bytes] of readBlobs(repoRoot, recordIds)) {
    const record = parseRecord(bytes.toString('utf8'), site);
    if (record) records.set(record.profile.file, record);
  }
  const now = workspaceInputs(ws);
  const cut: Shortcut = { label, render: [], kept: [], reasons: new Map(), repo: { root: repoRoot, rev, outRel, wsRel } };
  const renderFor = (file: string, why: string) => {
    cut.render.push(file);
    cut.reasons.set(why, (cut.reasons.get(why) ?? 0) + 1);
  };
  for (const file of ws.siteFiles) {
    const record = records.get(relPath(ws, file));
    const committed = record && base.get(record.site);
    if (!record || !committed) renderFor(file, RENDER_REASONS.noRecord);
    else if (!sameInputs(record, file, now)) renderFor(file, RENDER_REASONS.inputs);
    else if (touched.has(record.site)) renderFor(file, RENDER_REASONS.files);
    else if (!namesItsFiles(record, committed)) renderFor(file, RENDER_REASONS.record);
    else cut.kept.push({ name: record.site, entry: record.fleet, profileFile: file, record, snapshotBlob: committed.get(`${record.site}/policy.json`)?.id ?? '' });
  }
  return unclashed(ws, cut);
}

/**
 * A rendered site that takes the name of a kept one (a profile renamed onto another site)
 * is reported as a full render reports it: every site is rendered.
 */
function unclashed(ws: OpenWorkspace, cut: Shortcut): Shortcut {
  if (cut.kept.length === 0 || cut.render.length === 0) return cut;
  const kept = new Set(cut.kept.map((k) => k.name));
  let named;
  try {
    named = siteNames(ws, cut.render);
  } catch {
    named = undefined; // two rendered sites share a name: the full render says so
  }
  if (named && !named.some((s) => s.name !== undefined && kept.has(s.name))) return cut;
  return { ...cut, render: ws.siteFiles, kept: [], why: RENDER_REASONS.clash };
}

/** What the record names is what the head holds, and what check renders with. */
function sameInputs(r: SiteRecord, profileFile: string, now: WorkspaceInputs): boolean {
  if (r.fwgen !== now.fwgen || r.workspace !== now.workspace || r.options.allowUnresolved || r.catalog.names !== now.catalogNames) return false;
  for (const [name, digest] of Object.entries(r.catalog.files)) if (now.catalogFiles.get(name) !== digest) return false;
  if (r.profile.sha256 !== fileDigest(profileFile)) return false;
  return (r.lock?.sha256 ?? '') === fileDigest(lockPathFor(profileFile));
}

/** The base committed exactly the files its record names, and the record, as plain files. */
function namesItsFiles(r: SiteRecord, committed: Map<string, BaseEntry>): boolean {
  const own = recordPath(r.site);
  for (const [p, e] of committed) {
    if (e.mode !== '100644') return false;
    if (p !== own && r.outputs[p] !== e.id) return false;
  }
  return committed.size === Object.keys(r.outputs).length + 1;
}

/** Splits `git ls-tree -z` output into path, mode, type and id. */
function* treeEntries(out: string): Generator<{ path: string; mode: string; type: string; id: string }> {
  for (const line of out.split('\0')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const [mode, type, id] = line.slice(0, tab).split(' ');
    yield { path: line.slice(tab + 1), mode: mode!, type: type!, id: id! };
  }
}

/** The base revision's files under the output folder, by site folder, each path relative to the output folder. */
function baseOutputs(repoRoot: string, rev: string, outRel: string): Map<string, Map<string, BaseEntry>> {
  const ls = git(repoRoot, ['ls-tree', '-r', '-z', '--full-tree', rev, '--', `${outRel}/`]);
  if (!ls.ok) throw new GitError(repoRoot, `git ls-tree ${rev}: ${ls.err}`);
  const sites = new Map<string, Map<string, BaseEntry>>();
  const skip = outRel.length + 1;
  for (const e of treeEntries(ls.out)) {
    const rel = e.path.slice(skip);
    const slash = rel.indexOf('/');
    if (slash < 0) continue;
    const site = rel.slice(0, slash);
    let files = sites.get(site);
    if (!files) sites.set(site, (files = new Map()));
    // A submodule or anything else that is not a blob can never match a record.
    files.set(rel, { mode: e.type === 'blob' ? e.mode : e.type, id: e.id });
  }
  return sites;
}

/**
 * Site folders whose files in the working tree differ from the base in any way: changed,
 * added, removed, staged or not, or not tracked at all (ignored files included, as a full
 * check sees every file there). Git compares through its index, so an unchanged file costs
 * a stat rather than a read.
 */
function touchedSites(repoRoot: string, rev: string, outRel: string): Set<string> {
  const diff = git(repoRoot, ['diff-index', '--no-renames', '--name-only', '-z', rev, '--', `${outRel}/`]);
  if (!diff.ok) throw new GitError(repoRoot, `git diff-index ${rev}: ${diff.err}`);
  const others = git(repoRoot, ['ls-files', '-z', '--others', '--', `${outRel}/`]);
  if (!others.ok) throw new GitError(repoRoot, `git ls-files: ${others.err}`);
  const sites = new Set<string>();
  const skip = outRel.length + 1;
  for (const p of `${diff.out}\0${others.out}`.split('\0')) {
    const slash = p.indexOf('/', skip);
    if (slash > skip) sites.add(p.slice(skip, slash));
  }
  return sites;
}

/** Blobs of the repository by id, read in one `git cat-file --batch`; a missing one is left out. */
export function readBlobs<K>(repoRoot: string, wanted: ReadonlyArray<readonly [K, string]>): Array<[K, Buffer]> {
  if (wanted.length === 0) return [];
  const r = spawnSync('git', ['cat-file', '--batch'], { cwd: repoRoot, input: wanted.map(([, id]) => id).join('\n') + '\n', maxBuffer: 2 ** 31 - 1 });
  if (r.error || r.status !== 0) throw new GitError(repoRoot, `git cat-file: ${r.error?.message ?? r.stderr.toString().trim()}`);
  const out: Array<[K, Buffer]> = [];
  const buf = r.stdout;
  let at = 0;
  for (const [key] of wanted) {
    const eol = buf.indexOf(0x0a, at);
    if (eol < 0) break;
    const header = buf.subarray(at, eol).toString('latin1').split(' ');
    at = eol + 1;
    if (header[1] !== 'blob') continue; // "<id> missing"
    const size = Number(header[2]);
    out.push([key, buf.subarray(at, at + size)]);
    at += size + 1;
  }
  return out;
}

/**
 * The base revision without what the kept sites hold (their profiles, locks and output
 * folders), unpacked from its blobs into a temporary folder: diff reads the base as before,
 * and thousands of unchanged sites cost nothing to unpack. Call `dispose`.
 */
export function partialBaseTree(ws: OpenWorkspace, cut: Shortcut): { dir: string; dispose(): void } {
  const { root, rev, outRel, wsRel } = cut.repo!;
  const inRepo = (p: string) => (wsRel ? `${wsRel}/${p}` : p);
  const left = new Set<string>();
  for (const k of cut.kept) {
    left.add(inRepo(relPath(ws, k.profileFile)));
    left.add(inRepo(relPath(ws, lockPathFor(k.profileFile))));
  }
  const keptFolder = new Set(cut.kept.map((k) => k.name));
  const ls = git(root, ['ls-tree', '-r', '-z', '--full-tree', rev]);
  if (!ls.ok) throw new GitError(root, `git ls-tree ${rev}: ${ls.err}`);
  const wanted: Array<[{ path: string; mode: string }, string]> = [];
  const skip = outRel.length + 1;
  for (const e of treeEntries(ls.out)) {
    if (e.type !== 'blob' || left.has(e.path)) continue;
    if (e.path.startsWith(`${outRel}/`) && keptFolder.has(e.path.slice(skip, e.path.indexOf('/', skip)))) continue;
    wanted.push([{ path: e.path, mode: e.mode }, e.id]);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fwgen-base-'));
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    for (const [{ path: p, mode }, bytes] of readBlobs(root, wanted)) {
      const file = path.join(dir, ...p.split('/'));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (mode === '120000') fs.symlinkSync(bytes.toString('utf8'), file);
      else fs.writeFileSync(file, bytes);
    }
  } catch (err) {
    dispose();
    throw err;
  }
  return { dir, dispose };
}

/** The stderr line that says what a base let fwgen skip, and why the rest was rendered. */
export function shortcutNote(cut: Shortcut): string {
  if (cut.why) return `fwgen: every site rendered (${cut.why})`;
  const n = (x: number) => x.toLocaleString('en-US');
  const why = [...cut.reasons].map(([reason, count]) => `${n(count)}: ${reason}`).join('; ');
  const kept = cut.kept.length;
  return `fwgen: ${n(kept)} site${kept === 1 ? '' : 's'} unchanged since ${cut.label} (same inputs, same committed files), ${n(cut.render.length)} rendered${why ? ` (${why})` : ''}`;
}
