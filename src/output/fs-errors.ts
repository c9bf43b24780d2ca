import { FileError } from '../errors';
import { describeCode } from '../fs-reasons';
import { displayPath } from '../paths';

/**
 * Turns an error from the file system into one line naming the path. Anything that is not
 * an errno error (a bug) is passed through untouched, so it still shows as internal.
 */
export function fileSystemError(err: unknown, consequence: string, fallbackPath: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof FileError || typeof e?.code !== 'string' || !e.syscall) return err;
  const where = e.path ?? fallbackPath;
  return new FileError(displayPath(where), `cannot write: ${describeCode(e.code)}; ${consequence}`);
}
