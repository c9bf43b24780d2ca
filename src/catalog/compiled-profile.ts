import { buildIdentity } from './build-identity';
import { cacheKey, CacheShelf } from './cache-dir';
import { catalogIdentity, decodeData, encodeData } from './compiled-catalog';
import type { Profile, SiteDefaults } from './profile';
import type { Catalog } from './types';
import { YamlSource } from './yaml-source';

/**
 * The compiled profile: a large profile (a site that keeps thousands of addresses in its
 * flows) read and validated once is kept in the cache, as the catalog is (compiled-catalog.ts),
 * keyed by this build, the catalog it was checked against, the name messages give the file,
 * its bytes and the workspace's defaults. Only a valid profile is ever stored, so every
 * error still comes from reading the file. The profile keeps its text: a position asked for
 * later (an error of the selection) parses it then, exactly as reading it would have.
 */

/** Below this size a profile parses faster than an entry is read, checked and decoded. */
export const MIN_CACHED_PROFILE_BYTES = 64 * 1024;

/** The shelf and key for a profile, or undefined when it is not to be cached. */
export function profileEntry(shown: string, bytes: Buffer, catalog: Catalog, defaults: SiteDefaults): { shelf: CacheShelf; key: string } | undefined {
  if (bytes.length < MIN_CACHED_PROFILE_BYTES) return undefined;
  const catalogKey = catalogIdentity(catalog);
  if (catalogKey === undefined) return undefined;
  const shelf = CacheShelf.open('profile');
  if (!shelf) return undefined;
  const key = cacheKey(['fwgen compiled profile 1', buildIdentity(), catalogKey, JSON.stringify(defaults), shown, bytes]);
  return { shelf, key };
}

/** The profile an entry holds, its source deferred to the text it was made of; undefined on any doubt. */
export function cachedProfile(entry: { shelf: CacheShelf; key: string }, shown: string, text: string): Profile | undefined {
  const body = entry.shelf.get(entry.key);
  if (!body) return undefined;
  const data = decodeData(body) as Omit<Profile, 'source'> | undefined;
  const ok =
    typeof data === 'object' && data !== null && data.file === shown && typeof data.name === 'string' &&
    [data.vendors, data.deviceClasses].every((m) => m instanceof Map);
  return ok ? { ...data, source: YamlSource.deferred(shown, text) } : undefined;
}

export function storeProfile(entry: { shelf: CacheShelf; key: string }, profile: Profile): void {
  const { source: _source, ...data } = profile;
  const body = encodeData(data);
  if (body) entry.shelf.put(entry.key, body);
}

/**
 * A large profile as it leaves loading, read or cached alike: its source keeps the text and
 * not the parsed tree, which would stay in memory beside the policy built from it (a profile
 * of a million addresses: about 150 MB of data and index of positions for 30 MB of text).
 */
export function withoutTree(profile: Profile, bytes: Buffer): Profile {
  return bytes.length < MIN_CACHED_PROFILE_BYTES ? profile : { ...profile, source: profile.source.released() };
}
