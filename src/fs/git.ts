import { spawnSync } from 'node:child_process';
import { FileError } from '../errors';

/**
 * Git run on the repository a workspace sits in, and the revisions a base is named by: what
 * diff (the base side) and the incremental check (the base's render records) both ask.
 */
export class GitError extends FileError {}

export function git(cwd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw new GitError(cwd, `cannot run git: ${r.error.message}`);
  return { ok: r.status === 0, out: r.stdout.trim(), err: r.stderr.trim() };
}

/** The merge base of HEAD with the default branch (origin's HEAD, else main or master). */
export function defaultBase(repo: string): string {
  const candidates: string[] = [];
  const originHead = git(repo, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD']);
  if (originHead.ok && originHead.out) candidates.push(originHead.out);
  candidates.push('origin/main', 'origin/master', 'main', 'master');
  for (const c of candidates) {
    if (!git(repo, ['rev-parse', '--verify', '--quiet', `${c}^{commit}`]).ok) continue;
    const mb = git(repo, ['merge-base', 'HEAD', c]);
    if (mb.ok) return mb.out;
  }
  throw new GitError(repo, 'no default branch to compare with (origin/HEAD, main or master); name one with --base REF');
}

/** The repository holding the workspace and the commit `ref` names (default: the merge base with the default branch). */
export function resolveRevision(workspaceRoot: string, ref: string | undefined): { repoRoot: string; rev: string } {
  const top = git(workspaceRoot, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new GitError(workspaceRoot, `not inside a Git repository (${top.err}); compare folders with --base-dir`);
  const repoRoot = top.out;
  const wanted = ref ?? defaultBase(repoRoot);
  const rev = git(repoRoot, ['rev-parse', '--verify', '--quiet', `${wanted}^{commit}`]);
  if (!rev.ok) throw new GitError(repoRoot, `unknown revision '${wanted}'`);
  return { repoRoot, rev: rev.out };
}
