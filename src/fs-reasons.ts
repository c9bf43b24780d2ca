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
