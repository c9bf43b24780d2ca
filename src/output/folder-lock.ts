import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileError } from '../errors';
import { createNew, isDead, readOwnFile, removeDeadTemps, type Holder } from '../fs';
import { displayPath } from '../util/paths';

/** The lock of an output folder: created whole (link of a finished file) or not at all. */
export const LOCK_NAME = '.fwgen.lock';

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Holder;
    return Number.isInteger(h.pid) && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Creates `file` holding `text`, failing with EEXIST when it is there: never a half-written lock. */
function createWhole(file: string, text: string): void {
  const tmp = `${file}.${process.pid}`;
  createNew(tmp, text, { leftover: 'replace' });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
    // File systems without hard links: an exclusive create; a run killed inside this
    // write leaves an empty lock, which counts as stale (see below).
    createNew(file, text);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Removes a stale lock only if it is still the one judged stale: it is moved aside first
 * (atomic), and put back if another run replaced it in between.
 */
function breakStale(file: string, seen: string): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (readOwnFile(aside) !== seen) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // someone holds a newer lock already; theirs stays
    }
  }
  fs.rmSync(aside, { force: true });
}

/** Lock files of runs that died between writing and linking them. */
export function removeDeadLockTemps(root: string): void {
  removeDeadTemps(root, /^\.fwgen\.lock\.(?:stale-)?(\d+)$/);
}

/**
 * Takes the lock of an output folder, waiting up to `waitMs` for another fwgen run to
 * finish. A lock left by a run that was killed (its process is gone) is taken over.
 * Returns the function that releases it.
 */
export function lockFolder(root: string, waitMs: number): () => void {
  const file = path.join(root, LOCK_NAME);
  const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      createWhole(file, mine + '\n');
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = readOwnFile(file);
    if (text === undefined) continue;
    const holder = parseHolder(text);
    const emptyAndOld = holder === undefined && Date.now() - safeMtime(file) > 10_000;
    if ((holder && isDead(holder)) || emptyAndOld) {
      breakStale(file, text);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder ? `fwgen (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : 'another fwgen run';
      throw new FileError(
        displayPath(root),
        `in use by ${who}; waited ${Math.round(waitMs / 1000)} s. If no fwgen is running there, remove ${displayPath(file)}`,
      );
    }
    sleep(100);
  }
  return () => {
    try {
      if (readOwnFile(file)?.trim() === mine) fs.rmSync(file, { force: true });
    } catch {
      // a lock that cannot be removed names a process that is about to exit: the next run takes it over
    }
  };
}

function safeMtime(file: string): number {
  try {
    return fs.lstatSync(file).mtimeMs;
  } catch {
    return Date.now();
  }
}
