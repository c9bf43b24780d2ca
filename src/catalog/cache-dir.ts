import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * fwgen's cache folder: work a later run may skip (a compiled catalog, a remembered render).
 * Where: --cache-dir, else $XDG_CACHE_HOME/fwgen, else ~/.cache/fwgen; none with --no-cache.
 * The settings travel in the environment, so that render workers (threads) use the same one.
 *
 * What is in it is read as untrusted: the folder is the user's own (made 0700; one that
 * another user owns or may write into is not used, as ssh treats ~/.ssh), every entry
 * carries a digest of its content that is checked on read, and a missing, truncated or
 * corrupt entry is a miss. Entries are written to a temporary file of this process and
 * renamed into place, so any number of runs may read and write at once. Where the folder
 * cannot be made or written (a read-only home), there is no cache and nothing is said.
 */
export const CACHE_DIR_ENV = 'FWGEN_CACHE_DIR';
export const NO_CACHE_ENV = 'FWGEN_NO_CACHE';

/**
 * From the command line: --cache-dir DIR and --cache/--no-cache, over what the environment
 * says. Returns what puts the environment back (a run in a process that runs others).
 */
export function configureCache(o: { dir?: string; enabled?: boolean }): () => void {
  const before = [process.env[CACHE_DIR_ENV], process.env[NO_CACHE_ENV]] as const;
  if (o.dir !== undefined) process.env[CACHE_DIR_ENV] = path.resolve(o.dir);
  if (o.enabled === false) process.env[NO_CACHE_ENV] = '1';
  else if (o.enabled === true) delete process.env[NO_CACHE_ENV];
  return () => {
    restore(CACHE_DIR_ENV, before[0]);
    restore(NO_CACHE_ENV, before[1]);
  };
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** The folder the settings name (made or not), or undefined with the cache off. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env[NO_CACHE_ENV] === '1') return undefined;
  if (env[CACHE_DIR_ENV]) return path.resolve(env[CACHE_DIR_ENV]);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'fwgen');
  let home: string;
  try {
    home = os.homedir();
  } catch {
    return undefined;
  }
  return home ? path.join(home, '.cache', 'fwgen') : undefined;
}

const MAGIC = 'fwgen-cache 1\n';
const DIGEST_BYTES = 32;

/** A folder of entries of one kind ('catalog', 'renders') under the cache root. */
export class CacheShelf {
  private constructor(readonly dir: string) {}

  /** The shelf, made if need be; undefined when there is no usable cache. */
  static open(kind: string, env: NodeJS.ProcessEnv = process.env): CacheShelf | undefined {
    const root = cacheRoot(env);
    if (root === undefined) return undefined;
    const dir = path.join(root, kind);
    try {
      for (const d of [root, dir]) {
        try {
          fs.mkdirSync(d, { recursive: d === root, mode: 0o700 });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        if (!ownFolder(d)) return undefined;
      }
      return new CacheShelf(dir);
    } catch {
      return undefined;
    }
  }

  /** The entry's content, if it is there whole and unchanged since it was written. */
  get(key: string): Buffer | undefined {
    let raw: Buffer;
    try {
      const fd = fs.openSync(this.fileOf(key), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        const st = fs.fstatSync(fd);
        if (!st.isFile() || !ownedByMe(st)) return undefined;
        raw = fs.readFileSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return undefined;
    }
    const head = Buffer.byteLength(MAGIC);
    if (raw.length < head + DIGEST_BYTES || raw.toString('latin1', 0, head) !== MAGIC) return undefined;
    const digest = raw.subarray(head, head + DIGEST_BYTES);
    const body = raw.subarray(head + DIGEST_BYTES);
    return createHash('sha256').update(body).digest().equals(digest) ? body : undefined;
  }

  /** Stores an entry; a cache that cannot be written is as good as none, so failures are silent. */
  put(key: string, body: Buffer): void {
    const file = this.fileOf(key);
    const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      try {
        fs.writeFileSync(fd, Buffer.concat([Buffer.from(MAGIC, 'latin1'), createHash('sha256').update(body).digest(), body]));
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
    } catch {
      fs.rmSync(tmp, { force: true });
    }
  }

  fileOf(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`internal: cache key '${key}' is not a sha256 digest`);
    return path.join(this.dir, key);
  }
}

/** A sha256 over parts, each ended so that no two lists of parts hash alike. */
export function cacheKey(parts: ReadonlyArray<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const p of parts) {
    const b = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
    hash.update(`${b.length}:`);
    hash.update(b);
  }
  return hash.digest('hex');
}

function ownedByMe(st: fs.Stats): boolean {
  return typeof process.getuid !== 'function' || st.uid === process.getuid();
}

/** A real folder of this user that no one else may write into (what ssh asks of ~/.ssh). */
function ownFolder(dir: string): boolean {
  const st = fs.lstatSync(dir);
  return st.isDirectory() && ownedByMe(st) && (st.mode & 0o022) === 0;
}
