import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What Git says about files fwgen keeps for itself: tracked ones, or why it could not tell. */
export type TrackedAnswer = { tracked: string[] } | { unknown: string };

/**
 * Which of `names` (in `dir`, folders included with what they hold) the Git repository
 * holding `dir` tracks: a pull request can only have put a file there by committing it.
 * Asked once per call, and only when there is something to ask about. Without a repository
 * nothing is tracked; where Git is missing or refuses to answer (an unsafe repository
 * owner, a broken index) inside a repository, the answer is unknown, which a caller treats
 * as tracked.
 */
export function trackedByGit(dir: string, names: string[]): TrackedAnswer {
  if (names.length === 0) return { tracked: [] };
  const r = spawnSync('git', ['-C', dir, 'ls-files', '-z', '--', ...names.map((n) => `:(literal)${n}`)], {
    encoding: 'utf8',
    env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status === 0) return { tracked: r.stdout.split('\0').filter((f) => f !== '') };
  if (!insideRepository(dir)) return { tracked: [] };
  if (r.error) return { unknown: `git cannot be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})` };
  const said = (r.stderr ?? '').split('\n').find((l) => l.trim() !== '') ?? `exit ${r.status}`;
  return { unknown: `git says: ${said.trim().slice(0, 200)}` };
}

/** A `.git` (folder, or the file of a worktree) in `dir` or a folder above it. */
function insideRepository(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return true;
    if (path.dirname(d) === d) return false;
  }
}
