import { CACHE_DIR_ENV, NO_CACHE_ENV } from '../../src/catalog/cache-dir';

/** Runs `body` with the cache in `dir` (none: undefined), and no other setting leaking in from the environment. */
export function withCache<T>(dir: string | undefined, body: () => T): T {
  const before = [process.env[CACHE_DIR_ENV], process.env[NO_CACHE_ENV]];
  if (dir === undefined) process.env[NO_CACHE_ENV] = '1';
  else {
    process.env[CACHE_DIR_ENV] = dir;
    delete process.env[NO_CACHE_ENV];
  }
  try {
    return body();
  } finally {
    for (const [name, value] of [[CACHE_DIR_ENV, before[0]], [NO_CACHE_ENV, before[1]]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
