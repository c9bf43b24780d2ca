import * as path from 'node:path';
import { FileError, InputError } from '../errors';
import { GitError } from './base-tree';

/**
 * Runs the reading of the base side so that its errors name their files where they really
 * are: `REV:path` as Git writes a file of a revision, or the path under --base-dir. Without
 * it a malformed fwgen.yaml of the base revision reads as one of the working tree.
 */
export async function readingBase<T>(where: { rev: string } | { dir: string }, baseRoot: string, work: () => Promise<T>): Promise<T> {
  const name = (file: string): string => {
    const rel = path.isAbsolute(file) ? path.relative(baseRoot, file) : file;
    const inside = !rel.startsWith('..') && !path.isAbsolute(rel);
    if (!inside) return file;
    const posix = rel.split(path.sep).join('/');
    return 'rev' in where ? `${where.rev}:${posix}` : path.join(where.dir, rel);
  };
  const side = 'rev' in where ? `base revision ${where.rev}` : `base folder ${where.dir}`;
  try {
    return await work();
  } catch (err) {
    if (err instanceof InputError) {
      throw new InputError(err.issues.map((i) => ({ ...i, loc: { ...i.loc, file: name(i.loc.file) }, message: `${i.message} (in the ${side})` })));
    }
    if (err instanceof FileError && !(err instanceof GitError)) throw new FileError(name(err.file), `${err.reason} (in the ${side})`);
    throw err;
  }
}
