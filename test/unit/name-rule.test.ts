/** The name rule: one function, and the schemas' name fields carry exactly its pattern. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkFileName, NAME_PATTERN, nameProblem } from '../../src/catalog/name-rule';
import { catalogRoot } from '../helpers';

const schema = (name: string) => JSON.parse(fs.readFileSync(path.join(catalogRoot, 'schema', `${name}.schema.json`), 'utf8')) as Record<string, any>;

describe('name rule', () => {
  test.each([
    ['{{ x }}', /holds '\{\{'/],
    ['a {% raw %}', /holds '\{%'/],
    ['a {# c', /holds '\{#'/],
    ['a { b', /holds '\{' at character 3; a name takes no braces/],
    ['a } b', /holds '\}'/],
    ['a\nb', /U\+000A \(a control character\)/],
    ['a\u001bb', /U\+001B \(a control character\)/],
    ['a\u007fb', /U\+007F \(a control character\)/],
    ['a\u0085b', /U\+0085 \(a control character\)/],
    ['a\u202eb', /U\+202E \(a bidirectional-text control/],
    ['a\u2066b', /U\+2066 \(a bidirectional-text control/],
    ['a\u200eb', /U\+200E \(a bidirectional-text control/],
    ['a\u061cb', /U\+061C \(a bidirectional-text control/],
    ['a\u200bb', /U\+200B \(a zero-width character/],
  ])('refuses case %#', (text, why) => {
    expect(nameProblem(text)).toMatch(why);
    expect(new RegExp(NAME_PATTERN, 'u').test(text)).toBe(false);
  });

  test.each(['Back-of-house server', 'Paytronix: My Guest Account (EU)', 'Café & Bar [main] #1', 'sites/shop-1.yaml'])('takes %j', (text) => {
    expect(nameProblem(text)).toBeUndefined();
    expect(new RegExp(NAME_PATTERN, 'u').test(text)).toBe(true);
  });

  test('a file name is refused with its name escaped', () => {
    expect(() => checkFileName('sites/e\u202e.yaml')).toThrow(/^sites\/e\\u\{202e\}\.yaml: the file name holds U\+202E/);
    expect(() => checkFileName('sites/shop.yaml')).not.toThrow();
  });

  test('every name field of the schemas carries the rule\'s pattern', () => {
    const fields = [
      schema('vendor').definitions.name,
      schema('device-classes').properties.deviceClasses.items.properties.name,
      schema('list').properties.list.properties.name,
      schema('profile').definitions.siteFlow.properties.name,
    ];
    for (const f of fields) expect(f.pattern).toBe(NAME_PATTERN);
    expect(schema('vendor').properties.vendor.properties.name).toEqual({ $ref: '#/definitions/name' });
    expect(schema('vendor').definitions.service.properties.name).toEqual({ $ref: '#/definitions/name' });
    // AWS allows braces in a group name; fwgen's groupName does not, as it becomes an Ansible variable.
    expect(new RegExp(schema('profile').properties.targets.properties.aws.properties.groupName.pattern, 'u').test('sg-{x}')).toBe(false);
  });
});
