import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, runBinary, runInProcess, tempDir } from '../helpers';
import { bigSite } from './big-site';
import { leftovers, sameTree, snapshot, spawnFwgen, tallyAfterKill, type KillTally } from './tree';

/**
 * kill -9 at random points of a large render: the output folder must hold exactly the old
 * set or exactly the new one once the next run has gone through it (a committed journal is
 * completed then), and no temporary file may remain. FWGEN_KILL_RUNS sets the number of
 * runs (default 20).
 */
const runs = Number(process.env.FWGEN_KILL_RUNS ?? 20);
jest.setTimeout(Math.max(120_000, runs * 20_000));

describe('a render killed at a random point', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build`');
  });

  test(`leaves the old set or the new set, never a mix (${runs} runs)`, async () => {
    const site = bigSite(25, 100);
    const oldProfile = site.profile(0);
    const newProfile = site.profile(1);
    const otherProfile = bigSite(1, 1);
    const render = (profile: string, out: string, catalog = site.catalog) => ['render', '--catalog', catalog, '-p', profile, '-o', out, '--wait', '60'];

    const refOld = tempDir();
    const refNew = tempDir();
    expect(runBinary(render(oldProfile, refOld)).status).toBe(0);
    const started = Date.now();
    expect(runBinary(render(newProfile, refNew)).status).toBe(0);
    const duration = Date.now() - started;
    const oldSet = snapshot(path.join(refOld, 'big-site'));
    const newSet = snapshot(path.join(refNew, 'big-site'));
    expect(oldSet.size).toBeGreaterThan(150);
    expect(sameTree(oldSet, newSet)).toBe(false);

    const seen: KillTally = { old: 0, new: 0, completedByNextRun: 0 };
    for (let i = 0; i < runs; i++) {
      const out = tempDir('fwgen-kill-');
      fs.cpSync(refOld, out, { recursive: true });
      const child = spawnFwgen(render(newProfile, out));
      await new Promise((r) => setTimeout(r, duration * (0.3 + Math.random() * 0.8)));
      child.kill();
      await child.done;

      // Right after the kill: either whole, or a journal is there for the next run to complete.
      const now = snapshot(path.join(out, 'big-site'));
      const whole = sameTree(now, oldSet) || sameTree(now, newSet);
      if (!whole) expect(fs.existsSync(path.join(out, '.fwgen.journal'))).toBe(true);

      // The next run into the same folder (another site) goes through it first. It runs in this
      // process: what it does with the journal is the point, not how a process exits; the
      // renders that are killed, and the references, are the real binary.
      const next = await runInProcess(render(otherProfile.profile(0, 'other-site'), out, otherProfile.catalog));
      expect(next.stderr).not.toMatch(/internal error/);
      expect(next.status).toBe(0);
      tallyAfterKill(seen, { run: i, out, after: snapshot(path.join(out, 'big-site')), oldSet, newSet, whole, nextStderr: next.stderr });
      fs.rmSync(out, { recursive: true, force: true });
    }
    if (process.env.FWGEN_KILL_VERBOSE) console.log({ duration, ...seen });
    expect(seen.old + seen.new).toBe(runs);
  });

  test('the next run removes the temporary files of a killed run of an earlier fwgen', () => {
    const site = bigSite(2, 2);
    const out = tempDir();
    expect(runBinary(['render', '--catalog', site.catalog, '-p', site.profile(0), '-o', out]).status).toBe(0);
    const owned = path.join(out, 'big-site', 'nftables');
    const left = path.join(owned, `class-000.nft.fwgen-tmp-99999`);
    fs.writeFileSync(left, 'half a file');
    const r = runBinary(['render', '--catalog', site.catalog, '-p', site.profile(0), '-o', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/^removed /m);
    expect(fs.existsSync(left)).toBe(false);
    expect(leftovers(out)).toEqual([]);
  });
});
