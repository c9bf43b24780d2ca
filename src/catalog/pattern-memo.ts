import { buildIdentity } from './build-identity';
import { cacheKey, CacheShelf } from './cache-dir';
import { packageIdentity } from './package-identity';

/**
 * Values found to match a vendor's name pattern, remembered in the cache so that a later run
 * need not load the regular expression engine (and compile the pattern) to check them again:
 * for a warm render of a small site, loading re2js cost more than everything else the check
 * of its profile does.
 *
 * Why a remembered match may stand for the check: whether RE2 matches a text is a function of
 * the pattern, the text and the engine alone. An entry's key is the digest of all of them:
 * the pattern's source, the value, the engine's name and version, and this fwgen build (its
 * code, which wraps the source as a whole-value match). So an entry found under the key of a
 * (pattern, value) is the answer the engine gave for exactly that pair, and gives again. Only
 * matches are kept: a value that fails is reported, and the report comes from the engine.
 * Entries are read as untrusted like every cache entry (cache-dir.ts): whoever could forge
 * one could as well forge the compiled catalog that holds the pattern.
 */
const SHELF = 'name-matches';

function keyOf(source: string, text: string): string {
  return cacheKey(['name-match 1', buildIdentity(), packageIdentity('re2js'), source, text]);
}

/** Whether an earlier run found `text` to match the pattern `source` (false: unknown). */
export function rememberedMatch(source: string, text: string): boolean {
  // Opened for each question: the cache settings are the run's, and a process may run several.
  const shelf = CacheShelf.open(SHELF);
  return shelf !== undefined && shelf.get(keyOf(source, text)) !== undefined;
}

/** Records that `text` matches the pattern `source`, where there is a cache. */
export function rememberMatch(source: string, text: string): void {
  CacheShelf.open(SHELF)?.put(keyOf(source, text), Buffer.alloc(0));
}
