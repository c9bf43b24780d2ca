import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors';
import { createNew, isOwnRelative, LinkGuard, linkRefused, makeFoldersBelow, openNew, readOwnFile, trackedByGit, UnsafePathError, writeText } from '../fs';
import { displayPath } from '../util/paths';
import { Flusher, type PendingFlush } from './flush';

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
 * How many staged files are flushed together. All of a batch are opened before any is
 * flushed: a create that comes while the filesystem commits a flush waits for it, so
 * interleaving them costs a commit per batch in the opens as well.
 */
const FLUSH_BATCH = stageBatch();

/** FWGEN_STAGE_BATCH, for the fault tests that kill a render between the flushes of small batches. */
function stageBatch(): number {
  const n = Number(process.env.FWGEN_STAGE_BATCH);
  return Number.isInteger(n) && n > 0 ? n : 2048;
}

/** A batch of staged files, open, and the flush under way for them (none while the batch fills). */
interface Batch {
  fds: number[];
  names: string[];
  flushing?: PendingFlush;
}

/**
 * Writes files under the stage as they come, each flushed to disk before finish() returns (so
 * before the journal can name it): the same guarantee as stageFile for each, and what keeps a
 * crash from leaving a torn output folder, since the journal is committed only after every
 * stager has finished. The flushes of a batch go to the disk together rather than one per
 * file, and while one batch is being flushed the caller goes on rendering and writes the
 * next: at most two batches are open at once (one flushing, one filling), so the flush costs
 * the render thread no waiting unless the disk is slower than the render. Each folder is made
 * once. Holds open descriptors, never contents: a render streams any number of files through it.
 */
export class StageWriter {
  private readonly made = new Set<string>();
  private readonly guard: LinkGuard;
  private readonly flusher = new Flusher();
  private filling: Batch = { fds: [], names: [] };
  private flushing: Batch | undefined;

  constructor(
    private readonly stage: string,
    /** Files per flush. */
    private readonly batch = FLUSH_BATCH,
  ) {
    this.guard = new LinkGuard(stage);
  }

  /** Where the user will find the file: named in errors rather than its place in the stage. */
  private userPath(rel: string): string {
    return path.join(path.dirname(this.stage), rel);
  }

  add(rel: string, content: string): void {
    const file = path.join(this.stage, rel);
    try {
      this.makeFolder(path.posix.dirname(rel));
      let fd: number;
      try {
        fd = openNew(file);
      } catch (err) {
        // Out of file descriptors: flush what is open and try again with the fds freed.
        if ((err as NodeJS.ErrnoException).code !== 'EMFILE' || this.filling.fds.length + (this.flushing?.fds.length ?? 0) === 0) throw err;
        this.finish();
        fd = openNew(file);
      }
      this.filling.fds.push(fd);
      this.filling.names.push(this.userPath(rel));
      writeText(fd, content);
    } catch (err) {
      (err as NodeJS.ErrnoException).path = this.userPath(rel);
      throw err;
    }
    if (this.filling.fds.length >= this.batch) this.startFlush();
  }

  /**
   * Makes a folder of the stage (relative) and those above it, each once. Below the stage or
   * a folder this writer made, a new folder is made without looking first: mkdir never
   * follows a link, and a name already taken (another thread's writer made the folder, or
   * something was planted) is checked as before, where only a real folder will do. A fleet's
   * stage gets about ten folders per site; looking before each cost an lstat per part of its path.
   */
  private makeFolder(dir: string): void {
    if (dir === '.' || this.made.has(dir)) return;
    this.makeFolder(path.posix.dirname(dir));
    try {
      fs.mkdirSync(path.join(this.stage, dir));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      makeFoldersBelow(this.guard, dir);
    }
    this.made.add(dir);
  }

  /** Every file added so far is on disk when this returns. */
  finish(): void {
    this.startFlush();
    this.settle();
  }

