import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { packageRoot } from '../util/paths';

/**
 * A V8 code cache for fwgen's own modules and its dependencies' (Node 20 has no compile
 * cache of its own): made by the build (code-cache-build.ts) after a representative run, so
 * it holds the functions that run compiled, not only each file's top level. At run time it is
 * only read, never written: a read-only install and any number of processes at once are
 * fine. A module whose text is not the one the cache was made from, or a cache V8 rejects
 * (another Node, other V8 flags), is compiled as usual.
 */
export const CODE_CACHE_DIR = path.join(__dirname, '..', 'code-cache');

export interface CacheEntry {
  /** Digest of the module's text: V8 checks only the text's length. */
  digest: string;
  offset: number;
  length: number;
}

export interface CacheIndex {
  v8: string;
  arch: string;
  /** By path relative to the package root. */
  files: Record<string, CacheEntry>;
  /**
   * What each `require` the build's runs made resolved to, by resolutionKey: the requiring
   * module's folder and the request, to a path relative to the package root. Finding a file
   * (stat after stat, each package.json's exports, realpath) cost a fifth of a warm render.
   */
  resolved?: Record<string, string>;
  /** packagesStamp() when the build ran: other installed packages may resolve otherwise. */
  packages?: string;
}

type Compile = (this: Module, content: string, filename: string, format?: string) => unknown;
const proto = Module.prototype as unknown as { _compile: Compile };

/** Identity, not security: whoever can write the cache can write dist/ itself. */
export function sourceDigest(content: string): string {
  return createHash('sha1').update(content).digest('hex');
}

export function cacheKey(filename: string): string {
  // Asked for every require: a file under the root (nearly all) is named by a slice.
  const rel = filename.startsWith(rootPrefix) ? filename.slice(rootPrefix.length) : path.relative(packageRoot, filename);
  return path.sep === '/' ? rel : rel.split(path.sep).join('/');
}
const rootPrefix = packageRoot + path.sep;

/**
 * A module run through vm.Script keeps `import()` working only with Node's default loader
 * option (Node 20.12 and later); without it there is no cache at all.
 */
export const codeCacheSupported = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER !== undefined;

/** Whether a module can be run through vm.Script: CommonJS, no hashbang line. */
export function cacheable(content: string, format: string | undefined): boolean {
  return (format === undefined || format === 'commonjs') && !content.startsWith('#!');
}

/** The module's text as CommonJS wraps it, compiled as a script (so V8 can make its cache). */
export function compileModule(content: string, filename: string, cachedData?: Buffer): vm.Script {
  return new vm.Script(`(function (exports, require, module, __filename, __dirname) { ${content}\n});`, {
    filename,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
}

/** Runs a compiled module the way Node's loader does, with the same require. */
export function runModule(module: Module, script: vm.Script, filename: string): unknown {
  const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
  const require = ((id: string) => module.require(id)) as NodeJS.Require;
  const internal = Module as unknown as { _resolveFilename(r: string, m: Module, main: boolean, o?: unknown): string; _resolveLookupPaths(r: string, m: Module): string[] | null };
  const resolve = ((request: string, options?: unknown) => internal._resolveFilename(request, module, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => internal._resolveLookupPaths(request, module);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = (Module as unknown as { _extensions: NodeJS.RequireExtensions })._extensions;
  require.cache = (Module as unknown as { _cache: NodeJS.Dict<NodeJS.Module> })._cache;
  return wrapper.call(module.exports, module.exports, require, module, filename, path.dirname(filename));
}

/** The table key of a `require(request)` from the module at `parent` (both of the package). */
export function resolutionKey(parent: string, request: string): string {
  return `${folderKey(path.dirname(parent))}\0${request}`;
}

const folderKeys = new Map<string, string>();
function folderKey(dir: string): string {
  let key = folderKeys.get(dir);
  if (key === undefined) folderKeys.set(dir, (key = dir === packageRoot ? '' : cacheKey(dir)));
  return key;
}

/**
 * Changes whenever npm changes node_modules: npm rewrites its hidden lockfile on every
 * install, update or removal. dist/ changes only with a build, which makes the table again.
 */
export function packagesStamp(root = packageRoot): string {
  const st = fs.statSync(path.join(root, 'node_modules', '.package-lock.json'), { throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeMs}` : 'none';
}

type Resolve = (this: unknown, request: string, parent: Module | undefined, isMain: boolean, options?: unknown) => string;
const moduleStatics = Module as unknown as { _resolveFilename: Resolve };

/** Calls `note` with each resolution a plain require of one package module by another makes. */
export function watchResolutions(note: (key: string, resolvedKey: string) => void): void {
  const original = moduleStatics._resolveFilename;
  moduleStatics._resolveFilename = function (request, parent, isMain, options) {
    const found = original.call(this, request, parent, isMain, options);
    if (!isMain && options === undefined && parent?.filename && path.isAbsolute(found)) {
      const from = cacheKey(parent.filename);
      const to = cacheKey(found);
      if (!outside(from) && !outside(to)) note(resolutionKey(parent.filename, request), to);
    }
    return found;
  };
}

/** Whether a cacheKey names a file outside the package (a hoisted dependency, another install). */
export function outside(key: string): boolean {
  return key.startsWith('..') || path.isAbsolute(key);
}

/**
 * From now on a require the build saw resolves from its table, while node_modules is as the
 * build left it and the file is still there; anything else resolves as usual.
 */
function useResolutions(index: CacheIndex): void {
  const table = index.resolved;
  if (!table || index.packages !== packagesStamp()) return;
  const original = moduleStatics._resolveFilename;
  moduleStatics._resolveFilename = function (request, parent, isMain, options) {
    if (!isMain && options === undefined && parent?.filename) {
      const hit = table[resolutionKey(parent.filename, request)];
      if (hit !== undefined) {
        const file = path.join(packageRoot, hit);
        if (fs.existsSync(file)) return file;
      }
    }
    return original.call(this, request, parent, isMain, options);
  };
}

/** Reads the cache, if the build made one for this V8; undefined otherwise. */
export function readCodeCache(dir = CODE_CACHE_DIR): CodeCache | undefined {
  if (!codeCacheSupported) return undefined;
  try {
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as CacheIndex;
    if (index.v8 !== process.versions.v8 || index.arch !== process.arch) return undefined;
    return { index, blob: fs.readFileSync(path.join(dir, 'cache.bin')) };
  } catch {
    return undefined;
  }
}

type CodeCache = { index: CacheIndex; blob: Buffer };

/** V8's code for a module, if the cache holds it for this very text. */
export function cachedDataFor(cache: CodeCache, filename: string, content: string, format?: string): Buffer | undefined {
  const entry = cacheable(content, format) ? cache.index.files[cacheKey(filename)] : undefined;
  if (!entry || entry.digest !== sourceDigest(content)) return undefined;
  return cache.blob.subarray(entry.offset, entry.offset + entry.length);
}

/** From now on, modules the cache holds (with the same text) load from it. */
export function useCodeCache(dir = CODE_CACHE_DIR): void {
  const cache = readCodeCache(dir);
  if (!cache) return;
  useResolutions(cache.index);
  const original = proto._compile;
  proto._compile = function (content, filename, format) {
    const data = cachedDataFor(cache, filename, content, format);
    if (!data) return original.call(this, content, filename, format);
    return runModule(this, compileModule(content, filename, data), filename);
  };
}
