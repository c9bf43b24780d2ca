import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isWithin } from '../fs';
import { FileError } from '../errors';
import { git, GitError, gitOut, resolveRevision, streamBlobs } from '../fs/git';
import { treeIdOf } from '../fs/git-tree';
import { packageRoot } from '../util/paths';
import { lockPathFor } from '../resolve/lock';
import { siteNames } from './fleet';
import type { KeptSite } from './fleet-output';
import { fleetFilesOf, type FleetEntry } from './inventory';
import type { OpenWorkspace } from './sites';
import { fileDigest, isOwnCheckout, parseRecord, RECORD_FILE, relPath, workspaceInputs, type BaseRecord, type RecordedFile, type WorkspaceInputs } from './site-inputs';

/*
 * Incremental check and diff (--base REV). Files under out/ are applied as root, and a pull
 * request controls every file of its head, records included: the trust anchor is the render
 * record the BASE revision committed (out/<site>/inputs.json, read with git as diff reads the
 * base), never the head's own. A site is not rendered again only when
 *  (a) the record computed now from the head's inputs (profile and lock bytes, each catalog
 *      file the site selects, fwgen's build, fwgen.yaml and the options check renders with)
 *      equals the base's record, no file was added to or removed from the workspace's catalog
 *      folders since the base, and
 *  (b) the head's files under out/<site>/ are exactly the base's, and those are exactly the
 *      files the base's record names (same paths, same blob ids): a hand edit under out/, or a
 *      file planted there, committed or not, means a render.
 * Deterministic rendering then makes the site's files what a render would make.
 */

/** A site not rendered again, with what check and diff need of it from the base's record. */
export interface UnchangedSite extends KeptSite {
  profileFile: string;
  /** The address lists the site's policy names (SiteRecord.lists). */
  lists: string[];
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
  repo?: { root: string; rev: string; outRel: string; wsRel: string; base?: BaseListing };
  /**
   * Whether the fleet's files (out/inventory.yml and its kind) are current without making them,
   * given the entries of the sites rendered (see fleetFilesCurrent).
   */
  fleetCurrent?: (rendered: FleetEntry[]) => boolean;
}

/**
 * What partialBaseTree unpacks from, listed while the shortcut decided (asked for with
 * `unchangedSince(..., { listBase: true })`): the files of the base outside its output folder,
 * its site folders and the links directly in its output folder.
 */
export interface BaseListing {
  beside: Promise<TreeEntry[]>;
  folders: string[];
  links: TreeEntry[];
}

const RENDER_REASONS = {
  noRecord: 'no render record in the base',
  inputs: 'inputs changed',
  files: 'files under the output folder differ from the base',
  record: "the base's files are not the ones its record names",
  clash: 'a site name is claimed twice',
} as const;

/**
 * What is kept of one base record once it was read: only what a kept site needs, so that the
 * thousands of records of a fleet are never all held (each is parsed, judged and let go).
 */
interface RecordVerdict {
  site: string;
  /** The record names the head's build, fwgen.yaml and catalog files (sameBuildAndCatalog), then also its profile and lock (sameFiles). */
  inputs: boolean;
  profile: RecordedFile;
  lock: RecordedFile | undefined;
  /** The base's folder of the site holds exactly the files the record names (siteTreeId). */
  files: boolean;
  /** The record's fleet entry, parsed when asked. */
  entry: BaseRecord['fleet'];
  lists: string[];
  snapshotBlob: string;
}

/**
 * Which sites of the workspace can be left as the base revision `ref` committed them, and
 * which must be rendered. `output` is the folder the run compares with: the records are read
 * from the workspace's own output folder only.
 */
