import * as v8 from 'node:v8';
import { isUint32Array, isUint8Array } from 'node:util/types';
import { Cidr } from '../net/addresses';
import { displayPath } from '../util/paths';
import { buildIdentity } from './build-identity';
import { cacheKey, CacheShelf } from './cache-dir';
import { catalogFiles, loadCatalogLayers, type CatalogFiles, type CatalogOverride } from './load-catalog';
import { validatedPattern, type NamePattern } from './pattern';
import { parseYamlBytes, readCatalogBytes } from './read-file';
import type { Catalog } from './types';

/**
 * The compiled catalog: a catalog that was read and validated once is kept in the cache
 * (cache-dir.ts), keyed by this build of fwgen and every file it was read from (the name
 * messages give it and its bytes), so an unchanged catalog is neither parsed nor validated
 * again. Only a valid catalog is ever stored: every error, with its file:line:col, comes
 * from reading the files. What the catalog holds of its files' positions (the origins that
 * rendered comments and diagnostics cite) is stored with it as data, so a cached catalog
 * places things exactly as the files do. Whatever goes wrong with an entry (missing,
 * truncated, written by another build, not decodable) means the files are read.
 */
export function loadCatalogLayersCached(
  roots: string[],
  extraVendorFiles: string[] = [],
  base?: string,
): { catalog: Catalog; overrides: CatalogOverride[] } {
  const shelf = CacheShelf.open('catalog');
  const files = catalogFiles(roots, extraVendorFiles, base);
  if (!shelf) return loadCatalogLayers(roots, extraVendorFiles, base, files);
  const bytes = readAll(files, base);
  if (!bytes) return loadCatalogLayers(roots, extraVendorFiles, base, files);
  const key = catalogKey(roots, base, files, bytes);
  const hit = shelf.get(key);
  if (hit) {
    const catalog = decodeCatalog(hit);
    if (catalog) {
      identities.set(catalog, key);
      return { catalog, overrides: files.overrides };
    }
  }
  // Parsed from the very bytes the key was made of: a file edited meanwhile cannot be stored under the old key.
  const loaded = loadCatalogLayers(roots, extraVendorFiles, base, files, (file, b) => parseYamlBytes(file, bytes.get(file)!, b));
  const encoded = encodeCatalog(loaded.catalog);
  if (encoded) shelf.put(key, encoded);
  identities.set(loaded.catalog, key);
  return loaded;
}

/** The key of each catalog read through the cache: its files' bytes and this build, as a digest. */
const identities = new WeakMap<Catalog, string>();

/**
 * What a catalog was made of, as a digest, when it was read through the cache; undefined
 * otherwise (what depends on it cannot be cached then).
 */
export function catalogIdentity(catalog: Catalog): string | undefined {
  return identities.get(catalog);
}

/** Every file's bytes, or undefined when one cannot be read (the plain reader then says why, with its name). */
function readAll(files: CatalogFiles, base?: string): Map<string, Buffer> | undefined {
  const out = new Map<string, Buffer>();
  try {
    for (const file of [...files.deviceClasses, ...files.lists, ...files.vendors]) out.set(file, readCatalogBytes(file, base));
  } catch {
    return undefined;
  }
  return out;
}

export function catalogKey(roots: string[], base: string | undefined, files: CatalogFiles, bytes: Map<string, Buffer>): string {
  const parts: Array<string | Buffer> = ['fwgen compiled catalog 1', buildIdentity(), roots[0]!];
  for (const [kind, list] of [['device-classes', files.deviceClasses], ['lists', files.lists], ['vendors', files.vendors]] as const) {
    parts.push(kind, String(list.length));
    for (const file of list) parts.push(displayPath(file, base), bytes.get(file)!);
  }
  return cacheKey(parts);
}

/*
 * The catalog as plain data for v8.serialize, and back. A network is its family, first
 * address and prefix; a name pattern is its source (compiled again on the way back, as
 * loading does); a Map is its entries. Anything else that is not plain data makes the
 * catalog uncacheable rather than stored wrong.
 */
type Encoded = unknown;
const TAG = '\u0000fwgen';

function encode(value: unknown): Encoded {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function' || typeof value === 'symbol') throw new Uncacheable();
    return value;
  }
  if (value instanceof Cidr) return [TAG, 'cidr', value.family, value.first, value.prefix];
  if (value instanceof Map) return [TAG, 'map', [...value].map(([k, v]) => [encode(k), encode(v)])];
  if (Array.isArray(value)) return allIpv4(value) ? packIpv4(value) : value.map(encode);
  const proto = Object.getPrototypeOf(value);
  if (isPattern(value)) return [TAG, 'pattern', value.source];
  if (proto !== Object.prototype && proto !== null) throw new Uncacheable();
  const out: Record<string, Encoded> = {};
  for (const [k, v] of Object.entries(value)) out[k] = encode(v);
  return out;
}

