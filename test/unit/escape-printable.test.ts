/**
 * The text escapes skip their Unicode normalisation for text that is printable ASCII already:
 * for every string, what they return must be what the full path returns.
 */
import fc from 'fast-check';
import { awsDescription, commentLine, pfsenseText, safeComment, xmlComment } from '../../src/targets/escape';

/** The full path, as every string took it before the shortcut. */
const fullPrintable = (text: string) =>
  text
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** Strings that are often printable ASCII, with spaces at the ends and in runs, and sometimes not. */
const texts = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'Z', '9', ' ', '  ', '#', '>', '-', '\\', '"', "'", '{', '}') }),
  fc.string({ unit: fc.constantFrom('a', ' ', '\t', '\n', '\u00a0', '\u2028', '\ufeff', '\u00e9', 'e\u0301', '\ufb01', '\u0000', '\u007f', '\u2019') }),
  fc.string({ unit: 'grapheme' }),
  fc.string(),
);

describe('printable text', () => {
  test('every escape built on it returns what the full normalisation gives', () => {
    fc.assert(
      fc.property(texts, (text) => {
        const p = fullPrintable(text);
        expect(commentLine(text)).toBe(p.replace(/#>/g, '# >'));
        expect(xmlComment(text)).toBe(p.replace(/-{2,}/g, '-').replace(/-$/, '- '));
        expect(pfsenseText(text, 1000)).toBe(p.replace(/\\/g, '/'));
        expect(safeComment(text, 1000)).toBe(p.replace(/[^A-Za-z0-9 ._:/()#,@+=-]/g, ' ').replace(/ +/g, ' ').trim());
        expect(awsDescription(text, 1000)).toBe(p.replace(/[^a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g, ' ').replace(/ +/g, ' ').trim());
      }),
      { numRuns: 3000 },
    );
  });

  test('plain ASCII text comes back as it is; what is not plain is still collapsed', () => {
    expect(commentLine('Point of sale: card terminals (PCI) #1')).toBe('Point of sale: card terminals (PCI) #1');
    expect(commentLine(' two  spaces ')).toBe('two spaces');
    expect(commentLine('caf\u00e9\nline\u2028#>')).toBe('cafe line # >');
    expect(commentLine('')).toBe('');
  });
});