export async function unchangedSince(ws: OpenWorkspace, ref: string | undefined, output: string = ws.output, opts: { listBase?: boolean } = {}): Promise<Shortcut> {
  const label = ref ?? 'the merge base';
  const all = (why: string): Shortcut => ({ label, render: ws.siteFiles, kept: [], why, reasons: new Map() });
  if (isOwnCheckout(ws)) return all("fwgen's own checkout, whose code changes without a new build");
  if (path.resolve(output) !== path.resolve(ws.output)) return all("--output names another folder than the workspace's");
  const { repoRoot, rev } = resolveRevision(ws.root, ref);
  const realRoot = fs.realpathSync(repoRoot);
  const wsRel = path.relative(realRoot, fs.realpathSync(ws.root)).split(path.sep).join('/');
  const outRel = [wsRel, relPath(ws, ws.output)].filter(Boolean).join('/');
  if (outRel === '' || outRel.startsWith('..') || path.isAbsolute(outRel)) return all('the output folder is not inside the repository');
  const { sites: base, files: baseFiles, links } = baseOutput(repoRoot, rev, outRel);
  if (base.size === 0) return all(`${label} holds no render records (rendered by an older fwgen, or never rendered)`);
  // diff unpacks the base but for the kept sites: what lies beside the output folder (the
  // sites' profiles among it) is listed now, while the shortcut is decided, not after.
  const listing: BaseListing | undefined = opts.listBase ? { beside: filesBesideOutput(repoRoot, rev, outRel), folders: [...base.keys()], links } : undefined;
  // Every git run starts here and runs beside this process: the working tree against the base
  // (out/ and the sites' folders), the catalog folders' listings, and the base's records, which
  // are parsed and judged as they come while the others run (all but the head's profile and
  // lock digests, which wait for git's answer about the sites' folders). A git writing while
  // this process is busy only waits on a full pipe.
  const moved = catalogFilesAddedOrRemoved(ws, realRoot, rev, label);
  const outDiff = gitOut(repoRoot, ['diff-index', '--no-renames', '--name-only', '-z', rev, '--', `${outRel}/`]);
  const siteGit = siteFolderDiff(ws, repoRoot, rev, wsRel);
  const now = workspaceInputs(ws);
  const verdicts = new Map<string, RecordVerdict>();
  const reading = streamBlobs(repoRoot, [...base].map(([site, tree]) => [site, `${tree}:${RECORD_FILE}`] as const), (site, bytes, blob) => {
    const record = parseRecord(bytes, site);
    if (!record) return;
    const snapshot = `${record.site}/policy.json`;
    verdicts.set(record.profile.file, {
      site: record.site,
      inputs: sameBuildAndCatalog(record, now),
      profile: record.profile,
      lock: record.lock,
      files: siteTreeId(record, blob) === base.get(site),
      entry: record.fleet,
      lists: record.lists,
      snapshotBlob: record.outputs.find(([p]) => p === snapshot)?.[1] ?? '',
    });
  });
  const besideBase = listing?.beside ?? Promise.resolve([]);
  for (const p of [moved, outDiff, siteGit, reading, besideBase]) p.catch(() => undefined); // awaited below: a failure before then is not left unhandled
  const digests = siteDigests(ws, wsRel, await siteGit);
  const catalogMoved = await moved;
  if (catalogMoved) {
    await Promise.allSettled([reading, outDiff, besideBase]); // no git left running behind the full render
    return all(catalogMoved);
  }
  const [, diff] = await Promise.all([reading, outDiff]);
  if (verdicts.size === 0) {
    await Promise.allSettled([besideBase]);
    return all(`${label} holds no render records (rendered by an older fwgen, or never rendered)`);
  }
  for (const [file, v] of verdicts) {
    const head = digests.get(file);
    v.inputs &&= head !== undefined && sameFiles(v, head);
  }
  const { sites: touched, files: touchedFiles } = touchedPaths(diff, outRel);
  const cut: Shortcut = { label, render: [], kept: [], reasons: new Map(), repo: { root: repoRoot, rev, outRel, wsRel, ...(listing ? { base: listing } : {}) } };
  const renderFor = (file: string, why: string) => {
    cut.render.push(file);
    cut.reasons.set(why, (cut.reasons.get(why) ?? 0) + 1);
  };
  for (const file of ws.siteFiles) {
    const v = verdicts.get(relPath(ws, file));
    if (!v) renderFor(file, RENDER_REASONS.noRecord);
    else if (!v.inputs) renderFor(file, RENDER_REASONS.inputs);
    else if (touched.has(v.site)) renderFor(file, RENDER_REASONS.files);
    else if (!v.files) renderFor(file, RENDER_REASONS.record);
    else cut.kept.push(keptSite(v, file, `${label}:${outRel}/${v.site}/${RECORD_FILE}`));
  }
  cut.fleetCurrent = fleetFilesCurrent(cut, verdicts, base.size, (name) => baseFiles.has(name) && !touchedFiles.has(name));
  return unclashed(ws, cut);
}

