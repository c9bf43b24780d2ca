import { isMainThread } from 'node:worker_threads';
import { buildIdentity } from './build-identity';
import { cacheKey, CacheShelf } from './cache-dir';
import { packageIdentity } from './package-identity';

/**
 * YAML text fwgen wrote for a document (an Ansible vars file, an inventory), remembered in the
 * cache so that a later run writing the same document need not load the `yaml` package (72
 * modules) and stringify it again: for a warm render of a small site that was a tenth of the run.
 *
 * Why a remembered text may stand for writing it: the text is a function of the document, the
 * code that writes it (this fwgen build: its options, its tagging of strings) and the `yaml`
 * package's version. An entry's key is the digest of all of them, the document given as its
 * canonical form below, which tells apart every document the writer tells apart. A document
 * holding anything else (undefined, a Map, a class instance the caller does not mark, -0, NaN)
 * has no canonical form and is written afresh. Entries are checked like every cache entry
 * (cache-dir.ts): a damaged or truncated one is a miss, and the text is written again.
 */
const SHELF = 'yaml-texts';

/**
 * `marked` names objects the writer treats specially (a template of fwgen's own): their text,
 * or undefined for any other object.
 */
export function rememberedYaml(kind: string, doc: unknown, marked: (value: object) => string | undefined, write: () => string): string {
  // A fleet's render workers write each site's own documents (they name the site): nothing a
  // later run meets again, and three or four cache files per site at ten thousand sites.
  if (!isMainThread) return write();
  const shelf = CacheShelf.open(SHELF);
  const form = shelf && canonical(doc, marked);
  if (!shelf || form === undefined) return write();
  const key = cacheKey(['yaml text 1', kind, buildIdentity(), packageIdentity('yaml'), form]);
  const hit = shelf.get(key);
  if (hit) return hit.toString('utf8');
  const text = write();
  shelf.put(key, Buffer.from(text, 'utf8'));
  return text;
}

/**
 * The document as text that differs whenever the documents differ: strings quoted (JSON),
 * numbers and booleans bare, keys in the order the writer meets them; undefined when it
 * holds anything but plain data.
 */
export function canonical(value: unknown, marked: (value: object) => string | undefined): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return String(value);
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? JSON.stringify(value) : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  const own = marked(value);
  if (own !== undefined) return `T${JSON.stringify(own)}`;
  const parts: string[] = [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return undefined;
      const part = canonical(value[i], marked);
      if (part === undefined) return undefined;
      parts.push(part);
    }
    return `[${parts.join(',')}]`;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  if (Object.getOwnPropertySymbols(value).length > 0) return undefined;
  for (const [k, v] of Object.entries(value)) {
    const part = canonical(v, marked);
    if (part === undefined) return undefined;
    parts.push(`${JSON.stringify(k)}:${part}`);
  }
  return `{${parts.join(',')}}`;
}
