import * as fs from 'node:fs';
import * as path from 'node:path';
import { createNew, TEXT_PIECE } from '../../src/fs/write';
import { tempDir } from '../helpers';

/** The bytes createNew leaves for `text`, against the UTF-8 of the text as one Buffer. */
function roundTrip(text: string): void {
  const file = path.join(tempDir(), 'f');
  createNew(file, text);
  expect(fs.readFileSync(file).equals(Buffer.from(text, 'utf8'))).toBe(true);
}

describe('writing a long text in pieces', () => {
  const filler = (n: number) => 'x'.repeat(n);

  test('gives the bytes of the text written whole, whatever stands at the edge of a piece', () => {
    const pair = '\ud83d\ude00';
    for (const edge of [
      pair, // a surrogate pair across the edge of the first piece
      '\ud800x', // a lone high half at the edge
      '\udc00x', // a lone low half just past the edge
      'é€', // two- and three-byte characters
    ]) {
      for (const shift of [-2, -1, 0, 1]) roundTrip(filler(TEXT_PIECE + shift) + edge + filler(TEXT_PIECE * 2 - 1));
    }
    roundTrip(pair.repeat(TEXT_PIECE + 3));
  });

  test('short, empty and exactly one piece long texts are written as they are', () => {
    for (const text of ['', 'a', filler(TEXT_PIECE), filler(TEXT_PIECE - 1) + '\ud83d']) roundTrip(text);
  });

  test('a text of several pieces is the policy.json a large site writes: read back, it is the text', () => {
    const doc = { rules: Array.from({ length: 60_000 }, (_v, i) => ({ id: `r${i}`, networks: [`10.${i >> 8 & 255}.${i & 255}.0/24`] })) };
    const text = JSON.stringify(doc, null, 2) + '\n';
    expect(text.length).toBeGreaterThan(TEXT_PIECE * 3);
    const file = path.join(tempDir(), 'policy.json');
    createNew(file, text);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });
});
