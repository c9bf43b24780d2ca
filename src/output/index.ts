import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors';
import { fileSystemError, LinkGuard, makeFolder } from '../fs';
import { displayPath } from '../paths';
import type { RenderedFile } from '../targets/render';
import { lockFolder, removeDeadLockTemps } from './folder-lock';
import { applyJournal, bookkeepingEntries, commitJournal, isBookkeeping, isOutputPath, makeStage, recoverFolder, stageFiles, type Journal } from './journal';

/** For a command about to render into a folder: the write's flushes get ready meanwhile. */
export { warmFlusher } from './flush';

export interface WriteSummary {
  written: string[];
  unchanged: string[];
  removed: string[];
  /** The pid of an earlier, interrupted run whose render this one completed first. */
  completedInterrupted?: number;
}

export interface WriteOptions {
  /** How long to wait for another fwgen run writing into the same folder. */
  waitMs?: number;
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

function ensureFolder(root: string): void {
  checkOutputFolder(root);
  makeFolder(path.resolve(root));
}

/**
 * Writes rendered files under `root` as one set: after a render, or after a render killed at
 * any point and the next run in the same folder, the folders it owns hold either all the old
 * files or all the new ones (see output/journal.ts). One run at a time per folder: a second
 * one waits for the lock. Unchanged files are not touched; files in the owned folders that
 * the render no longer produces are removed. `root` is trusted as named (a workspace checks
 * its output folder when it loads); below it, a link where fwgen would read, write or
 * delete is refused before anything changes.
 */
export function writeOutput(root: string, files: RenderedFile[], ownedDirs: string[], o: WriteOptions = {}): WriteSummary {
  for (const f of files) checkRelative(f.path);
  const summary: WriteSummary = { written: [], unchanged: [], removed: [] };
  let release: (() => void) | undefined;
  let committed = false;
  let stage: string | undefined;
  try {
    ensureFolder(root);
    bookkeepingEntries(root);
    release = lockFolder(root, o.waitMs ?? 30_000);
    summary.completedInterrupted = recoverFolder(root);
    removeDeadLockTemps(root);

    const guard = new LinkGuard(path.resolve(root));
    const produced = new Set(files.map((f) => f.path));
    const journal: Journal = { version: 1, pid: process.pid, stage: '', write: [], remove: [], prune: [...ownedDirs].sort().reverse() };
    for (const f of files) {
      if (sameContent(guard, f)) summary.unchanged.push(f.path);
      else journal.write.push(f.path);
    }
    for (const dir of ownedDirs) {
      for (const rel of ownedFiles(guard, dir)) {
        if (produced.has(rel) || isBookkeeping(rel.split('/')[0]!)) continue;
        journal.remove.push(rel);
        if (!LEGACY_TEMP.test(rel)) summary.removed.push(rel);
      }
    }
    if (journal.write.length + journal.remove.length === 0) return summary;

    stage = makeStage(root);
    journal.stage = path.basename(stage);
    const byPath = new Map(files.map((f) => [f.path, f.content]));
    stageFiles(stage, journal.write.map((rel) => ({ path: rel, content: byPath.get(rel)! })));
    commitJournal(root, journal);
    committed = true;
    applyJournal(root, journal);
    summary.written = journal.write;
    return summary;
  } catch (err) {
    if (stage && !committed) fs.rmSync(stage, { recursive: true, force: true });
    throw fileSystemError(
      err,
      committed
        ? `the render was interrupted after it was committed; the next fwgen run into ${displayPath(root)} completes it`
        : `nothing in ${displayPath(root)} was changed`,
      root,
    );
  } finally {
    release?.();
  }
}

function sameContent(guard: LinkGuard, f: RenderedFile): boolean {
  const st = guard.check(f.path);
  return st !== undefined && st.isFile() && fs.readFileSync(path.join(guard.top, f.path), 'utf8') === f.content;
}

/** The files of an owned folder, relative to the output folder with forward slashes; a link there is refused. */
function ownedFiles(guard: LinkGuard, dir: string): string[] {
  return guard.listFiles(dir).map((file) => path.relative(guard.top, file).split(path.sep).join('/'));
}

/** Every file below `dir` (absolute paths, sorted); a link there is refused, never followed. */
export function listFiles(dir: string): string[] {
  return new LinkGuard(path.resolve(dir)).listFiles('');
}

/** Which files under `root` differ from a render: missing, changed, or no longer produced. Never reads through a link. */
export function staleFiles(root: string, files: RenderedFile[], ownedDirs: string[]): string[] {
  const guard = new LinkGuard(path.resolve(root));
  const stale: string[] = [];
  const produced = new Set<string>();
  for (const f of files) {
    produced.add(f.path);
    const st = guard.check(f.path);
    if (st === undefined) stale.push(`${f.path} (missing)`);
    else if (!sameContent(guard, f)) stale.push(`${f.path} (differs)`);
  }
  for (const dir of ownedDirs) {
    for (const rel of ownedFiles(guard, dir)) {
      if (!produced.has(rel)) stale.push(`${rel} (no longer produced)`);
    }
  }
  return stale.sort();
}
