/**
 * The fast reader's positions come from fwgen's own line table, not the `yaml` package's: for
 * every text and every offset in it, both give the same line and column.
 */
import fc from 'fast-check';
import { LineCounter } from 'yaml';
import { LineTable } from '../../src/util/line-table';

/** The `yaml` package's table, filled in as its parser fills it while reading the text. */
function yamlLines(text: string): LineCounter {
  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lines.addNewLine(i + 1);
  return lines;
}

describe('line table', () => {
  test('every offset of every text has the line and column of the yaml package', () => {
    const texts = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '\r', '\t', '\u00e9', '#') });
    fc.assert(
      fc.property(texts, (text) => {
        const ours = new LineTable(text);
        const theirs = yamlLines(text);
        for (let offset = 0; offset <= text.length; offset++) expect(ours.linePos(offset)).toEqual(theirs.linePos(offset));
      }),
      { numRuns: 2000 },
    );
  });

  test('lines and columns count from one', () => {
    const t = new LineTable('a: 1\nb:\n  - c\n');
    expect(t.linePos(0)).toEqual({ line: 1, col: 1 });
    expect(t.linePos(5)).toEqual({ line: 2, col: 1 });
    expect(t.linePos(10)).toEqual({ line: 3, col: 3 });
    expect(t.linePos(14)).toEqual({ line: 4, col: 1 });
  });
});
