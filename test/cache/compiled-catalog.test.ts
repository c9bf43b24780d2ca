import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CACHE_DIR_ENV, CacheShelf, NO_CACHE_ENV } from '../../src/catalog/cache-dir';
import { catalogKey, decodeCatalog, decodeData, encodeData, loadCatalogLayersCached } from '../../src/catalog/compiled-catalog';
import { catalogFiles, loadCatalogLayers } from '../../src/catalog/load-catalog';
import type { NamePattern } from '../../src/catalog/pattern';
import { InputError } from '../../src/errors';
import { Cidr, parseCidr } from '../../src/net/addresses';
import { withCache } from './with-cache';
import { catalogRoot, examplesRoot, repoRoot, tempCatalog, tempDir } from '../helpers';

jest.setTimeout(180_000);

/** A network from its text, for data made in a test. */
function cidr(text: string): Cidr {
  const c = parseCidr(text);
  if ('error' in c) throw new Error(c.error);
  return c;
}

const entriesIn = (cache: string) => (fs.existsSync(path.join(cache, 'catalog')) ? fs.readdirSync(path.join(cache, 'catalog')) : []);

/** Everything a catalog holds, networks as their text and patterns as their source: what rendering reads. */
function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => {
      if (v instanceof Map) return [...v];
      if (typeof v === 'bigint') return `${v}n`;
      if (v instanceof Cidr) return v.text;
      const pattern = v as Partial<NamePattern> | null;
      if (pattern && typeof pattern.matches === 'function') return { pattern: pattern.source, probe: pattern.matches('store-01') };
      return v;
    }),
  );
}

