/**
 * The render's fsyncs run on libuv's thread pool, which the CLI's entry sizes to 32 threads
 * (output/thread-pool.ts) before anything uses it: libuv reads UV_THREADPOOL_SIZE once, when
 * the pool is first used, so anything that uses it first leaves it at 4 threads. The variable
 * is set only for that moment: the git fwgen starts gets the environment the user gave.
 * Observed from a git fwgen runs during a render (to ask whether a stage left in out/ is
 * tracked): a stand-in on PATH notes its environment and its parent's thread count, then runs
 * the real git.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, tempDir } from '../helpers';
import { FSYNC_THREADS } from '../../src/output/thread-pool';
import { storesWorkspace, storeText } from './stores';

function realGit(): string {
  const r = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('git is not installed');
  return r.stdout.trim();
}

/** Renders a workspace whose out/ holds a stage a killed run left, with a git on PATH that notes what it was given. */
function renderSeenByGit(env: NodeJS.ProcessEnv): { variable: string; parentThreads: number } {
  const root = storesWorkspace({ 'store-1': storeText('store-1') });
  fs.mkdirSync(path.join(root, 'out', '.fwgen-stage-left'), { recursive: true });
  const bin = tempDir('fwgen-git-');
  const notes = path.join(bin, 'notes');
  fs.writeFileSync(
    path.join(bin, 'git'),
    `#!/bin/sh\necho "\${UV_THREADPOOL_SIZE-unset} $(ls /proc/$PPID/task | wc -l)" >> '${notes}'\nexec '${realGit()}' "$@"\n`,
    { mode: 0o755 },
  );
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), 'render', '--no-cache'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...env, PATH: `${bin}${path.delimiter}${process.env.PATH}` },
  });
  expect(r.stderr).toMatch(/^1 site, 6 targets$/m);
  expect(r.status).toBe(0);
  const seen = fs.readFileSync(notes, 'utf8').trim().split('\n');
  expect(seen).toHaveLength(1);
  const [variable, threads] = seen[0]!.split(' ');
  return { variable: variable!, parentThreads: Number(threads) };
}

describe("the thread pool of a render's fsyncs", () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build`');
  });

  test('sized before anything used it, and not in the environment of the git fwgen runs', () => {
    const env = { ...process.env };
    delete env.UV_THREADPOOL_SIZE;
    const seen = renderSeenByGit(env);
    expect(seen.variable).toBe('unset');
    // Node's own threads (the main thread, V8's) besides the pool.
    expect(seen.parentThreads).toBeGreaterThan(FSYNC_THREADS);
  });

  test("the user's own size is kept, and passed on as the user gave it", () => {
    const seen = renderSeenByGit({ ...process.env, UV_THREADPOOL_SIZE: '2' });
    expect(seen.variable).toBe('2');
    expect(seen.parentThreads).toBeLessThan(FSYNC_THREADS);
  });
});
