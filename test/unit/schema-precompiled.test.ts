/**
 * The build writes each schema's validator ahead (dist/catalog/validators). A run uses it only
 * while its digest matches the schema text, and it must judge files exactly as ajv does.
 */
import Ajv from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AJV_OPTIONS, precompiled, SCHEMA_NAMES } from '../../src/catalog/schema';
import { mayRepeat } from '../../src/catalog/unique-items';
import { repoRoot } from '../helpers';

const built = path.join(repoRoot, 'dist', 'catalog', 'validators');
const schemaText = (name: string) => fs.readFileSync(path.join(repoRoot, 'catalog', 'schema', `${name}.schema.json`), 'utf8');

describe('validators compiled by the build', () => {
  test.each(SCHEMA_NAMES)('%s: used for the current schema, never for a changed one', (name) => {
    expect(precompiled(name, schemaText(name), built)).toBeInstanceOf(Function);
    expect(precompiled(name, schemaText(name).replace('"description"', '"description" '), built)).toBeUndefined();
  });

  test('they report the same errors as the schema compiled at run time', () => {
    const text = schemaText('profile');
    const fast = precompiled('profile', text, built)!;
    const slow = new Ajv(AJV_OPTIONS).compile(JSON.parse(text));
    const samples: unknown[] = [
      {},
      { profile: { name: 'Bad Name' }, region: 'mars', environment: 'production', vendors: {}, deviceClasses: {} },
      { profile: { name: 'ok' }, region: 'eu', environment: 'production', vendors: { acme: { variables: { x: [] } } }, deviceClasses: { pos: { addresses: [] } } },
    ];
    for (const data of samples) {
      expect(fast(data)).toBe(slow(data));
      expect(fast.errors).toEqual(slow.errors);
    }
  });

  test('their quick uniqueness check leaves every verdict and error to ajv', () => {
    const text = schemaText('profile');
    const fast = precompiled('profile', text, built)!;
    const slow = new Ajv(AJV_OPTIONS).compile(JSON.parse(text));
    const many = Array.from({ length: 5000 }, (_v, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`);
    const lists: unknown[][] = [
      many,
      [...many, many[1234]!],
      ['192.0.2.1', '192.0.2.1/32', '192.0.2.01', '0192.0.2.1', '192.0.2.1/032', '192.0.2.1/3', '192.0.2.1/03'],
      ['192.0.2.1', '198.51.100.7', '192.0.2.1'],
      ['192.0.2.1/24', '2001:db8::1', '192.0.2.1/24'],
      ['2001:db8::1', '2001:DB8::1', '2001:db8::1'],
      ['__proto__', '__proto__', 'constructor', 'constructor'],
      ['192.0.2.1', 7, 7, '192.0.2.1/'],
      ['255.255.255.255', '256.0.0.0', '1.2.3', '1.2.3.4.5', '1.2.3.4/', '1.2.3.4/99', '1.2.3.4/99'],
    ];
    for (const addresses of lists) {
      const data = {
        profile: { name: 'site' },
        region: 'eu',
        environment: 'production',
        vendors: {},
        deviceClasses: { pos: { addresses } },
        flows: [{ id: 'f', deviceClasses: ['pos'], direction: 'outbound', protocol: 'tcp', ports: [443], addresses }],
      };
      expect(fast(data)).toBe(slow(data));
      expect(fast.errors).toEqual(slow.errors);
    }
  });
});

describe('mayRepeat', () => {
  test('never misses a repeat', () => {
    // Small random texts near the canonical IPv4 spelling, so that many arrays repeat an item.
    let seed = 7;
    const next = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    const octets = ['1', '01', '255'];
    const suffixes = ['', '', '/0', '/32', '/03', '/', '/8', ':'];
    const item = () => Array.from({ length: 3 + next(3) }, () => octets[next(octets.length)]).join('.') + suffixes[next(suffixes.length)];
    let repeating = 0;
    for (let round = 0; round < 3000; round++) {
      const items = Array.from({ length: next(24) }, item);
      if (new Set(items).size === items.length) continue;
      repeating++;
      expect(mayRepeat(items)).toBe(true);
    }
    expect(repeating).toBeGreaterThan(100);
    expect(mayRepeat(['192.0.2.1', '192.0.2.2', '192.0.2.1/32', '192.0.2.1/3'])).toBe(false);
    expect(mayRepeat(['192.0.2.1/24', '10.0.0.0/8', '192.0.2.1/24'])).toBe(true);
  });
});