/** A kept site whose fleet entry is parsed from its base record the first time it is asked for. */
function keptSite(v: RecordVerdict, profileFile: string, record: string): UnchangedSite {
  let entry: FleetEntry | undefined;
  return {
    name: v.site,
    profileFile,
    lists: v.lists,
    snapshotBlob: v.snapshotBlob,
    get entry(): FleetEntry {
      entry ??= v.entry();
      // The rest of the record was read; this part is only read now (parseRecord).
      if (!entry) throw new FileError(record, "the record's fleet entry cannot be read; run again with --full");
      return entry;
    },
  };
}

/**
 * Whether the fleet's files are current without making them again, given the entries of the
 * sites the run rendered. They are when the base committed them (plain files), the working
 * tree holds them as the base did (git diff-index), every folder of the base's output is a site
 * with a record, and the head's sites are the base's with the same entries: the kept sites hold
 * their base entries, so each rendered site must have a base record whose entry equals the one
 * just made. The fleet's files are then what the base's render made of those same entries,
 * which the base's own check held its committed files to, as it held the records this
 * shortcut trusts: making and comparing megabytes of inventory again would find them equal.
 * The kept sites' entries are then never parsed. Any doubt (an entry that differs, a site
 * added, removed or renamed, an entry written by another build in another order) makes them.
 */
function fleetFilesCurrent(cut: Shortcut, verdicts: Map<string, RecordVerdict>, baseFolders: number, committed: (name: string) => boolean): Shortcut['fleetCurrent'] {
  if (verdicts.size !== baseFolders || !fleetFilesOf([]).every((f) => committed(f.path))) return undefined;
  const bySite = new Map<string, RecordVerdict>();
  for (const v of verdicts.values()) bySite.set(v.site, v);
  const kept = new Set(cut.kept.map((k) => k.name));
  return (rendered) => {
    if (rendered.length !== cut.render.length || rendered.length + cut.kept.length !== bySite.size) return false;
    if (new Set(rendered.map((e) => e.name)).size !== rendered.length) return false;
    return rendered.every((e) => {
      const before = kept.has(e.name) ? undefined : bySite.get(e.name)?.entry();
      return before !== undefined && JSON.stringify(before) === JSON.stringify(e);
    });
  };
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
  return { ...cut, render: ws.siteFiles, kept: [], why: RENDER_REASONS.clash, fleetCurrent: undefined };
}

/**
 * Why every site must be rendered because a file was added to or removed from the workspace's
 * catalog folders since `rev` (an override or a new list can change which file a site
 * selects), or undefined. Records name only the files their site selects, so that such a
 * change does not rewrite every record; the shipped catalog is part of fwgen's build, which
 * each record names. Files Git ignores count too: fwgen reads them all the same.
 */
async function catalogFilesAddedOrRemoved(ws: OpenWorkspace, realRoot: string, rev: string, label: string): Promise<string | undefined> {
  const specs: string[] = [];
  const shipped = fs.realpathSync(packageRoot);
  for (const layer of ws.catalogLayers) {
    let real: string;
    try {
      real = fs.realpathSync(layer);
    } catch {
      return `the catalog folder ${layer} cannot be read`;
    }
    if (isWithin(shipped, real)) continue;
    const rel = path.relative(realRoot, real).split(path.sep).join('/');
    if (rel.startsWith('..') || path.isAbsolute(rel)) return `the catalog folder ${layer} is outside the repository, so ${label} cannot say what it held`;
    specs.push(`:(literal)${rel === '' ? '.' : rel}`);
  }
  if (specs.length === 0) return undefined;
  const [changed, untracked] = await Promise.all([
    gitOut(realRoot, ['diff', '--no-renames', '--name-only', '-z', '--diff-filter=AD', rev, '--', ...specs]),
    gitOut(realRoot, ['ls-files', '--others', '-z', '--', ...specs]),
  ]);
  return changed.length > 0 || untracked.length > 0 ? `a catalog file was added or removed since ${label}` : undefined;
}

