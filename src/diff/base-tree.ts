import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileError } from '../errors';
import { bundledCatalog } from '../util/paths';
import { isInside } from '../fs';
import { openWorkspace, type OpenWorkspace } from '../workspace/sites';

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

/**
 * The repository at `ref`, unpacked into a temporary folder with git archive; the working
 * tree and index are never touched. Call `dispose` when done.
 */
export function checkoutToTemp(workspaceRoot: string, ref: string | undefined): { dir: string; repoRoot: string; rev: string; dispose(): void } {
  const { repoRoot, rev } = resolveRevision(workspaceRoot, ref);
  const wanted = ref ?? rev;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fwgen-base-'));
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const tar = path.join(dir, '.base.tar');
    const arch = git(repoRoot, ['archive', '--format=tar', '-o', tar, rev]);
    if (!arch.ok) throw new GitError(repoRoot, `git archive ${wanted}: ${arch.err}`);
    const x = spawnSync('tar', ['-xf', tar, '-C', dir], { encoding: 'utf8' });
    if (x.status !== 0) throw new GitError(dir, `cannot unpack ${wanted}: ${x.stderr || x.error?.message}`);
    fs.rmSync(tar);
  } catch (err) {
    dispose();
    throw err;
  }
  return { dir, repoRoot, rev, dispose };
}

/**
 * The base side's workspace: the same fwgen.yaml path under `baseRoot` (the base workspace
 * folder), or none when the base has no workspace yet. Files shipped with fwgen come from
 * the installed package, except in fwgen's own checkout, where the base revision holds them.
 */
export function openBase(head: OpenWorkspace, baseRoot: string): OpenWorkspace | undefined {
  const file = path.join(baseRoot, path.basename(head.file));
  if (!fs.existsSync(file)) return undefined;
  const inBase = isInside(head.root, bundledCatalog) ? path.join(baseRoot, path.relative(head.root, bundledCatalog)) : undefined;
  return openWorkspace(file, inBase !== undefined && fs.existsSync(path.join(inBase, 'device-classes.yaml')) ? inBase : undefined);
}