  /** Closes what is still open (after an error); the writer is not used again. */
  close(): void {
    try {
      this.settle();
    } catch {
      // the error that stopped the render is the one to report; the fds are closed all the same
    }
    closeAll(this.filling);
    this.filling = { fds: [], names: [] };
    this.flusher.close();
  }

  /** Sends the filling batch to the disk, once the batch before it is on disk (so two at most are open). */
  private startFlush(): void {
    this.settle();
    const batch = this.filling;
    this.filling = { fds: [], names: [] };
    try {
      batch.flushing = this.flusher.start(batch.fds, batch.names);
    } catch (err) {
      closeAll(batch);
      throw err;
    }
    this.flushing = batch;
  }

  /** Waits until the batch being flushed is on disk, then closes its files; throws its first error. */
  private settle(): void {
    const batch = this.flushing;
    if (batch === undefined) return;
    this.flushing = undefined;
    try {
      batch.flushing?.wait();
    } finally {
      // wait() returns or throws only once every fsync of the batch is over: no fd is closed under one.
      closeAll(batch);
    }
  }
}

function closeAll(batch: Batch): void {
  for (const fd of batch.fds) fs.closeSync(fd);
  batch.fds = [];
  batch.names = [];
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
  // The stage holds only files fwgen wrote for this journal: a link anywhere in it is refused,
  // found by reading its folders once (a fleet's journal names hundreds of thousands of
  // files, and an lstat of each was most of the commit).
  if (stageSt) refuseLinksBelow(stagePath);
  // Nothing moves while this runs: a top folder found missing stays missing, and nothing below
  // it can be a link. A first render of a fleet writes every site's files into a missing
  // folder, so each is looked up once, not once per file.
  const missingTop = new Map<string, boolean>();
  const reach = (rel: string) => {
    const top = rel.split('/', 1)[0]!;
    let missing = missingTop.get(top);
    if (missing === undefined) missingTop.set(top, (missing = out.check(top) === undefined));
    if (!missing) out.check(rel);
  };
  for (const rel of journal.remove) reach(rel);
  for (const rel of journal.write) reach(rel);
  for (const rel of journal.prune) reach(rel);
}

/** Refuses a link anywhere below `dir`, which is not one. */
function refuseLinksBelow(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) throw linkRefused(full);
    if (entry.isDirectory()) refuseLinksBelow(full);
  }
}

/** Whether `rel` is one of `folders` or below one (relative paths with forward slashes). */
function within(folders: Set<string>, rel: string): boolean {
  if (folders.size === 0) return false;
  for (let at = rel; at !== '.' && at !== ''; at = path.posix.dirname(at)) if (folders.has(at)) return true;
  return false;
}

/** Carries out a committed journal; safe to run again on a journal that is half done. */
export function applyJournal(root: string, journal: Journal): void {
  checkReach(root, journal);
  const stage = path.join(root, journal.stage);
  for (const rel of journal.remove) fs.rmSync(path.join(root, rel), { force: true });
  const made = new Set<string>();
  /** Folders moved in whole by this call: the files of the journal below them went with them. */
  const moved = new Set<string>();
  const guard = new LinkGuard(root);
  for (const rel of journal.write) {
    if (within(moved, rel)) continue;
    const from = path.join(stage, rel);
    if (!fs.lstatSync(from, { throwIfNoEntry: false })) continue;
    // A folder the output lacks is moved in whole: the stage holds only files of this
    // journal, so that moves the same files as one rename each, without making the folder.
    const whole = made.has(path.posix.dirname(rel)) ? undefined : firstMissingFolder(root, rel);
    if (whole !== undefined) {
      fs.renameSync(path.join(stage, whole), path.join(root, whole));
      moved.add(whole);
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
  // A folder moved in whole holds files of this journal in each of its folders (the stage
  // makes a folder only for a file): nothing in it can be empty.
  for (const rel of journal.prune) if (!within(moved, rel)) removeEmptyFolders(path.join(root, rel));
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
