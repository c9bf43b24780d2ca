/**
 * The build writes each schema's validator ahead (dist/catalog/validators). A run uses it only
 * while its digest matches the schema text, and it must judge files exactly as ajv does.
 */
import Ajv from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AJV_OPTIONS, precompiled, SCHEMA_NAMES } from '../../src/catalog/schema';
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
});
