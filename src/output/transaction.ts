import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors';
import { fileSystemError, LinkGuard, makeFolder } from '../fs';
import { displayPath } from '../util/paths';
import type { RenderedFile } from '../targets/render';
import { lockFolder, removeDeadLockTemps } from './folder-lock';
import { applyJournal, bookkeepingEntries, commitJournal, isBookkeeping, isOutputPath, makeStage, recoverFolder, StageWriter, type Journal } from './journal';

export interface WriteSummary {
  written: string[];
  unchanged: string[];
  removed: string[];
  /** The pid of an earlier, interrupted run whose render this one completed first. */
  completedInterrupted?: number;
}

/** Files an owned folder holds that a render no longer produces. */
export interface Removal {
  dir: string;
  files: string[];
}

/** How one set of rendered files (a site, or a whole render) differs from the output folder. */
export interface SetChanges {
  write: string[];
  unchanged: string[];
  remove: Removal[];
}

/** Temporary files of fwgen versions that renamed file by file; a killed run left them. */
const LEGACY_TEMP = /\.fwgen-tmp-\d+$/;

function checkRelative(rel: string): void {
  if (!isOutputPath(rel)) throw new Error(`refusing to write outside the output folder: ${rel}`);
}

/** Says plainly when the output cannot be a folder, before any work is done. */
export function checkOutputFolder(root: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(root, { throwIfNoEntry: false });
  } catch (err) {
    throw fileSystemError(err, 'nothing was written', root);
  }
  if (st && !st.isDirectory()) throw new FileError(displayPath(root), 'the output must be a folder, and this is a file (use --output - for stdout)');
}

/**
 * `st` is the file's lstat as the caller found it, undefined when it is not there: a default
 * here would look again exactly when it was found missing (every file of a first render).
 */
function sameContent(guard: LinkGuard, f: RenderedFile, st: fs.Stats | undefined): boolean {
  // A file of another size is not read: a changed policy.json of a large site is tens of megabytes.
  return st !== undefined && st.isFile() && st.size === Buffer.byteLength(f.content) && fs.readFileSync(path.join(guard.top, f.path), 'utf8') === f.content;
}

/** The files of an owned folder, relative to the output folder with forward slashes; a link there is refused. */
function ownedFiles(guard: LinkGuard, dir: string): string[] {
  return guard.listFiles(dir).map((file) => path.relative(guard.top, file).split(path.sep).join('/'));
}

/**
 * The output folder as one set sees it. A set's paths start with a few folders (a site's), and
 * when one of those is missing (the site's first render) nothing below it can be there: it is
 * looked up once rather than once for each of the site's files and owned folders. Made per set,
 * so that it holds nothing from one site to the next.
 */
class SetView {
  readonly guard: LinkGuard;
  private readonly missingTop = new Map<string, boolean>();

  constructor(root: string) {
    this.guard = new LinkGuard(root);
  }

  /** Whether the first folder of `rel` is missing (for a path with no folder, never). */
  private underMissing(rel: string): boolean {
    const slash = rel.indexOf('/');
    return slash >= 0 && this.topMissing(rel.slice(0, slash));
  }

  private topMissing(top: string): boolean {
    let missing = this.missingTop.get(top);
    if (missing === undefined) this.missingTop.set(top, (missing = this.guard.check(top) === undefined));
    return missing;
  }

  /** The lstat of `rel`, as LinkGuard.check says it. */
  check(rel: string): fs.Stats | undefined {
    return this.underMissing(rel) ? undefined : this.guard.check(rel);
  }

  /** An owned folder or file that cannot exist: it or its top folder is missing (a site's own folder is its top). */
  absent(owned: string): boolean {
    const slash = owned.indexOf('/');
    return this.topMissing(slash < 0 ? owned : owned.slice(0, slash));
  }
}

/** What the owned folders hold that `produced` does not name: stale files, found without following a link. */
function notProduced(view: SetView, ownedDirs: string[], produced: Set<string>): Removal[] {
  const { guard } = view;
  const out: Removal[] = [];
  for (const dir of ownedDirs) {
    if (view.absent(dir)) continue;
    const files = ownedFiles(guard, dir).filter((rel) => !produced.has(rel) && !isBookkeeping(rel.split('/')[0]!));
    if (files.length > 0) out.push({ dir, files });
  }
  return out;
}

/**
 * Compares sets of rendered files with the output folder and stages the ones that differ,
 * set by set: a render passes each site through as it is made and keeps nothing of its
 * content. Runs wherever the render runs (a worker thread writes its own sites' files); the
 * stage belongs to the OutputTransaction of the main thread, which commits it.
 */
export class SetStager {
  private readonly root: string;
  private writer: StageWriter | undefined;

  constructor(
    root: string,
    private readonly stage: string,
  ) {
    this.root = path.resolve(root);
  }

  add(files: RenderedFile[], ownedDirs: string[]): SetChanges {
    for (const f of files) checkRelative(f.path);
    const view = new SetView(this.root);
    const changes: SetChanges = { write: [], unchanged: [], remove: [] };
    for (const f of files) {
      if (sameContent(view.guard, f, view.check(f.path))) {
        changes.unchanged.push(f.path);
        continue;
      }
      changes.write.push(f.path);
      (this.writer ??= new StageWriter(this.stage)).add(f.path, f.content);
    }
    changes.remove = notProduced(view, ownedDirs, new Set(files.map((f) => f.path)));
    return changes;
  }

