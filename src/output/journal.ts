import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors';
import { createNew, isOwnRelative, LinkGuard, linkRefused, makeFoldersBelow, openNew, readOwnFile, trackedByGit, UnsafePathError, writeText } from '../fs';
import { displayPath } from '../util/paths';
import { Flusher } from './flush';

/**
 * How a render switches an output folder from the old set of files to the new one.
 *
 * The new and changed files are written under a stage folder beside the output first.
 * Then a journal naming every file to move in and every file to remove is written and
 * renamed into place: that rename is the commit point. Before it, the folder is wholly old
 * (a stage folder left by a killed run is deleted by the next run); after it, the moves and
 * removals are carried out, and if the run is killed half-way, the next run in the same
 * folder finishes them from the journal before it does anything else. Replaying is
 * idempotent: a file already moved is no longer in the stage.
 *
 * A journal is an instruction to move and delete files, so only one fwgen left itself is
 * carried out: not one that is (or whose stage is) a link or tracked by Git, and only
 * entries that stay inside the output folder and reach no link on their way.
 */
export const JOURNAL_NAME = '.fwgen.journal';
const STAGE_PREFIX = '.fwgen-stage-';
const JOURNAL_TEMP = `${JOURNAL_NAME}.tmp-`;

export interface Journal {
  version: 1;
  pid: number;
  /** The stage folder, relative to the output folder. */
  stage: string;
  /** Files (relative) to move from the stage into the output folder. */
  write: string[];
  /** Files (relative) to delete. */
  remove: string[];
  /** Folders (relative) to delete once empty, deepest first. */
  prune: string[];
}

/** Names fwgen uses for its own bookkeeping in an output folder; never part of a render. */
export function isBookkeeping(name: string): boolean {
  return name.startsWith('.fwgen');
}

/** A path a render may write or a journal may name: inside the output folder, clear of bookkeeping. */
export function isOutputPath(rel: unknown): rel is string {
  return isOwnRelative(rel, isBookkeeping);
}

/**
 * fwgen's bookkeeping entries in an output folder, by name. One that is a link was planted
 * (fwgen makes none) and is refused before anything is written or read through it.
 */
export function bookkeepingEntries(root: string): string[] {
  const names: string[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (!isBookkeeping(entry.name)) continue;
    if (entry.isSymbolicLink()) throw linkRefused(path.join(root, entry.name));
    names.push(entry.name);
  }
  return names;
}

