import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalogLayersCached } from '../../src/catalog/compiled-catalog';
import { MIN_CACHED_PROFILE_BYTES } from '../../src/catalog/compiled-profile';
import { loadProfile, type Profile } from '../../src/catalog/profile';
import { YamlSource } from '../../src/catalog/yaml-source';
import { Cidr } from '../../src/net/addresses';
import { withCache } from './with-cache';
import { catalogRoot, repoRoot, tempCatalog, tempDir } from '../helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeWorkload } = require('../../bench/workloads') as { writeWorkload: (root: string, shape: { name: string; terms: number; perTerm: number; note: string }) => { profile: string } };

jest.setTimeout(180_000);

/** A profile of 2,000 addresses in its flows: over the size a profile is cached from. */
function bigProfile(): string {
  const file = writeWorkload(tempDir(), { name: 'big', terms: 40, perTerm: 50, note: '' }).profile;
  expect(fs.statSync(file).size).toBeGreaterThan(MIN_CACHED_PROFILE_BYTES);
  return file;
}

/** The profile with the bundled catalog, read through the cache in `cache` (none: undefined). */
function load(cache: string | undefined, file: string, root = catalogRoot): Profile {
  return withCache(cache, () => loadProfile(file, loadCatalogLayersCached([root], [], repoRoot).catalog, repoRoot));
}

/** What a profile holds, networks as text, without its source. */
function plain(p: Profile): unknown {
  const { source: _source, ...data } = p;
  return JSON.parse(JSON.stringify(data, (_k, v: unknown) => (v instanceof Map ? [...v] : v instanceof Cidr ? v.text : typeof v === 'bigint' ? `${v}n` : v)));
}

const entries = (cache: string) => (fs.existsSync(path.join(cache, 'profile')) ? fs.readdirSync(path.join(cache, 'profile')) : []);

describe('the compiled profile', () => {
  test('a warm load gives the profile the file gives, without parsing it; a position asked for later is the same', () => {
    const file = bigProfile();
    const cache = tempDir();
    const fresh = load(undefined, file);
    const cold = load(cache, file);
    expect(entries(cache)).toHaveLength(1);
    const parsed = YamlSource.parse(fresh.file, fs.readFileSync(file, 'utf8'));
    const spy = jest.spyOn(YamlSource, 'parse');
    const warm = load(cache, file);
    expect(spy).not.toHaveBeenCalled();
    expect(plain(warm)).toEqual(plain(fresh));
    expect(plain(cold)).toEqual(plain(fresh));
    expect(warm.targetsAt['aws.maxRules']).toEqual(parsed.locate(['targets', 'aws', 'maxRules'], true));
    // An error found later (by the selection) is placed from the text, parsed then.
    const at = ['flows', 37, 'addresses', 12];
    expect(warm.source.locate(at)).toEqual(parsed.locate(at));
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    expect(warm.source.issue(at, 'x')).toEqual(parsed.issue(at, 'x'));
  });

  test('a large profile read from its file, cached or not, keeps its text and not its parsed tree; a small one keeps its tree', () => {
    const file = bigProfile();
    const parsed = YamlSource.parse(path.relative(repoRoot, file), fs.readFileSync(file, 'utf8'));
    for (const cache of [undefined, tempDir()]) {
      const profile = load(cache, file);
      // The data and the index of positions are gone with the tree: what the profile needs was taken from them.
      expect(profile.source.data).toBeUndefined();
      const spy = jest.spyOn(YamlSource, 'parse');
      const at = ['flows', 21, 'addresses', 7];
      expect(profile.source.issue(at, 'x')).toEqual({ ...parsed.issue(at, 'x'), loc: { ...parsed.locate(at), file: profile.file } });
      expect(profile.source.reader).toBe(parsed.reader);
      expect(spy).toHaveBeenCalledTimes(1);
      spy.mockRestore();
    }
    const small = load(undefined, path.join(repoRoot, 'examples', 'eu-restaurant-aloha.yaml'));
    expect(small.source.data).toBeDefined();
  });

  test('a changed byte, another catalog or a damaged entry is read again from the file', () => {
    const file = bigProfile();
    const cache = tempDir();
    load(cache, file);
    // A changed address: a new entry, and the profile says the new address.
    const text = fs.readFileSync(file, 'utf8');
    const first = /addresses: \[([0-9.]+),/.exec(text)![1]!;
    fs.writeFileSync(file, text.split(`[${first},`).join('[198.51.100.77,'));
    const edited = JSON.stringify(plain(load(cache, file)));
    expect(entries(cache)).toHaveLength(2);
    expect(edited.includes('"198.51.100.77/32"')).toBe(true);
    expect(edited.includes(`"${first}/32"`)).toBe(false);
    // Against another catalog (the same vendor in a catalog of its own): checked again.
    const other = tempCatalog({ 'microsoft-365.yaml': fs.readFileSync(path.join(catalogRoot, 'vendors', 'microsoft-365.yaml'), 'utf8') });
    load(cache, file, other);
    expect(entries(cache)).toHaveLength(3);
    // Every entry damaged: each is a miss, and the file's own data comes back.
    for (const e of entries(cache)) {
      const p = path.join(cache, 'profile', e);
      const raw = fs.readFileSync(p);
      raw[raw.length - 3] ^= 0xff;
      fs.writeFileSync(p, raw);
    }
    const spy = jest.spyOn(YamlSource, 'parse');
    expect(plain(load(cache, file))).toEqual(plain(load(undefined, file)));
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
  });

  test('an invalid profile is never stored, and says where as without a cache', () => {
    const file = bigProfile();
    const cache = tempDir();
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('protocol: udp', 'protocol: udpx'));
    const message = (dir: string | undefined) => {
      try {
        load(dir, file);
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(message(cache)).toBe(message(undefined));
    expect(message(cache)).toMatch(/big\.yaml:\d+:\d+/);
    expect(entries(cache)).toHaveLength(0);
  });

  test('a small profile is read as it is: no entry', () => {
    const cache = tempDir();
    const file = path.join(repoRoot, 'examples', 'eu-restaurant-aloha.yaml');
    expect(fs.statSync(file).size).toBeLessThan(MIN_CACHED_PROFILE_BYTES);
    load(cache, file);
    expect(entries(cache)).toHaveLength(0);
  });
});
