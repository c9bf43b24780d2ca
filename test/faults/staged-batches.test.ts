/**
 * StageWriter flushes one batch while the next fills: every file is on disk when finish()
 * returns (the journal is written only after it), and no descriptor is left open, whether the
 * writer finishes or is closed half-way after an error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StageWriter } from '../../src/output/journal';
import { tempDir } from '../helpers';

/** Descriptors this process holds open on files under `dir` (the test runner's own come and go). */
const openUnder = (dir: string) =>
  fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${dir}/`);
    } catch {
      return false; // closed meanwhile
    }
  }).length;

describe('a stage written in batches', () => {
  test.each([1, 3, 64])('batches of %i: every file is there, whole, and every descriptor closed', (batch) => {
    const stage = tempDir('fwgen-stage-');
    const writer = new StageWriter(stage, batch);
    const rels = Array.from({ length: 40 }, (_, i) => `site-${i % 4}/target/file-${i}.txt`);
    try {
      rels.forEach((rel, i) => writer.add(rel, `content ${i}\n`.repeat(i + 1)));
      // at most two batches are open: the one flushing and the one filling
      expect(openUnder(stage)).toBeLessThanOrEqual(2 * batch);
      writer.finish();
    } finally {
      writer.close();
    }
    expect(openUnder(stage)).toBe(0);
    rels.forEach((rel, i) => expect(fs.readFileSync(path.join(stage, rel), 'utf8')).toBe(`content ${i}\n`.repeat(i + 1)));
  });

  test('a file that cannot be made fails naming it; close() then releases what the earlier batches hold', () => {
    const stage = tempDir('fwgen-stage-');
    const writer = new StageWriter(stage, 3);
    for (let i = 0; i < 7; i++) writer.add(`a/f${i}`, 'x');
    // the stage already holds a/f0: a new file is never written over one
    expect(() => writer.add('a/f0', 'y')).toThrow(expect.objectContaining({ code: 'EEXIST', path: path.join(path.dirname(stage), 'a/f0') }));
    expect(openUnder(stage)).toBeGreaterThan(0);
    writer.close();
    expect(openUnder(stage)).toBe(0);
  });
});
