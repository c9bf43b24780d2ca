/**
 * A name that matched its vendor's pattern is remembered in the cache, so that a warm run
 * need not load the regular expression engine to check it again (src/catalog/pattern-memo.ts).
 * A pattern that RE2 cannot compile shows which one answered: the engine throws on it, a
 * remembered match does not.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rememberMatch } from '../../src/catalog/pattern-memo';
import { compilePattern, validatedPattern } from '../../src/catalog/pattern';
import { withCache } from './with-cache';
import { tempDir } from '../helpers';

const entriesIn = (cache: string) => {
  const dir = path.join(cache, 'name-matches');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};
const BROKEN = '(';

describe('remembered name matches', () => {
  test('a match is remembered, a mismatch is not, and only the first value a process checks is written', () => {
    const cache = tempDir();
    withCache(cache, () => {
      const p = compilePattern('[a-z]+');
      if ('error' in p) throw new Error(p.error);
      expect(p.matches('ABC')).toBe(false);
      expect(entriesIn(cache)).toEqual([]);
      expect(p.matches('abc')).toBe(true);
      expect(p.matches('abd')).toBe(true);
      expect(entriesIn(cache)).toHaveLength(0);
      const q = validatedPattern('[a-z]+');
      expect(q.matches('abc')).toBe(true);
      expect(entriesIn(cache)).toHaveLength(1);
      // Remembered: a fresh pattern answers from the entry, and so writes nothing more.
      expect(validatedPattern('[a-z]+').matches('abc')).toBe(true);
      expect(entriesIn(cache)).toHaveLength(1);
    });
  });

  test('a remembered match answers without the engine, for that very pattern and value only', () => {
    const cache = tempDir();
    withCache(cache, () => {
      rememberMatch(BROKEN, 'store-01');
      expect(validatedPattern(BROKEN).matches('store-01')).toBe(true);
      expect(() => validatedPattern(BROKEN).matches('store-02')).toThrow(/no longer compiles/);
      expect(() => validatedPattern(`${BROKEN}(`).matches('store-01')).toThrow(/no longer compiles/);
    });
  });

  test('without a cache, or with the entry damaged, the engine answers', () => {
    const cache = tempDir();
    withCache(cache, () => rememberMatch(BROKEN, 'store-01'));
    withCache(undefined, () => expect(() => validatedPattern(BROKEN).matches('store-01')).toThrow(/no longer compiles/));
    const [entry] = entriesIn(cache);
    const file = path.join(cache, 'name-matches', entry!);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 20] ^= 0xff;
    fs.writeFileSync(file, bytes);
    withCache(cache, () => expect(() => validatedPattern(BROKEN).matches('store-01')).toThrow(/no longer compiles/));
  });
});
