import { FileError } from '../errors';
import { displayPath } from '../util/paths';

/** What the file system said, in words an admin acts on. */
const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of this path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  EEXIST: 'something else is already there',
  EXDEV: 'the output folder spans two file systems',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links',
  ENOENT: 'no such file or folder',
};

/** "no such file or folder (ENOENT)": the words, then the code to search for. */
export function describeCode(code: string | undefined): string {
  if (!code) return 'unknown error';
  return `${REASONS[code] ?? code.toLowerCase()} (${code})`;
}

/**
 * Turns an error from the file system into one line naming the path. A refusal gets the
 * consequence added; anything that is not an errno error (a bug) is passed through untouched,
 * so it still shows as internal.
 */
export function fileSystemError(err: unknown, consequence: string, fallbackPath: string): unknown {
  if (err instanceof UnsafePathError) return err.withConsequence(consequence);
  const e = err as NodeJS.ErrnoException;
  if (err instanceof FileError || typeof e?.code !== 'string' || !e.syscall) return err;
  const where = e.path ?? fallbackPath;
  return new FileError(displayPath(where), `cannot write: ${describeCode(e.code)}; ${consequence}`);
}

/**
 * A path fwgen will not use: a symbolic link where it reads, writes or deletes, a path that
 * leaves the folder it works in, or bookkeeping it did not leave itself. One line naming the
 * path and what is wrong with it.
 */
export class UnsafePathError extends FileError {
  constructor(
    readonly fullPath: string,
    readonly why: string,
    readonly consequence?: string,
  ) {
    super(displayPath(fullPath), consequence ? `${why}; ${consequence}` : why);
    this.name = 'UnsafePathError';
  }

  withConsequence(consequence: string): UnsafePathError {
    return this.consequence ? this : new UnsafePathError(this.fullPath, this.why, consequence);
  }
}

/** The words for a link fwgen found where it works. */
export const LINK_REFUSED = 'a symbolic link, where fwgen keeps its own files; fwgen never writes, deletes or lists through a link (replace it with a real folder or file, or remove it)';

export function linkRefused(file: string): UnsafePathError {
  return new UnsafePathError(file, LINK_REFUSED);
}