  /** Every file staged is on disk when this returns. */
  finish(): void {
    this.writer?.finish();
  }

  close(): void {
    this.writer?.close();
    this.writer = undefined;
  }
}

/**
 * One render into an output folder, as one set: after it, or after it was killed at any point
 * and the next run in the same folder, the folders it owns hold either all the old files or
 * all the new ones (see output/journal.ts). begin() takes the folder's lock (a second run
 * waits), completes an interrupted render and makes the stage; files are staged through
 * SetStagers as they are rendered; commit() writes the journal and moves them in; abort()
 * (after an error, or a render with errors) deletes the stage and changes nothing.
 */
export class OutputTransaction {
  private committed = false;
  private done = false;

  private constructor(
    readonly root: string,
    readonly stage: string,
    private readonly release: () => void,
    readonly completedInterrupted: number | undefined,
    /** The output folder did not exist: a render that writes nothing leaves none. */
    private readonly created: boolean,
  ) {}

  static begin(root: string, waitMs: number): OutputTransaction {
    let release: (() => void) | undefined;
    try {
      checkOutputFolder(root);
      const created = !fs.existsSync(root);
      makeFolder(path.resolve(root));
      bookkeepingEntries(root);
      release = lockFolder(root, waitMs);
      const completed = recoverFolder(root);
      removeDeadLockTemps(root);
      return new OutputTransaction(root, makeStage(root), release, completed, created);
    } catch (err) {
      release?.();
      throw fileSystemError(err, `nothing in ${displayPath(root)} was changed`, root);
    }
  }

  /** A stager writing into this render's stage (one per thread). */
  stager(): SetStager {
    return new SetStager(this.root, this.stage);
  }

  /**
   * The commit point, then the moves: `changes` is every set staged (all flushed), `owned`
   * every folder the render speaks for (emptied ones are removed).
   */
  commit(changes: SetChanges, owned: string[]): WriteSummary {
    const summary: WriteSummary = { written: [], unchanged: changes.unchanged, removed: [], completedInterrupted: this.completedInterrupted };
    try {
      const journal: Journal = { version: 1, pid: process.pid, stage: path.basename(this.stage), write: changes.write, remove: [], prune: [...owned].sort().reverse() };
      for (const r of changes.remove) {
        for (const rel of r.files) {
          journal.remove.push(rel);
          if (!LEGACY_TEMP.test(rel)) summary.removed.push(rel);
        }
      }
      if (journal.write.length + journal.remove.length === 0) {
        this.discard(false);
        return summary;
      }
      commitJournal(this.root, journal);
      this.committed = true;
      applyJournal(this.root, journal);
      summary.written = journal.write;
      this.finish();
      return summary;
    } catch (err) {
      throw this.fail(err);
    }
  }

  /** Drops the render: the stage is deleted, the folder is as it was. */
  abort(): void {
    this.discard(true);
  }

  private discard(folderToo: boolean): void {
    if (this.committed) return this.finish();
    fs.rmSync(this.stage, { recursive: true, force: true });
    this.finish();
    if (folderToo && this.created) {
      try {
        fs.rmdirSync(this.root);
      } catch {
        // another run wrote into it meanwhile: it stays
      }
    }
  }

  /** An error met during the render, said with what it means for the folder; the lock is released. */
  fail(err: unknown): unknown {
    try {
      this.abort();
    } catch {
      // the error that stopped the render is the one to report
    }
    return fileSystemError(
      err,
      this.committed
        ? `the render was interrupted after it was committed; the next fwgen run into ${displayPath(this.root)} completes it`
        : `nothing in ${displayPath(this.root)} was changed`,
      this.root,
    );
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.release();
  }
}

/** Every set's changes as one, in the order given; removals in the order of their folders. */
export function joinChanges(sets: Iterable<SetChanges>): SetChanges {
  const all: SetChanges = { write: [], unchanged: [], remove: [] };
  for (const s of sets) {
    for (const p of s.write) all.write.push(p);
    for (const p of s.unchanged) all.unchanged.push(p);
    for (const r of s.remove) all.remove.push(r);
  }
  return all;
}

/** Which files of one set differ from the output folder: missing, changed, or no longer produced. Never reads through a link. */
export function staleOf(root: string, files: RenderedFile[], ownedDirs: string[]): string[] {
  const guard = new LinkGuard(path.resolve(root));
  const stale: string[] = [];
  for (const f of files) {
    const st = guard.check(f.path);
    if (st === undefined) stale.push(`${f.path} (missing)`);
    else if (!sameContent(guard, f, st)) stale.push(`${f.path} (differs)`);
  }
  const produced = new Set(files.map((f) => f.path));
  for (const dir of ownedDirs) {
    for (const rel of ownedFiles(guard, dir)) {
      if (!produced.has(rel)) stale.push(`${rel} (no longer produced)`);
    }
  }
  return stale;
}
