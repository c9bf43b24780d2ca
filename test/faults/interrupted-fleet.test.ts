import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateFleet } from '../../src/workspace/fleet';
import { repoRoot, runBinary, tempDir } from '../helpers';
import { bigSite } from './big-site';
import { sameTree, snapshot, spawnFwgen, tallyAfterKill, type KillTally } from './tree';

/**
 * kill -9 at random points of a fleet's render by worker threads, each writing its sites'
 * files in small batches and flushing one batch while it renders the next: the output folder
 * must hold exactly the old set or exactly the new one once the next run has gone through it,
 * since the journal is committed only after every batch of every worker is on disk.
 * FWGEN_KILL_RUNS sets the number of runs (default 6).
 */
const runs = Number(process.env.FWGEN_KILL_RUNS ?? 6);
jest.setTimeout(Math.max(180_000, runs * 40_000));

const TUNED = { FWGEN_FLEET_MIN_PER_WORKER: '5', FWGEN_FLEET_CHUNK: '2', FWGEN_STAGE_BATCH: '5' };

describe('a fleet render killed at a random point', () => {
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build`');
    for (const [k, v] of Object.entries(TUNED)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  test(`leaves the old set or the new set of every site, never a mix (${runs} runs)`, async () => {
    const root = tempDir('fwgen-fleet-kill-');
    const sites = generateFleet(path.join(repoRoot, 'examples/eu-restaurant-aloha.yaml'), path.join(root, 'sites'), 30);
    const workspace = path.join(root, 'fwgen.yaml');
    fs.writeFileSync(workspace, 'sites: [sites/*.yaml]\n');
    const render = (out: string) => ['render', '-w', workspace, '-o', out, '--wait', '60'];
    // The fleet's files: not the other site's, nor fwgen's bookkeeping (a stage, a journal, a lock).
    const fleetOf = (out: string) => new Map([...snapshot(out)].filter(([rel]) => !rel.startsWith('other-site/') && !rel.startsWith('.fwgen')));

    const refOld = tempDir();
    expect(runBinary(render(refOld)).status).toBe(0);
    // Every site moves its resolver: each of its files changes.
    for (const file of sites) fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('192.0.2.53', '192.0.2.54'));
    const refNew = tempDir();
    const started = Date.now();
    const fresh = runBinary(render(refNew));
    expect(fresh.stderr).not.toMatch(/internal error/);
    expect(fresh.status).toBe(0);
    const duration = Date.now() - started;
    const oldSet = fleetOf(refOld);
    const newSet = fleetOf(refNew);
    // Many batches of 5 per worker: kills land between the flushes of one batch and the next.
    expect(newSet.size).toBeGreaterThan(600);
    expect(sameTree(oldSet, newSet)).toBe(false);
    const other = bigSite(1, 1);

    const seen: KillTally = { old: 0, new: 0, completedByNextRun: 0 };
    for (let i = 0; i < runs; i++) {
      const out = tempDir('fwgen-fleet-kill-');
      fs.cpSync(refOld, out, { recursive: true });
      const child = spawnFwgen(render(out));
      await new Promise((r) => setTimeout(r, duration * (0.2 + Math.random() * 0.9)));
      child.kill();
      await child.done;

      const now = fleetOf(out);
      const whole = sameTree(now, oldSet) || sameTree(now, newSet);
      if (!whole) expect(fs.existsSync(path.join(out, '.fwgen.journal'))).toBe(true);

      // The next run into the same folder (another site) completes or discards the killed one first.
      const next = runBinary(['render', '--catalog', other.catalog, '-p', other.profile(0, 'other-site'), '-o', out, '--wait', '60']);
      if (next.status !== 0) throw new Error(`run ${i}: the next run failed (${next.status}): ${next.stderr}`);
      tallyAfterKill(seen, { run: i, out, after: fleetOf(out), oldSet, newSet, whole, nextStderr: next.stderr });
      fs.rmSync(out, { recursive: true, force: true });
    }
    if (process.env.FWGEN_KILL_VERBOSE) console.log({ duration, ...seen });
    expect(seen.old + seen.new).toBe(runs);
  });
});
