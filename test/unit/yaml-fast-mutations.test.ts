import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { compareReaders } from './yaml-compare';

/**
 * Broken and odd variants of real files (random YAML punctuation inserted or deleted): the
 * fast reader must never accept what the yaml package refuses, nor read it differently.
 */
const root = path.resolve(__dirname, '../..');
const texts = ['catalog/device-classes.yaml', 'examples/eu-restaurant-aloha.yaml', 'catalog/vendors/payxpert.yaml', 'examples/ecommerce-web.lock.yaml'].map((f) =>
  fs.readFileSync(path.join(root, f), 'utf8').slice(0, 1500),
);
texts.push(
  [
    '# every construct the fast reader meets',
    'vendor: {id: acme, "name": \'Acme, Inc.\', tags: [a, "b c", \'d\']}',
    'notes: |',
    '  first line',
    '    indented',
    'description: >-',
    '  folded',
    '  text',
    'flows:',
    '- id: "web"   # trailing',
    '  ports: [80, 0x1BB, 0o17, 1e3, .inf, ~, true]',
    '  addresses:',
    '    - 192.0.2.1',
    '    - "2001:db8::1"',
    '  nested:',
    '    - - x',
    '      - [y, {z: 1}]',
    '"quoted key": \'single \'\'quoted\'\'\'',
    'multi: [',
    '    one,',
    '    two',
    '  ]',
  ].join('\n') + '\n',
);
const pieces = [' ', ':', '-', '#', '[', ']', '{', '}', ',', "'", '"', '\n', '?', '|', '>', 'x', '  ', ': ', '- ', '\n  ', '\n- ', '...', '---', '@', '`', '%', '\t', '\r\n', '&a ', '*a', '!!str '];

test('mutated files: the same outcome, data and positions as the yaml package', () => {
  let fast = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: texts.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom(...pieces)), { minLength: 1, maxLength: 3 }),
      (which, edits) => {
        let text = texts[which]!;
        for (const [at, remove, insert] of edits) {
          const p = at % (text.length + 1);
          text = text.slice(0, p) + insert + text.slice(p + remove);
        }
        const { reader, diffs } = compareReaders(text);
        if (reader === 'fast') fast++;
        expect({ text, diffs }).toEqual({ text, diffs: [] });
      },
    ),
    { numRuns: 1500 },
  );
  expect(fast).toBeGreaterThan(300);
});
