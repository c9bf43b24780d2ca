/**
 * YAML text written for a document is remembered in the cache (src/catalog/yaml-text-memo.ts),
 * so that a warm render need not load the `yaml` package. A remembered text must be exactly
 * what writing gives, for that very document only; a damaged entry is written again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonical, rememberedYaml } from '../../src/catalog/yaml-text-memo';
import { OwnTemplate, varsYaml } from '../../src/targets/ansible';
import { withCache } from './with-cache';
import { tempDir } from '../helpers';

const entriesIn = (cache: string) => {
  const dir = path.join(cache, 'yaml-texts');
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
};
const unmarked = () => undefined;

/** rememberedYaml with a writer that counts its calls and answers `text`. */
function counted(kind: string, doc: unknown, text: string): { text: string; wrote: boolean } {
  let wrote = false;
  const got = rememberedYaml(kind, doc, unmarked, () => {
    wrote = true;
    return text;
  });
  return { text: got, wrote };
}

const doc = { all: { vars: { fwgen_rules: [{ name: 'web {{ lookup("pipe", "id") }}', port: 443, open: true, note: null }] } } };

describe('remembered YAML texts', () => {
  test('a warm write gives exactly the text writing gives, from the cache', () => {
    const cache = tempDir();
    const fresh = withCache(undefined, () => varsYaml(doc));
    expect(fresh).toContain('!unsafe');
    expect(withCache(cache, () => varsYaml(doc))).toBe(fresh);
    expect(entriesIn(cache)).toHaveLength(1);
    expect(withCache(cache, () => varsYaml(doc))).toBe(fresh);
    expect(entriesIn(cache)).toHaveLength(1);
    withCache(cache, () => expect(counted('vars', doc, 'other')).toEqual({ text: fresh, wrote: false }));
  });

  test('a changed document, kind, or own template in place of a string misses', () => {
    const cache = tempDir();
    withCache(cache, () => {
      expect(counted('vars', { a: ['x', 1] }, 'first').wrote).toBe(true);
      expect(counted('vars', { a: ['x', 1] }, 'again')).toEqual({ text: 'first', wrote: false });
      for (const other of [{ a: ['x', '1'] }, { a: ['x', 2] }, { a: ['x'] }, { a: 'x' }, { b: ['x', 1] }, { a: [['x'], 1] }, { a: ['x', true] }, { a: ['x', null] }]) {
        expect(counted('vars', other, 'changed').text).toBe('changed');
      }
      expect(counted('body', { a: ['x', 1] }, 'body').text).toBe('body');
    });
    const own = withCache(cache, () => varsYaml({ when: new OwnTemplate('{{ x }}') }));
    const tagged = withCache(cache, () => varsYaml({ when: '{{ x }}' }));
    expect(own).not.toBe(tagged);
    expect(tagged).toBe(withCache(undefined, () => varsYaml({ when: '{{ x }}' })));
    expect(own).toBe(withCache(undefined, () => varsYaml({ when: new OwnTemplate('{{ x }}') })));
  });

  test('the canonical form tells apart documents that print alike as JSON, and refuses what is not plain data', () => {
    const mark = (v: object) => (v instanceof OwnTemplate ? v.text : undefined);
    const forms = [{ text: 'a' }, new OwnTemplate('a'), ['a'], 'a', { a: 1 }, { a: '1' }, { '1': 'a' }].map((d) => canonical(d, mark));
    expect(new Set(forms).size).toBe(forms.length);
    for (const bad of [undefined, { a: undefined }, [1, , 2], new Map(), -0, NaN, Infinity, 1n, new Date(0), () => 1]) {
      expect(canonical(bad, mark)).toBeUndefined();
    }
    const cache = tempDir();
    withCache(cache, () => {
      expect(counted('vars', { a: new Map() }, 'x').wrote).toBe(true);
      expect(counted('vars', { a: new Map() }, 'x').wrote).toBe(true);
    });
    expect(entriesIn(cache)).toEqual([]);
  });

  test('a damaged or truncated entry is ignored and written again; no cache writes every time', () => {
    const cache = tempDir();
    const fresh = withCache(undefined, () => varsYaml(doc));
    withCache(cache, () => varsYaml(doc));
    const [entry] = entriesIn(cache);
    const bytes = fs.readFileSync(entry!);
    bytes[bytes.length - 3] ^= 0x20;
    fs.writeFileSync(entry!, bytes);
    withCache(cache, () => expect(counted('vars', doc, fresh)).toEqual({ text: fresh, wrote: true }));
    withCache(cache, () => expect(counted('vars', doc, 'x')).toEqual({ text: fresh, wrote: false }));
    fs.writeFileSync(entry!, fs.readFileSync(entry!).subarray(0, 60));
    withCache(cache, () => expect(counted('vars', doc, fresh)).toEqual({ text: fresh, wrote: true }));
    withCache(undefined, () => {
      expect(counted('vars', doc, 'x')).toEqual({ text: 'x', wrote: true });
    });
  });
});
