import * as fs from 'node:fs';
import * as path from 'node:path';
import { linkRefused, UnsafePathError } from './errors';

/** `child` lies strictly below `parent` (both absolute or both relative to the same folder). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** `child` is `parent` or lies below it. */
export function isWithin(parent: string, child: string): boolean {
  return path.resolve(parent) === path.resolve(child) || isInside(parent, child);
}

/**
 * `file` is, after every link on its way is followed, inside `top` (also resolved): where a
 * file read by fwgen really is. A path that does not exist resolves as far as it exists.
 */
export function resolvesInside(top: string, file: string): boolean {
  return isWithin(realOrSelf(top), realOrSelf(file));
}

function realOrSelf(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    const parent = path.dirname(p);
    return parent === p ? p : path.join(realOrSelf(parent), path.basename(p));
  }
}

/**
 * A relative path fwgen may own below a folder it writes: forward slashes, no empty, `.` or
 * `..` part, not absolute, no backslash or NUL, and no part fwgen keeps its bookkeeping under.
 */
export function isOwnRelative(rel: unknown, bookkeeping: (part: string) => boolean): rel is string {
  if (typeof rel !== 'string' || rel === '' || rel.includes('\\') || rel.includes('\0') || path.isAbsolute(rel)) return false;
  return rel.split('/').every((p) => p !== '' && p !== '.' && p !== '..' && !bookkeeping(p));
}

/**
 * Checks paths below a folder fwgen owns (`top`, trusted as named) before it uses them: a
 * path that leaves `top`, or any existing part of it that is a symbolic link, is refused.
 * Folders found real are remembered, so checking the many files of one folder costs one
 * lstat each.
 */
export class LinkGuard {
  private readonly real = new Set<string>();

  constructor(readonly top: string) {}

  /**
   * The lstat of `rel` (relative to top), undefined when it or a folder on its way is
   * missing. A file where a folder should be fails as the file system says it (ENOTDIR,
   * naming `rel`), before anything is written.
   */
  check(rel: string): fs.Stats | undefined {
    const full = path.resolve(this.top, rel);
    if (!isInside(this.top, full)) throw new UnsafePathError(full, `outside ${this.top}, the folder fwgen works in`);
    const parts = path.relative(this.top, full).split(path.sep);
    let at = this.top;
    for (let i = 0; i < parts.length; i++) {
      at = path.join(at, parts[i]!);
      const last = i === parts.length - 1;
      if (!last && this.real.has(at)) continue;
      let st: fs.Stats | undefined;
      st = fs.lstatSync(at, { throwIfNoEntry: false });
      if (st === undefined) return undefined;
      if (st.isSymbolicLink()) throw linkRefused(at);
      if (last) return st;
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, lstat '${full}'`), { code: 'ENOTDIR', syscall: 'lstat', path: full });
      this.real.add(at);
    }
    return undefined;
  }

  /**
   * Every file below `rel` ('' for top itself; absolute paths, sorted), never following a
   * link: a link found is refused.
   */
  listFiles(rel: string): string[] {
    const st = rel === '' ? fs.statSync(this.top, { throwIfNoEntry: false }) : this.check(rel);
    // An owned entry can be one file (a site's policy.json): it lists as itself.
    if (st?.isFile() && rel !== '') return [path.resolve(this.top, rel)];
    if (!st?.isDirectory()) return [];
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isSymbolicLink()) throw linkRefused(full);
        if (entry.isDirectory()) {
          this.real.add(full);
          walk(full);
        } else out.push(full);
      }
    };
    walk(path.resolve(this.top, rel));
    return out.sort();
  }
}
