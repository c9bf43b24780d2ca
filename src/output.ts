import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from './errors';
import { displayPath } from './paths';
import type { RenderedFile } from './targets/render';
import { fileSystemError } from './output/fs-errors';
import { lockFolder, removeDeadLockTemps } from './output/folder-lock';
import { applyJournal, commitJournal, isBookkeeping, makeFolder, makeStage, recoverFolder, stageFiles, type Journal } from './output/journal';

/** For a command about to render into a folder: the write's flushes get ready meanwhile. */
export { warmFlusher } from './output/flush';

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
  const parts = rel.split('/');
  if (path.isAbsolute(rel) || parts.includes('..') || parts.includes('') || parts.some(isBookkeeping)) {
    throw new Error(`refusing to write outside the output folder: ${rel}`);
  }
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

function sameContent(file: string, content: string): boolean {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  return st !== undefined && st.isFile() && fs.readFileSync(file, 'utf8') === content;
}

/**
 * Writes rendered files under `root` as one set: after a render, or after a render killed at
 * any point and the next run in the same folder, the folders it owns hold either all the old
 * files or all the new ones (see output/journal.ts). One run at a time per folder: a second
 * one waits for the lock. Unchanged files are not touched; files in the owned folders that
 * the render no longer produces are removed.
 */
export function writeOutput(root: string, files: RenderedFile[], ownedDirs: string[], o: WriteOptions = {}): WriteSummary {
  for (const f of files) checkRelative(f.path);
  const summary: WriteSummary = { written: [], unchanged: [], removed: [] };
  let release: (() => void) | undefined;
  let committed = false;
  let stage: string | undefined;
  try {
    ensureFolder(root);
    release = lockFolder(root, o.waitMs ?? 30_000);
    summary.completedInterrupted = recoverFolder(root);
    removeDeadLockTemps(root);

    const produced = new Set(files.map((f) => f.path));
    const journal: Journal = { version: 1, pid: process.pid, stage: '', write: [], remove: [], prune: [...ownedDirs].sort().reverse() };
    for (const f of files) {
      if (sameContent(path.join(root, f.path), f.content)) summary.unchanged.push(f.path);
      else journal.write.push(f.path);
    }
    for (const dir of ownedDirs) {
      for (const file of listFiles(path.join(root, dir))) {
        const rel = path.relative(root, file).split(path.sep).join('/');
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

/** The files under `dir`; an owned entry can also be one file (a site's policy.json), listed as itself. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  if (!fs.statSync(dir).isDirectory()) return [dir];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else out.push(full);
  }
  return out.sort();
}

/** Which files under `root` differ from a render: missing, changed, or no longer produced. */
export function staleFiles(root: string, files: RenderedFile[], ownedDirs: string[]): string[] {
  const stale: string[] = [];
  const produced = new Set<string>();
  for (const f of files) {
    const full = path.join(root, f.path);
    produced.add(full);
    if (!fs.existsSync(full)) stale.push(`${f.path} (missing)`);
    else if (fs.readFileSync(full, 'utf8') !== f.content) stale.push(`${f.path} (differs)`);
  }
  for (const dir of ownedDirs) {
    for (const file of listFiles(path.join(root, dir))) {
      if (!produced.has(file)) stale.push(`${path.relative(root, file)} (no longer produced)`);
    }
  }
  return stale.sort();
}
