import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBinary, tempDir } from '../helpers';
import { bigSite } from './big-site';
import { leftovers, sameTree, snapshot, spawnFwgen } from './tree';

jest.setTimeout(180_000);

describe('renders into the same output folder at the same time', () => {
  const site = bigSite(12, 60);
  const oldProfile = site.profile(0);
  const newProfile = site.profile(1);
  const args = (profile: string, out: string, wait = 60) => ['render', '--catalog', site.catalog, '-p', profile, '-o', out, '--wait', String(wait)];
  let oldSet: Map<string, string>;
  let newSet: Map<string, string>;

  beforeAll(() => {
    const refOld = tempDir();
    const refNew = tempDir();
    expect(runBinary(args(oldProfile, refOld)).status).toBe(0);
    expect(runBinary(args(newProfile, refNew)).status).toBe(0);
    oldSet = snapshot(path.join(refOld, 'big-site'));
    newSet = snapshot(path.join(refNew, 'big-site'));
  });

  test('both finish, one after the other; the folder holds one whole set', async () => {
    for (let i = 0; i < 4; i++) {
      const out = tempDir();
      const a = spawnFwgen(args(oldProfile, out));
      const b = spawnFwgen(args(newProfile, out));
      const [ra, rb] = await Promise.all([a.done, b.done]);
      for (const r of [ra, rb]) {
        expect(r.stderr).not.toMatch(/internal error|ENOENT|\n\s+at /);
        expect(r.status).toBe(0);
      }
      const now = snapshot(path.join(out, 'big-site'));
      expect(sameTree(now, oldSet) || sameTree(now, newSet)).toBe(true);
      expect(leftovers(out)).toEqual([]);
    }
  });

  test('a run that may not wait fails with one clear line while another holds the folder, and changes nothing', () => {
    const out = tempDir();
    expect(runBinary(args(oldProfile, out)).status).toBe(0);
    // This test process is alive: its lock is not stale.
    fs.writeFileSync(path.join(out, '.fwgen.lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), since: '2026-01-01T00:00:00.000Z' }) + '\n');
    const r = runBinary(args(newProfile, out, 0));
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').filter((l) => !/warning/.test(l))).toEqual([
      `${out}: in use by fwgen (pid ${process.pid} on ${os.hostname()}, since 2026-01-01T00:00:00.000Z); waited 0 s. If no fwgen is running there, remove ${path.join(out, '.fwgen.lock')}`,
      '',
    ]);
    expect(sameTree(snapshot(path.join(out, 'big-site')), oldSet)).toBe(true);
  });

  test('a lock left by a killed run (its process is gone) is taken over', () => {
    const out = tempDir();
    const dead = spawnSync('true').pid;
    fs.writeFileSync(path.join(out, '.fwgen.lock'), JSON.stringify({ pid: dead, host: os.hostname(), since: '2026-01-01T00:00:00.000Z' }) + '\n');
    fs.writeFileSync(path.join(out, `.fwgen.lock.${dead}`), 'left between write and link');
    const r = runBinary(args(newProfile, out, 0));
    expect(r.status).toBe(0);
    expect(sameTree(snapshot(path.join(out, 'big-site')), newSet)).toBe(true);
    expect(leftovers(out)).toEqual([]);
  });
});
