import { FileError } from '../errors';
import { displayPath } from '../paths';

/** What the file system said, in words an admin acts on. */
const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of this path is a file, not a folder',
  EISDIR: 'this is a folder, not a file',
  EEXIST: 'something else is already there',
  EXDEV: 'the output folder spans two file systems',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links',
};

/**
 * Turns an error from the file system into one line naming the path. Anything that is not
 * an errno error (a bug) is passed through untouched, so it still shows as internal.
 */
export function fileSystemError(err: unknown, consequence: string, fallbackPath: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof FileError || typeof e?.code !== 'string' || !e.syscall) return err;
  const where = e.path ?? fallbackPath;
  const reason = REASONS[e.code] ?? (e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*$/, '') || e.code);
  return new FileError(displayPath(where), `cannot write: ${reason} (${e.code}); ${consequence}`);
}
