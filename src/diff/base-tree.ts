import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundledCatalog } from '../util/paths';
import { isInside } from '../fs';
import { openWorkspace, type OpenWorkspace } from '../workspace/sites';
import { git, GitError, resolveRevision } from '../fs/git';

export { defaultBase, git, GitError, resolveRevision } from '../fs/git';

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