/**
 * Decodes in place: what v8.deserialize made is this function's alone, and a new object and
 * an entry pair per field made the decoding of a large entry a sixth of a warm render.
 */
function decode(value: Encoded): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (value[0] !== TAG) {
      for (let i = 0; i < value.length; i++) value[i] = decode(value[i]);
      return value;
    }
    switch (value[1]) {
      case 'cidr':
        return value[2] === 'ipv4' && typeof value[3] === 'number' ? Cidr.ipv4(value[3], value[4] as number) : Cidr.ipv6(value[3] as bigint, value[4] as number);
      case 'map':
        return new Map((value[2] as Array<[Encoded, Encoded]>).map(([k, v]) => [decode(k), decode(v)]));
      case 'ipv4s':
        return unpackIpv4(value[2], value[3]);
      case 'pattern':
        return validatedPattern(value[2] as string);
      default:
        throw new Uncacheable();
    }
  }
  const fields = value as Record<string, unknown>;
  // A field named __proto__ would be set as the prototype by a plain assignment to a new object, as before.
  if (Object.prototype.hasOwnProperty.call(fields, '__proto__') || Object.getPrototypeOf(fields) !== Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) out[k] = decode(v);
    return out;
  }
  const keys = Object.keys(fields);
  for (let i = 0; i < keys.length; i++) fields[keys[i]!] = decode(fields[keys[i]!]);
  return fields;
}

/*
 * A list of IPv4 networks (a flow's addresses, thousands in a large profile) as two typed
 * arrays, first addresses and prefixes: v8 copies their bytes, where five values per network
 * made the entry three times the profile's size and its reading the slowest part of a render.
 */
function allIpv4(list: unknown[]): list is Cidr[] {
  if (list.length < 2) return false;
  for (const c of list) if (!(c instanceof Cidr) || c.family !== 'ipv4') return false;
  return true;
}

function packIpv4(list: Cidr[]): Encoded {
  const firsts = new Uint32Array(list.length);
  const prefixes = new Uint8Array(list.length);
  list.forEach((c, i) => {
    firsts[i] = c.first as number;
    prefixes[i] = c.prefix;
  });
  return [TAG, 'ipv4s', firsts, prefixes];
}

function unpackIpv4(firsts: unknown, prefixes: unknown): Cidr[] {
  // By type tag, not instanceof: the arrays may come from another realm (a test runner's context).
  if (!isUint32Array(firsts) || !isUint8Array(prefixes) || firsts.length !== prefixes.length) throw new Uncacheable();
  const out = new Array<Cidr>(firsts.length);
  for (let i = 0; i < firsts.length; i++) {
    if (prefixes[i]! > 32) throw new Uncacheable();
    out[i] = Cidr.ipv4(firsts[i]!, prefixes[i]!);
  }
  return out;
}

function isPattern(value: object): value is NamePattern {
  const v = value as Partial<NamePattern>;
  return typeof v.source === 'string' && typeof v.matches === 'function' && Object.keys(value).length === 2;
}

class Uncacheable extends Error {}

export function encodeCatalog(catalog: Catalog): Buffer | undefined {
  return encodeData(catalog);
}

/** The catalog an entry holds, or undefined when it is not one this build wrote. */
export function decodeCatalog(body: Buffer): Catalog | undefined {
  const catalog = decodeData(body) as Catalog | undefined;
  const ok =
    typeof catalog === 'object' && catalog !== null && typeof catalog.root === 'string' &&
    [catalog.deviceClasses, catalog.lists, catalog.vendors].every((m) => m instanceof Map);
  return ok ? catalog : undefined;
}

/** Loaded data (a catalog, a profile) as an entry's body; undefined when it holds what is not plain data. */
export function encodeData(value: unknown): Buffer | undefined {
  try {
    return v8.serialize(encode(value));
  } catch (err) {
    if (err instanceof Uncacheable) return undefined;
    throw err;
  }
}

/** What encodeData stored, or undefined when the body is not something it wrote. */
export function decodeData(body: Buffer): unknown {
  try {
    return decode(v8.deserialize(body));
  } catch {
    return undefined;
  }
}