describe('the compiled catalog', () => {
  test('a warm load gives the catalog the files give, origins included, without reading them as YAML', () => {
    const cache = tempDir();
    const fresh = withCache(undefined, () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    const cold = withCache(cache, () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    expect(entriesIn(cache)).toHaveLength(1);
    const spy = jest.spyOn(require('../../src/catalog/yaml-source').YamlSource, 'parse');
    const warm = withCache(cache, () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(plain(warm.catalog)).toEqual(plain(fresh.catalog));
    expect(plain(cold.catalog)).toEqual(plain(fresh.catalog));
    const flow = [...warm.catalog.vendors.values()][0]!.services[0]!.flows[0]!;
    expect(flow.origin).toEqual([...fresh.catalog.vendors.values()][0]!.services[0]!.flows[0]!.origin);
    expect(flow.origin.file).toMatch(/^fwgen\/catalog\/vendors\/.+\.yaml$/);
    expect(warm.catalog.vendors.get('paytronix')?.variables.get('mid')?.pattern?.matches('12345')).toBe(fresh.catalog.vendors.get('paytronix')?.variables.get('mid')?.pattern?.matches('12345'));
  });

  test('a changed byte in any file is read again; an error names the file, line and column as without a cache', () => {
    const cache = tempDir();
    const root = tempCatalog({});
    const first = withCache(cache, () => loadCatalogLayersCached([root], [], root));
    const list = path.join(root, 'lists', 'cloudflare.yaml');
    const text = fs.readFileSync(list, 'utf8');
    fs.writeFileSync(list, text.replace(/(- )(\d+\.\d+\.\d+\.)\d+\/\d+/, '$1$2 0/8'));
    const without = (() => {
      try {
        withCache(undefined, () => loadCatalogLayers([root], [], root));
      } catch (err) {
        return (err as InputError).message;
      }
      return 'no error';
    })();
    expect(without).toMatch(/^lists\/cloudflare\.yaml:\d+:\d+: addresses\[0\]/);
    expect(() => withCache(cache, () => loadCatalogLayersCached([root], [], root))).toThrow(without);
    // One byte back, one byte different: a new entry, not the old one.
    fs.writeFileSync(list, text.replace('Cloudflare', 'Cloudflarf'));
    const changed = withCache(cache, () => loadCatalogLayersCached([root], [], root));
    expect(changed.catalog.lists.get('cloudflare')!.name).not.toBe(first.catalog.lists.get('cloudflare')!.name);
    expect(entriesIn(cache)).toHaveLength(2);
  });

  test('another build of fwgen keys another entry', () => {
    const files = catalogFiles([catalogRoot]);
    const bytes = new Map([...files.deviceClasses, ...files.lists, ...files.vendors].map((f) => [f, fs.readFileSync(f)]));
    const identity = require('../../src/catalog/build-identity');
    const mine = catalogKey([catalogRoot], repoRoot, files, bytes);
    const spy = jest.spyOn(identity, 'buildIdentity').mockReturnValue('0'.repeat(64));
    try {
      expect(catalogKey([catalogRoot], repoRoot, files, bytes)).not.toBe(mine);
    } finally {
      spy.mockRestore();
    }
    expect(catalogKey([catalogRoot], repoRoot, files, bytes)).toBe(mine);
  });

  test.each([
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 7)],
    ['one byte flipped', (b: Buffer) => Buffer.concat([b.subarray(0, 200), Buffer.from([b[200]! ^ 1]), b.subarray(201)])],
    ['empty', () => Buffer.alloc(0)],
    ['not an entry at all', () => Buffer.from('catalog: {}\n')],
  ])('an entry that is %s is a miss: the files are read and the entry written again', (_what, spoil) => {
    const cache = tempDir();
    const fresh = withCache(cache, () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    const [entry] = entriesIn(cache);
    const file = path.join(cache, 'catalog', entry!);
    const good = fs.readFileSync(file);
    fs.writeFileSync(file, spoil(good));
    const again = withCache(cache, () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    expect(plain(again.catalog)).toEqual(plain(fresh.catalog));
    // Written whole again (v8 may lay the same strings out differently, so the bytes can differ).
    const rewritten = withCache(cache, () => CacheShelf.open('catalog'))!.get(entry!);
    expect(plain(decodeCatalog(rewritten!))).toEqual(plain(fresh.catalog));
  });

  test('an entry whose digest holds but whose content is no catalog is a miss, not a crash', () => {
    const cache = tempDir();
    withCache(cache, () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    const [entry] = entriesIn(cache);
    const shelf = withCache(cache, () => CacheShelf.open('catalog'))!;
    shelf.put(entry!, require('node:v8').serialize({ root: 1, vendors: 'x' }));
    const again = withCache(cache, () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    expect(again.catalog.vendors.size).toBeGreaterThan(0);
  });

  test('lists of IPv4 networks, packed in an entry, come back as the same networks; a damaged packed list is a miss', () => {
    const v4 = ['198.51.100.0/24', '203.0.113.7/32', '255.255.255.255/32', '0.0.0.0/0'].map(cidr);
    const mixed = [cidr('192.0.2.0/24'), cidr('2001:db8::/32')];
    const data = { v4, mixed, one: [cidr('192.0.2.1/32')], empty: [], words: ['a', 'b'], nested: [v4, mixed] };
    const back = decodeData(encodeData(data)!) as typeof data;
    expect(plain(back)).toEqual(plain(data));
    expect(back.v4.every((c) => c instanceof Cidr && c.family === 'ipv4')).toBe(true);
    expect(back.mixed.map((c) => [c.family, c.first, c.prefix])).toEqual(mixed.map((c) => [c.family, c.first, c.prefix]));
    const v8 = require('node:v8') as typeof import('node:v8');
    const packed = (v8.deserialize(encodeData({ v4 })!) as { v4: unknown[] }).v4;
    expect(packed.slice(0, 2)).toEqual(['\u0000fwgen', 'ipv4s']);
    const damaged = (firsts: unknown, prefixes: unknown) => v8.serialize({ v4: ['\u0000fwgen', 'ipv4s', firsts, prefixes] });
    expect(decodeData(damaged(new Uint32Array([1]), new Uint8Array([33])))).toBeUndefined();
    expect(decodeData(damaged(new Uint32Array([1, 2]), new Uint8Array([32])))).toBeUndefined();
    expect(decodeData(damaged([1], new Uint8Array([32])))).toBeUndefined();
  });

  test('a cache folder that others may write into, or that cannot be made, is not used and nothing fails', () => {
    const open = tempDir();
    fs.chmodSync(open, 0o777);
    const fresh = withCache(open, () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    expect(fs.readdirSync(open)).toEqual([]);
    const shared = tempDir();
    fs.mkdirSync(path.join(shared, 'catalog'), { mode: 0o700 });
    fs.chmodSync(path.join(shared, 'catalog'), 0o770);
    withCache(shared, () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    expect(entriesIn(shared)).toEqual([]);
    // A path under a plain file cannot be a folder (root may write anywhere else).
    const file = path.join(tempDir(), 'plain');
    fs.writeFileSync(file, '');
    const none = withCache(path.join(file, 'cache'), () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    expect(plain(none.catalog)).toEqual(plain(fresh.catalog));
    const made = tempDir();
    withCache(path.join(made, 'fwgen'), () => loadCatalogLayersCached([catalogRoot], [], repoRoot));
    expect(fs.statSync(path.join(made, 'fwgen')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(made, 'fwgen', 'catalog', entriesIn(path.join(made, 'fwgen'))[0]!)).mode & 0o777).toBe(0o600);
  });

  test('several runs at once with one empty cache all render the same bytes, and leave one whole entry', async () => {
    const cache = path.join(tempDir(), 'fwgen');
    const profile = path.join(examplesRoot, 'eu-restaurant-aloha.yaml');
    const runOnce = (out: string, extra: string[] = []) =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), 'render', '-p', profile, '-t', 'nftables', '-o', out, ...extra], {
          cwd: repoRoot,
          env: { ...process.env, [CACHE_DIR_ENV]: cache, [NO_CACHE_ENV]: '' },
        });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (status) => resolve({ status, stderr }));
      });
    const reference = tempDir();
    expect((await runOnce(reference, ['--no-cache'])).status).toBe(0);
    expect(fs.existsSync(cache)).toBe(false);
    const outs = Array.from({ length: 5 }, () => tempDir());
    const results = await Promise.all(outs.map((o) => runOnce(o)));
    for (const r of results) expect(r).toEqual({ status: 0, stderr: expect.not.stringMatching(/internal error/) });
    const read = (dir: string) => fs.readFileSync(path.join(dir, 'eu-restaurant-aloha', 'nftables', fs.readdirSync(path.join(dir, 'eu-restaurant-aloha', 'nftables'))[0]!), 'utf8');
    for (const o of outs) expect(read(o)).toBe(read(reference));
    const entries = entriesIn(cache);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^[0-9a-f]{64}$/);
    const warm = tempDir();
    expect((await runOnce(warm)).status).toBe(0);
    expect(read(warm)).toBe(read(reference));
  });
});