/** What the record names of the build, fwgen.yaml, the options and the catalog is what check renders with now. */
function sameBuildAndCatalog(r: BaseRecord, now: WorkspaceInputs): boolean {
  if (r.fwgen !== now.fwgen || r.workspace !== now.workspace || r.options.allowUnresolved) return false;
  for (const [name, digest] of Object.entries(r.catalog.files)) if (now.catalogFiles.get(name) !== digest) return false;
  return true;
}

/** The record's profile and lock are the head's. */
function sameFiles(r: Pick<RecordVerdict, 'profile' | 'lock'>, head: SiteDigests): boolean {
  const same = (recorded: RecordedFile | undefined, digest: string) => (digest === AS_BASE ? recorded !== undefined : (recorded?.sha256 ?? '') === digest);
  return same(r.profile, head.profile) && same(r.lock, head.lock);
}

/** A head file's digest, or AS_BASE for a file the working tree holds as the base committed it. */
interface SiteDigests {
  profile: string;
  lock: string;
}
const AS_BASE = 'as in the base';

/** Above this many folders of sites, their files are digested one by one rather than asked of git. */
const MAX_SITE_FOLDERS = 64;

/**
 * The head's profile and lock of each site (by path relative to the workspace): sha256 of the
 * file, or AS_BASE where git says the working tree holds the very blob the base committed as a
 * plain file there, which is then not read at all.
 *
 * Why that is enough: `git diff-index REV` (without --cached) lists every path whose working
 * tree file differs from REV's: a path left out is in REV, in the index with REV's blob id,
 * and its file in the working tree matches the index's stat data (size, mtime, ctime, inode),
 * or was compared by content where the stat data cannot tell (an entry as new as the index).
 * So the file's bytes are REV's blob (git's stat cache is what check --base already trusts for
 * the folders under out/). The base's record of the site digests that same blob: the base's
 * render read it from the base's tree, and the base's check held the record to it, as it held
 * every record this shortcut trusts. A file not in REV as a plain file (new, untracked, a link)
 * is digested, and so is every file when the sites lie in too many folders to ask git about.
 */
function siteDigests(ws: OpenWorkspace, wsRel: string, asBase: Set<string>): Map<string, SiteDigests> {
  const inRepo = (rel: string) => (wsRel ? `${wsRel}/${rel}` : rel);
  const digest = (file: string, rel: string) => (asBase.has(inRepo(rel)) ? AS_BASE : fileDigest(file));
  const digests = new Map<string, SiteDigests>();
  // What the workspace walk saw beside each profile: a lock that is not a plain file there
  // digests as '' (as fileDigest would say), without asking the file system again.
  const lockOf = (file: string) => (ws.siteLocks?.has(file) ? ws.siteLocks.get(file) : lockPathFor(file));
  for (const file of ws.siteFiles) {
    const rel = relPath(ws, file);
    const lock = lockOf(file);
    digests.set(rel, { profile: digest(file, rel), lock: lock === undefined ? '' : digest(lock, relPath(ws, lock)) });
  }
  return digests;
}

/**
 * The paths (in the repository) of the sites' profiles and locks that the working tree holds
 * exactly as `rev` committed them as plain files, asked of git (see siteDigests); none when the
 * sites lie in too many folders, or outside plain ones.
 */
