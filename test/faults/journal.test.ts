import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../../src/errors';
import { writeOutput } from '../../src/output';
import { applyJournal, commitJournal, JOURNAL_NAME, makeStage, recoverFolder, stageFile, type Journal } from '../../src/output/journal';
import { tempDir } from '../helpers';
import { leftovers, snapshot } from './tree';

/** The journal's replay, step by step: every point a kill can land on after the commit. */
describe('output journal', () => {
  const oldFiles = [
    { path: 'site/nftables/a.nft', content: 'old a\n' },
    { path: 'site/nftables/b.nft', content: 'old b\n' },
    { path: 'site/nftables/gone.nft', content: 'old gone\n' },
  ];
  const newFiles = [
    { path: 'site/nftables/a.nft', content: 'new a\n' },
    { path: 'site/nftables/b.nft', content: 'new b\n' },
    { path: 'site/nftables/sub/c.nft', content: 'new c\n' },
  ];
  const expectedNew = new Map(newFiles.map((f) => [f.path.replace('site/', ''), f.content]));

  /** A folder with the old set and a committed journal for the new one, applied `steps` moves far. */
  function committedAndKilledAfter(steps: number): string {
    const root = tempDir();
    writeOutput(root, oldFiles, ['site/nftables']);
    const stage = makeStage(root);
    const journal: Journal = { version: 1, pid: 4242, stage: path.basename(stage), write: newFiles.map((f) => f.path), remove: ['site/nftables/gone.nft'], prune: ['site/nftables'] };
    for (const f of newFiles) stageFile(stage, f.path, f.content);
    commitJournal(root, journal);
    // what applyJournal had done when the kill came: removals, then the first `steps` moves
    fs.rmSync(path.join(root, 'site/nftables/gone.nft'));
    for (const rel of journal.write.slice(0, steps)) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.renameSync(path.join(stage, rel), path.join(root, rel));
    }
    return root;
  }

  test.each([0, 1, 2, 3])('killed after %i of 3 moves: the next run completes the new set', (steps) => {
    const root = committedAndKilledAfter(steps);
    expect(recoverFolder(root)).toBe(4242);
    expect(snapshot(path.join(root, 'site', 'nftables'))).toEqual(new Map([...expectedNew].map(([k, v]) => [k.replace('nftables/', ''), v])));
    expect(leftovers(root)).toEqual([]);
  });

  test('without Git, outside any repository, an interrupted render is still completed', () => {
    const root = committedAndKilledAfter(1);
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent'; // git cannot be found; nor is there a repository to ask about
    try {
      expect(recoverFolder(root)).toBe(4242);
    } finally {
      process.env.PATH = saved;
    }
    expect(leftovers(root)).toEqual([]);
  });

  test('replaying a journal twice changes nothing more', () => {
    const root = committedAndKilledAfter(1);
    const journal = JSON.parse(fs.readFileSync(path.join(root, JOURNAL_NAME), 'utf8')) as Journal;
    applyJournal(root, journal);
    const once = snapshot(root);
    fs.writeFileSync(path.join(root, JOURNAL_NAME), JSON.stringify(journal));
    applyJournal(root, journal);
    expect(snapshot(root)).toEqual(once);
  });

  test('a render into the folder completes the journal first and says so', () => {
    const root = committedAndKilledAfter(2);
    const summary = writeOutput(root, [{ path: 'other/pfsense/config.xml', content: '<x/>\n' }], ['other/pfsense']);
    expect(summary.completedInterrupted).toBe(4242);
    expect(snapshot(path.join(root, 'site'))).toEqual(expectedNew);
  });

  test('a journal that is not fwgen\'s is refused with one line, and nothing is touched', () => {
    const root = tempDir();
    writeOutput(root, oldFiles, ['site/nftables']);
    fs.writeFileSync(path.join(root, JOURNAL_NAME), JSON.stringify({ version: 1, pid: 1, stage: '../../etc', write: ['x'], remove: [], prune: [] }));
    const before = snapshot(path.join(root, 'site'));
    expect(() => writeOutput(root, newFiles, ['site/nftables'])).toThrow(FileError);
    expect(() => writeOutput(root, newFiles, ['site/nftables'])).toThrow(/not a journal this fwgen wrote; check the output folder against Git, then remove the file/);
    expect(snapshot(path.join(root, 'site'))).toEqual(before);
  });

  test('unchanged files keep their inode and time; the summary lists what moved', () => {
    const root = tempDir();
    writeOutput(root, oldFiles, ['site/nftables']);
    const before = fs.statSync(path.join(root, 'site/nftables/b.nft'));
    const summary = writeOutput(root, [oldFiles[0]!, { ...oldFiles[1]! }, { path: 'site/nftables/d.nft', content: 'd\n' }], ['site/nftables']);
    expect(summary).toEqual({ written: ['site/nftables/d.nft'], unchanged: ['site/nftables/a.nft', 'site/nftables/b.nft'], removed: ['site/nftables/gone.nft'], completedInterrupted: undefined });
    const after = fs.statSync(path.join(root, 'site/nftables/b.nft'));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });
});
