import * as fs from 'node:fs';
import * as path from 'node:path';
import { LinkGuard } from './confine';
import { linkRefused, UnsafePathError } from './errors';

/**
 * Creating files in folders a pull request can fill. A file is only ever created new
 * (O_CREAT|O_EXCL: a link planted at its name makes the open fail instead of being
 * followed), and replaced by renaming a new file over it, never by writing into it.
 */
const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const CREATE_NEW = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/**
 * What to do when the name is taken by a plain file: 'fail' (EEXIST, for the caller to
 * word), or 'replace' for names only this process uses (its pid is in them), where a file
 * there was left by an earlier, killed run that had the same pid. A link is always refused.
 */
export type Leftover = 'fail' | 'replace';

/** Opens a new file for writing; see Leftover. */
export function openNew(file: string, leftover: Leftover = 'fail'): number {
  for (let attempt = 0; ; attempt++) {
    try {
      return fs.openSync(file, CREATE_NEW, 0o666);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = fs.lstatSync(file, { throwIfNoEntry: false });
      if (st?.isSymbolicLink()) throw linkRefused(file);
      if (leftover === 'fail' || attempt > 0 || (st && !st.isFile())) throw err;
      if (st) fs.unlinkSync(file);
    }
  }
}

/** Text longer than this is written in pieces of this many UTF-16 units. */
export const TEXT_PIECE = 1 << 20;

/**
 * Writes `content` at the descriptor's position as UTF-8. A long text goes in pieces: written
 * whole, it is first copied into one Buffer as long as the file (a site of a million
 * addresses writes a 54 MB policy.json), beside the text itself. A piece never ends between
 * the two halves of a surrogate pair, so the bytes are those of the text written whole.
 */
export function writeText(fd: number, content: string): void {
  if (content.length <= TEXT_PIECE) {
    fs.writeFileSync(fd, content);
    return;
  }
  for (let start = 0; start < content.length; ) {
    let end = Math.min(start + TEXT_PIECE, content.length);
    const last = content.charCodeAt(end - 1);
    if (end < content.length && last >= 0xd800 && last <= 0xdbff) end--;
    fs.writeFileSync(fd, content.slice(start, end));
    start = end;
  }
}

/** Creates `file` holding `content`; with `sync`, on disk before this returns. */
export function createNew(file: string, content: string, o: { leftover?: Leftover; sync?: boolean } = {}): void {
  const fd = openNew(file, o.leftover);
  try {
    writeText(fd, content);
    if (o.sync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The temporary file a replacement of `file` is written to first: beside it, named by this process. */
export function tempFor(file: string): string {
  return `${file}.tmp-${process.pid}`;
}

/**
 * Replaces (or creates) `file` whole: a new temporary file beside it, then a rename, so a
 * reader sees the old content or the new, and a link at `file` is refused, not written through.
 */
export function replaceFile(file: string, content: string): void {
  if (fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) throw linkRefused(file);
  const tmp = tempFor(file);
  try {
    createNew(tmp, content, { leftover: 'replace' });
    fs.renameSync(tmp, file);
  } catch (err) {
    removeOwnTemp(tmp);
    throw err;
  }
}

/** Removes a temporary file this process made, if it is there (never what a link points to). */
export function removeOwnTemp(tmp: string): void {
  try {
    if (fs.lstatSync(tmp, { throwIfNoEntry: false })?.isFile()) fs.unlinkSync(tmp);
  } catch {
    // what cannot be removed is reported by the error being thrown already
  }
}

/**
 * mkdir -p that cannot spin: node's recursive mkdir loops forever where mkdir says ENOENT
 * under a parent that exists (e.g. under /proc). For a folder the user named: links on its
 * way are the user's.
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

/** Makes the folders of `rel` below the guard's top; a link on the way is refused, never followed. */
export function makeFoldersBelow(guard: LinkGuard, rel: string): void {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const st = guard.check(sub);
    if (st?.isDirectory()) continue;
    try {
      fs.mkdirSync(path.join(guard.top, sub));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!guard.check(sub)?.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${sub}'`), { code: 'ENOTDIR', syscall: 'mkdir', path: path.join(guard.top, sub) });
    }
  }
}

/**
 * The text of a file fwgen keeps for itself (a lock, a journal), read without following a
 * link: undefined when it is missing; a link there is refused.
 */
export function readOwnFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw linkRefused(file);
    throw err;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw new UnsafePathError(file, 'not a plain file, where fwgen keeps its own');
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}