function fsyncPath(p: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(p, 'r');
    fs.fsyncSync(fd);
  } catch {
    // folders cannot be opened for fsync on every platform; the rename order still holds
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function makeStage(root: string): string {
  return fs.mkdtempSync(path.join(root, STAGE_PREFIX));
}

/** Writes one file under the stage, flushed to disk before the journal can name it. */
export function stageFile(stage: string, rel: string, content: string): void {
  try {
    makeFoldersBelow(new LinkGuard(stage), path.posix.dirname(rel));
    createNew(path.join(stage, rel), content, { sync: true });
  } catch (err) {
    // Name the file the user asked for, not its place in the stage.
    (err as NodeJS.ErrnoException).path = path.join(path.dirname(stage), rel);
    throw err;
  }
}

/**
 * How many staged files are held open at once, waiting for their flush. All are opened
 * before any is flushed: a create that comes while the filesystem commits a flush waits for
 * it, so interleaving them costs a commit per batch in the opens as well.
 */
const FLUSH_BATCH = 4096;

/**
 * Writes files under the stage as they come, each flushed to disk before finish() returns (so
 * before the journal can name it). Same guarantee as stageFile for each, but the flushes of a
 * batch go to the disk together rather than one per file, and each folder is made once. Holds
 * open descriptors, never contents: a render streams any number of files through it.
 */
export class StageWriter {
  private readonly made = new Set<string>();
  private readonly guard: LinkGuard;
  private readonly flusher = new Flusher();
  private fds: number[] = [];
  private names: string[] = [];

  constructor(private readonly stage: string) {
    this.guard = new LinkGuard(stage);
  }

  /** Where the user will find the file: named in errors rather than its place in the stage. */
  private userPath(rel: string): string {
    return path.join(path.dirname(this.stage), rel);
  }

  add(rel: string, content: string): void {
    const file = path.join(this.stage, rel);
    try {
      const dir = path.posix.dirname(rel);
      if (!this.made.has(dir)) {
        makeFoldersBelow(this.guard, dir);
        this.made.add(dir);
      }
      let fd: number;
      try {
        fd = openNew(file);
      } catch (err) {
        // Out of file descriptors: flush what is open and try again with the fds freed.
        if ((err as NodeJS.ErrnoException).code !== 'EMFILE' || this.fds.length === 0) throw err;
        this.flushBatch();
        fd = openNew(file);
      }
      this.fds.push(fd);
      this.names.push(this.userPath(rel));
      writeText(fd, content);
    } catch (err) {
      (err as NodeJS.ErrnoException).path = this.userPath(rel);
      throw err;
    }
    if (this.fds.length >= FLUSH_BATCH) this.flushBatch();
  }

  /** Every file added so far is on disk when this returns. */
  finish(): void {
    this.flushBatch();
  }

  /** Closes what is still open (after an error); the writer is not used again. */
  close(): void {
    for (const fd of this.fds) fs.closeSync(fd);
    this.fds = [];
    this.names = [];
    this.flusher.close();
  }

  private flushBatch(): void {
    try {
      this.flusher.flush(this.fds, this.names);
    } finally {
      for (const fd of this.fds) fs.closeSync(fd);
      this.fds = [];
      this.names = [];
    }
  }
}

/** Writes files under the stage, all flushed to disk before this returns (see StageWriter). */
export function stageFiles(stage: string, files: Iterable<{ path: string; content: string }>): void {
  const writer = new StageWriter(stage);
  try {
    for (const f of files) writer.add(f.path, f.content);
    writer.finish();
  } finally {
    writer.close();
  }
}

/** The commit point: after this returns, the new set is what the folder will hold. */
export function commitJournal(root: string, journal: Journal): void {
  const tmp = path.join(root, `${JOURNAL_TEMP}${process.pid}`);
  try {
    createNew(tmp, JSON.stringify(journal) + '\n', { leftover: 'replace', sync: true });
    fs.renameSync(tmp, path.join(root, JOURNAL_NAME));
  } catch (err) {
    if (!(err instanceof UnsafePathError)) fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncPath(root);
}

/**
 * Refuses a journal whose moves or removals would reach a link, in the output folder or in
 * the stage: every entry is checked before the first file moves.
 */
function checkReach(root: string, journal: Journal): void {
  const stagePath = path.join(root, journal.stage);
  const stageSt = fs.lstatSync(stagePath, { throwIfNoEntry: false });
  if (stageSt?.isSymbolicLink()) throw linkRefused(stagePath);
  if (stageSt && !stageSt.isDirectory()) throw new UnsafePathError(stagePath, 'not a folder, where fwgen stages a render');
  const out = new LinkGuard(root);
  const stage = new LinkGuard(stagePath);
  for (const rel of journal.remove) out.check(rel);
  for (const rel of journal.write) {
    if (stageSt) stage.check(rel);
    out.check(rel);
  }
  for (const rel of journal.prune) out.check(rel);
}

/** Carries out a committed journal; safe to run again on a journal that is half done. */
export function applyJournal(root: string, journal: Journal): void {
  checkReach(root, journal);
  const stage = path.join(root, journal.stage);
  for (const rel of journal.remove) fs.rmSync(path.join(root, rel), { force: true });
  const made = new Set<string>();
  const guard = new LinkGuard(root);
  for (const rel of journal.write) {
    const from = path.join(stage, rel);
    if (!fs.lstatSync(from, { throwIfNoEntry: false })) continue;
    // A folder the output lacks is moved in whole: the stage holds only files of this
    // journal, so that moves the same files as one rename each, without making the folder.
    const whole = made.has(path.posix.dirname(rel)) ? undefined : firstMissingFolder(root, rel);
    if (whole !== undefined) {
      fs.renameSync(path.join(stage, whole), path.join(root, whole));
      continue;
    }
    const to = path.join(root, rel);
    if (!made.has(path.posix.dirname(rel))) {
      makeFoldersBelow(guard, path.posix.dirname(rel));
      made.add(path.posix.dirname(rel));
    }
    if (fs.lstatSync(to, { throwIfNoEntry: false })?.isDirectory()) fs.rmSync(to, { recursive: true });
    fs.renameSync(from, to);
  }
  for (const rel of journal.prune) removeEmptyFolders(path.join(root, rel));
  fsyncPath(root);
  fs.rmSync(path.join(root, JOURNAL_NAME), { force: true });
  fs.rmSync(stage, { recursive: true, force: true });
}

/** The highest folder on the way to `rel` that is missing under `root` (relative), if any. */
function firstMissingFolder(root: string, rel: string): string | undefined {
  const parts = rel.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    const st = fs.lstatSync(path.join(root, dir), { throwIfNoEntry: false });
    if (st === undefined) return dir;
    if (!st.isDirectory()) return undefined;
  }
  return undefined;
}

function removeEmptyFolders(dir: string): void {
  if (!fs.lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeEmptyFolders(path.join(dir, entry.name));
  }
  if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
}

const ASK_GIT = 'check the output folder against Git, then remove the file';

function readJournal(file: string): Journal {
  let j: Journal;
  try {
    j = JSON.parse(readOwnFile(file) ?? '') as Journal;
  } catch (err) {
    if (err instanceof UnsafePathError) throw err;
    throw new FileError(displayPath(file), `an interrupted render left this journal and it cannot be read; ${ASK_GIT}`);
  }
  const ok =
    j?.version === 1 &&
    Number.isInteger(j.pid) &&
    typeof j.stage === 'string' &&
    j.stage.startsWith(STAGE_PREFIX) &&
    isOwnRelative(j.stage, () => false) &&
    !j.stage.includes('/') &&
    [j.write, j.remove, j.prune].every((list) => Array.isArray(list) && list.every(isOutputPath));
  if (!ok) throw new FileError(displayPath(file), `not a journal this fwgen wrote; ${ASK_GIT}`);
  return j;
}

/** A journal, stage or journal temp that Git tracks came with a commit, not from a killed run. */
function refuseTracked(root: string, names: string[]): void {
  const answer = trackedByGit(root, names);
  if ('unknown' in answer) {
    throw new UnsafePathError(
      path.join(root, names.includes(JOURNAL_NAME) ? JOURNAL_NAME : names[0]!),
      `left by an interrupted render or committed to the repository? fwgen cannot tell: ${answer.unknown}; ${ASK_GIT}`,
    );
  }
  if (answer.tracked.length > 0) {
    // git names them relative to `root`, files of a stage below its folder
    const tracked = (n: string) => answer.tracked.some((f) => f === n || f.startsWith(`${n}/`));
    throw new UnsafePathError(
      path.join(root, tracked(JOURNAL_NAME) ? JOURNAL_NAME : (names.find(tracked) ?? names[0]!)),
      'tracked by Git: fwgen carries out only a journal it left itself, never one from the repository; remove it from the repository (git rm -r)',
    );
  }
}

/**
 * Brings an output folder back to a whole state after a killed run: completes a committed
 * journal, deletes stage folders and half-written journals. The caller holds the lock, so
 * nothing here belongs to a live run. Returns the pid of the run it completed, if any.
 */
export function recoverFolder(root: string): number | undefined {
  const left = bookkeepingEntries(root).filter((n) => n === JOURNAL_NAME || n.startsWith(STAGE_PREFIX) || n.startsWith(JOURNAL_TEMP));
  if (left.length === 0) return undefined;
  refuseTracked(root, left);
  let completed: number | undefined;
  if (left.includes(JOURNAL_NAME)) {
    const journal = readJournal(path.join(root, JOURNAL_NAME));
    applyJournal(root, journal);
    completed = journal.pid;
  }
  for (const name of left) {
    if (name !== JOURNAL_NAME) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
  return completed;
}