async function siteFolderDiff(ws: OpenWorkspace, repoRoot: string, rev: string, wsRel: string): Promise<Set<string>> {
  const asBase = new Set<string>();
  const folders = new Set(ws.siteFiles.map((file) => path.posix.dirname(wsRel ? `${wsRel}/${relPath(ws, file)}` : relPath(ws, file))));
  if (folders.size > MAX_SITE_FOLDERS || folders.has('.') || [...folders].some((d) => d.startsWith('..'))) return asBase;
  const specs = [...folders].map((d) => `:(literal)${d}/`);
  const [listed, changed] = await Promise.all([
    gitOut(repoRoot, ['ls-tree', '-z', '--full-tree', rev, '--', ...specs]),
    gitOut(repoRoot, ['diff-index', '--no-renames', '--name-only', '-z', rev, '--', ...specs]),
  ]);
  const differs = new Set(changed.toString('utf8').split('\0'));
  for (const e of treeEntries(listed.toString('utf8'))) {
    if (e.type === 'blob' && (e.mode === '100644' || e.mode === '100755') && !differs.has(e.path)) asBase.add(e.path);
  }
  return asBase;
}

/**
 * The Git tree id of a site's folder holding exactly the files the record names (plain files,
 * mode 100644) and the record itself: equal to the base's tree of the folder only when the
 * base committed those very files, no other and no link. Computed from the record, so that
 * the base's folders are compared one tree id each instead of file by file.
 */
function siteTreeId(r: BaseRecord, recordBlob: string): string {
  const prefix = `${r.site}/`;
  const files: Array<[string, string]> = [];
  let placed = false;
  for (const [p, id] of r.outputs) {
    if (!p.startsWith(prefix)) return '';
    const rel = p.slice(prefix.length);
    // In its place among the others, which a record lists in order: they need no sorting then.
    if (!placed && rel > RECORD_FILE) {
      files.push([RECORD_FILE, recordBlob]);
      placed = true;
    }
    files.push([rel, id]);
  }
  if (!placed) files.push([RECORD_FILE, recordBlob]);
  return treeIdOf(files);
}

/** The base revision's output folder: its site folders, each one's tree id, the names of its plain files, and its links. */
function baseOutput(repoRoot: string, rev: string, outRel: string): { sites: Map<string, string>; files: Set<string>; links: TreeEntry[] } {
  const ls = git(repoRoot, ['ls-tree', '-z', '--full-tree', rev, '--', `${outRel}/`]);
  if (!ls.ok) throw new GitError(repoRoot, `git ls-tree ${rev}: ${ls.err}`);
  const sites = new Map<string, string>();
  const files = new Set<string>();
  const links: TreeEntry[] = [];
  for (const e of treeEntries(ls.out)) {
    const name = e.path.slice(outRel.length + 1);
    if (e.type === 'tree') sites.set(name, e.id);
    else if (e.type === 'blob' && e.mode === '100644') files.add(name);
    else if (e.type === 'blob' && e.mode === LINK_MODE) links.push(e);
  }
  return { sites, files, links };
}

interface TreeEntry {
  path: string;
  mode: string;
  type: string;
  id: string;
}
const LINK_MODE = '120000';

/** Splits `git ls-tree -z` output into path, mode, type and id. */
function* treeEntries(out: string): Generator<TreeEntry> {
  for (const line of out.split('\0')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const [mode, type, id] = line.slice(0, tab).split(' ');
    yield { path: line.slice(tab + 1), mode: mode!, type: type!, id: id! };
  }
}

/**
 * Site folders (and plain files of the output folder) whose tracked files in the working tree differ from the base in any way:
 * changed, added or removed, committed, staged or not (one `git diff-index` against the base,
 * which compares unchanged files by their stat data, not their bytes). A file Git does not
 * track is not looked for: it is no part of the commit that CI checks (a fresh checkout holds
 * none), and walking every folder of a large fleet for it costs more than the check itself.
 * `check` without --base (or with --full) reports such a file under a site's folder as stale.
 */
function touchedPaths(diff: Buffer, outRel: string): { sites: Set<string>; files: Set<string> } {
  const sites = new Set<string>();
  const files = new Set<string>();
  const skip = outRel.length + 1;
  for (const p of diff.toString('utf8').split('\0')) {
    if (p.length <= skip) continue;
    const slash = p.indexOf('/', skip);
    if (slash > skip) sites.add(p.slice(skip, slash));
    else if (slash < 0) files.add(p.slice(skip));
  }
  return { sites, files };
}

