import * as fs from 'node:fs';
import * as path from 'node:path';
import { readBlobs, streamBlobs } from '../../src/fs/git';
import { treeIdOf } from '../../src/fs/git-tree';
import { tempDir } from '../helpers';
import { git } from '../diff/fixture';

/*
 * What the incremental check asks of git, against git itself: the batch reader that hands
 * the base's records over as they come, and the tree ids it computes from a record to compare
 * with the base's folders.
 */

function repoWith(files: Record<string, string | Buffer>): string {
  const repo = tempDir('fwgen-incr-git-');
  git(repo, ['init', '-q']);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    fs.writeFileSync(path.join(repo, rel), content);
  }
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'files']);
  return repo;
}

test('blobs come whole and in order, across chunks, past a missing name and an object that is not a blob', async () => {
  // Larger than a pipe's chunk, so that it straddles several; the bytes include newlines and NULs.
  const big = Buffer.alloc(300_000, 0);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  const repo = repoWith({ 'a.txt': 'first\n', 'dir/big.bin': big, 'dir/inputs.json/x': 'a folder named like a record\n', 'z.txt': 'last' });
  const wanted = [
    ['a', 'HEAD:a.txt'],
    ['missing', 'HEAD:nothing-here'],
    ['folder', 'HEAD:dir/inputs.json'],
    ['big', 'HEAD:dir/big.bin'],
    ['z', 'HEAD:z.txt'],
  ] as const;
  const streamed: Array<[string, string, string]> = [];
  await streamBlobs(repo, wanted, (key, bytes, id) => streamed.push([key, bytes.toString('hex'), id]));
  const read = readBlobs(repo, wanted).map(([key, bytes, id]) => [key, bytes.toString('hex'), id]);
  const id = (rel: string) => git(repo, ['rev-parse', `HEAD:${rel}`]).trim();
  expect(streamed).toEqual([
    ['a', Buffer.from('first\n').toString('hex'), id('a.txt')],
    ['big', big.toString('hex'), id('dir/big.bin')],
    ['z', Buffer.from('last').toString('hex'), id('z.txt')],
  ]);
  expect(read).toEqual(streamed);
});

test('a failing git is an error, not an empty answer', async () => {
  const dir = tempDir('fwgen-incr-nogit-');
  await expect(streamBlobs(path.join(dir, 'no-such-folder'), [['a', 'HEAD:a']], () => undefined)).rejects.toThrow();
});

test("a folder's tree id computed from its files is git's, whatever order they are listed in", () => {
  const files: Record<string, string> = {
    'site/inputs.json': '{}\n',
    'site/ansible/site.yml': 'plays\n',
    'site/ansible/tasks/linux-apply.yml': 'tasks\n',
    'site/ansible-x.yml': 'sorts before ansible/ in git\n',
    'site/ansible0.yml': 'sorts after ansible/ in git\n',
    'site/nftables/site.nft': 'table\n',
    'site/policy.json': '{"policy":1}\n',
  };
  const repo = repoWith(files);
  const listed = git(repo, ['ls-tree', '-r', 'HEAD:site'])
    .trim()
    .split('\n')
    .map((line) => {
      const [meta, rel] = line.split('\t');
      return [rel!, meta!.split(' ')[2]!] as [string, string];
    });
  const want = git(repo, ['rev-parse', 'HEAD:site']).trim();
  expect(treeIdOf(listed)).toBe(want);
  expect(treeIdOf([...listed].reverse())).toBe(want);
  // Another id, a file more or less, or an id that is not one: another tree, or none.
  const [first, ...rest] = listed;
  expect(treeIdOf([[first![0], 'f'.repeat(40)], ...rest])).not.toBe(want);
  expect(treeIdOf(rest)).not.toBe(want);
  expect(treeIdOf([...listed, ['stray.txt', first![1]]])).not.toBe(want);
  expect(treeIdOf([[first![0], first![1].toUpperCase()], ...rest])).toBe('');
  expect(treeIdOf([[first![0], 'xyz'], ...rest])).toBe('');
});
