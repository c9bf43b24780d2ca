import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors';
import { displayPath } from '../paths';
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
 */
export const JOURNAL_NAME = '.fwgen.journal';
const STAGE_PREFIX = '.fwgen-stage-';

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

/**
 * mkdir -p that cannot spin: node's recursive mkdir loops forever where mkdir says ENOENT
 * under a parent that exists (e.g. under /proc).
 */
export function makeFolder(dir: string): void {
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (st?.isDirectory()) return;
  const parent = path.dirname(dir);
  if (parent !== dir) makeFolder(parent);
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(dir).isDirectory()) throw err;
  }
}

export function makeStage(root: string): string {
  return fs.mkdtempSync(path.join(root, STAGE_PREFIX));
}

/** Writes one file under the stage, flushed to disk before the journal can name it. */
export function stageFile(stage: string, rel: string, content: string): void {
  const file = path.join(stage, rel);
  try {
    makeFolder(path.dirname(file));
    const fd = fs.openSync(file, 'w');
    try {
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
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
 * Writes files under the stage, all flushed to disk before this returns (so before the
 * journal can name them). Same guarantee as stageFile for each, but the flushes of a batch
 * go to the disk together rather than one per file, and each folder is made once.
 */
export function stageFiles(stage: string, files: Array<{ path: string; content: string }>): void {
  const made = new Set<string>();
  const flusher = new Flusher();
  let fds: number[] = [];
  let names: string[] = [];
  const userPath = (rel: string) => path.join(path.dirname(stage), rel);
  const flushBatch = () => {
    try {
      flusher.flush(fds, names);
    } finally {
      for (const fd of fds) fs.closeSync(fd);
      fds = [];
      names = [];
    }
  };
  try {
    for (const f of files) {
      const file = path.join(stage, f.path);
      try {
        const dir = path.dirname(file);
        if (!made.has(dir)) {
          makeFolder(dir);
          made.add(dir);
        }
        let fd: number;
        try {
          fd = fs.openSync(file, 'w');
        } catch (err) {
          // Out of file descriptors: flush what is open and try again with the fds freed.
          if ((err as NodeJS.ErrnoException).code !== 'EMFILE' || fds.length === 0) throw err;
          flushBatch();
          fd = fs.openSync(file, 'w');
        }
        fds.push(fd);
        names.push(userPath(f.path));
        fs.writeFileSync(fd, f.content);
      } catch (err) {
        // Name the file the user asked for, not its place in the stage.
        (err as NodeJS.ErrnoException).path = userPath(f.path);
        throw err;
      }
      if (fds.length >= FLUSH_BATCH) flushBatch();
    }
    flushBatch();
  } finally {
    for (const fd of fds) fs.closeSync(fd);
    flusher.close();
  }
}

/** The commit point: after this returns, the new set is what the folder will hold. */
export function commitJournal(root: string, journal: Journal): void {
  const tmp = path.join(root, `${JOURNAL_NAME}.tmp-${process.pid}`);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, JSON.stringify(journal) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(root, JOURNAL_NAME));
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncPath(root);
}

/** Carries out a committed journal; safe to run again on a journal that is half done. */
export function applyJournal(root: string, journal: Journal): void {
  const stage = path.join(root, journal.stage);
  for (const rel of journal.remove) fs.rmSync(path.join(root, rel), { force: true });
  const made = new Set<string>();
  for (const rel of journal.write) {
    const from = path.join(stage, rel);
    if (!fs.existsSync(from)) continue;
    // A folder the output lacks is moved in whole: the stage holds only files of this
    // journal, so that moves the same files as one rename each, without making the folder.
    const whole = made.has(path.dirname(path.join(root, rel))) ? undefined : firstMissingFolder(root, rel);
    if (whole !== undefined) {
      fs.renameSync(path.join(stage, whole), path.join(root, whole));
      continue;
    }
    const to = path.join(root, rel);
    if (!made.has(path.dirname(to))) {
      makeFolder(path.dirname(to));
      made.add(path.dirname(to));
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

function readJournal(file: string): Journal {
  let j: Journal;
  try {
    j = JSON.parse(fs.readFileSync(file, 'utf8')) as Journal;
  } catch {
    throw new FileError(displayPath(file), 'an interrupted render left this journal and it cannot be read; check the output folder against Git, then remove the file');
  }
  const relOk = (p: unknown) => typeof p === 'string' && p !== '' && !path.isAbsolute(p) && !p.split(/[\\/]/).includes('..');
  const ok =
    j?.version === 1 &&
    relOk(j.stage) &&
    j.stage.startsWith(STAGE_PREFIX) &&
    [j.write, j.remove, j.prune].every((list) => Array.isArray(list) && list.every(relOk));
  if (!ok) throw new FileError(displayPath(file), 'not a journal this fwgen wrote; check the output folder against Git, then remove the file');
  return j;
}

/**
 * Brings an output folder back to a whole state after a killed run: completes a committed
 * journal, deletes stage folders and half-written journals. The caller holds the lock, so
 * nothing here belongs to a live run. Returns the pid of the run it completed, if any.
 */
export function recoverFolder(root: string): number | undefined {
  const journalFile = path.join(root, JOURNAL_NAME);
  let completed: number | undefined;
  if (fs.existsSync(journalFile)) {
    const journal = readJournal(journalFile);
    applyJournal(root, journal);
    completed = journal.pid;
  }
  for (const name of fs.readdirSync(root)) {
    if (name.startsWith(STAGE_PREFIX) || name.startsWith(`${JOURNAL_NAME}.tmp-`)) {
      fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
  }
  return completed;
}

/** Names fwgen uses for its own bookkeeping in an output folder; never part of a render. */
export function isBookkeeping(name: string): boolean {
  return name.startsWith('.fwgen');
}