/**
 * The base revision without what the kept sites hold (their profiles, locks and output
 * folders), unpacked from its blobs into a temporary folder: diff reads the base as before,
 * and thousands of unchanged sites cost nothing to unpack. The shortcut must have been asked
 * to list the base (listBase). Call `dispose`.
 */
export async function partialBaseTree(ws: OpenWorkspace, cut: Shortcut): Promise<{ dir: string; dispose(): void }> {
  const { root, rev, wsRel, base } = cut.repo!;
  if (!base) throw new Error('partialBaseTree: the shortcut did not list the base');
  const inRepo = (p: string) => (wsRel ? `${wsRel}/${p}` : p);
  const left = new Set<string>();
  for (const k of cut.kept) {
    left.add(inRepo(relPath(ws, k.profileFile)));
    left.add(inRepo(relPath(ws, lockPathFor(k.profileFile))));
  }
  const keptFolder = new Set(cut.kept.map((k) => k.name));
  const folders = base.folders.filter((site) => !keptFolder.has(site)).map((site) => `${cut.repo!.outRel}/${site}`);
  const [beside, inFolders] = await Promise.all([base.beside, folders.length > 0 ? gitOut(root, ['ls-tree', '-r', '-z', '--full-tree', rev, '--', ...folders]) : undefined]);
  const wanted: Array<[TreeEntry, string]> = [];
  // The fleet's own files (inventory.yml and its kind, megabytes in a large fleet) are not
  // read by diff: the base side reads sites' folders, where a plain file in a folder's place
  // reads as no folder, there or not. A link is kept: reading through it is refused.
  for (const e of [...beside, ...base.links, ...(inFolders ? treeEntries(inFolders.toString('utf8')) : [])]) {
    if (e.type !== 'blob' || left.has(e.path)) continue;
    wanted.push([e, e.id]);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fwgen-base-'));
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    await streamBlobs(root, wanted, ({ path: p, mode }, bytes) => {
      const file = path.join(dir, p);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // As git archive and tar would: a link is made as a link (the base's readers refuse to
      // follow it), and every file is new in a folder of our own, never written through one.
      if (mode === LINK_MODE) fs.symlinkSync(bytes.toString('utf8'), file);
      else fs.writeFileSync(file, bytes, { flag: 'wx' });
    });
  } catch (err) {
    dispose();
    throw err;
  }
  return { dir, dispose };
}

/**
 * Every file of the revision outside the output folder (listed one level at a time on the way
 * to it, so that the output folder is never listed here).
 */
async function filesBesideOutput(root: string, rev: string, outRel: string): Promise<TreeEntry[]> {
  const paths: string[] = [];
  const parts = outRel.split('/');
  for (let depth = 0; depth < parts.length; depth++) {
    const dir = parts.slice(0, depth).join('/');
    const ls = await gitOut(root, ['ls-tree', '-z', '--full-tree', rev, '--', dir ? `${dir}/` : '.']);
    for (const e of treeEntries(ls.toString('utf8'))) {
      if (e.path.slice(dir ? dir.length + 1 : 0) !== parts[depth]) paths.push(e.path); // not the way to the output folder
    }
  }
  if (paths.length === 0) return [];
  return [...treeEntries((await gitOut(root, ['ls-tree', '-r', '-z', '--full-tree', rev, '--', ...paths])).toString('utf8'))];
}

/** The stderr line that says what a base let fwgen skip, and why the rest was rendered. */
export function shortcutNote(cut: Shortcut): string {
  if (cut.why) return `fwgen: every site rendered (${cut.why})`;
  const n = (x: number) => x.toLocaleString('en-US');
  const why = [...cut.reasons].map(([reason, count]) => `${n(count)}: ${reason}`).join('; ');
  const kept = cut.kept.length;
  return `fwgen: ${n(kept)} site${kept === 1 ? '' : 's'} unchanged since ${cut.label} (same inputs, same committed files), ${n(cut.render.length)} rendered${why ? ` (${why})` : ''}`;
}
