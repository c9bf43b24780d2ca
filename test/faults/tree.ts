import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers';

/** Every file under `dir` (relative path → content); empty when `dir` is missing. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.set(path.relative(dir, full), fs.readFileSync(full, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

export function sameTree(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** fwgen's own bookkeeping and temporary files anywhere under `dir`: none may outlive a run. */
export function leftovers(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (/^\.fwgen|fwgen-tmp|\.tmp-\d+$/.test(e.name)) found.push(path.relative(dir, full));
      if (e.isDirectory()) walk(full);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found.sort();
}

export interface Spawned {
  kill(): void;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts the real binary without waiting for it, so a test can kill it half-way. */
export function spawnFwgen(args: string[]): Spawned {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    kill: () => child.kill('SIGKILL'),
    done: new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stderr }))),
  };
}

/** How the runs of a kill test ended. */
export interface KillTally {
  old: number;
  new: number;
  completedByNextRun: number;
}

/**
 * After the run that followed a kill into `out`: `after` (the tree then) is the old set or the
 * new one, the new one completed by that run when the kill left `out` not whole, and nothing
 * of fwgen's own is left there. Counts the outcome in `tally`.
 */
export function tallyAfterKill(tally: KillTally, o: { run: number; out: string; after: Map<string, string>; oldSet: Map<string, string>; newSet: Map<string, string>; whole: boolean; nextStderr: string }): void {
  const isOld = sameTree(o.after, o.oldSet);
  const isNew = sameTree(o.after, o.newSet);
  if (!isOld && !isNew) throw new Error(`run ${o.run}: ${o.out} is a mix of the old and the new set`);
  if (!o.whole) {
    expect(isNew).toBe(true);
    expect(o.nextStderr).toMatch(/completed the interrupted render of fwgen pid \d+/);
    tally.completedByNextRun++;
  }
  tally[isOld ? 'old' : 'new']++;
  expect(leftovers(o.out)).toEqual([]);
}
