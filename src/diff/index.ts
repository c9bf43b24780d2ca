import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors';
import type { OpenWorkspace } from '../workspace/sites';
import { readingBase } from './base-errors';
import { checkoutToTemp, openBase } from './base-tree';
import { compare } from './compare';
import { emptySnapshot, snapshot } from './snapshot';
import type { ChangeSet } from './types';

export { formatMarkdown } from './format-markdown';
export { formatText } from './format-text';
export type { ChangeSet } from './types';

export interface DiffRequest {
  /** A Git revision of the workspace's repository; default: the merge base with the default branch. */
  base?: string;
  /** A folder holding the base version of the workspace instead. */
  baseDir?: string;
}

/** The workspace as it is now against its base: a Git revision or another folder. */
export async function diffWorkspace(head: OpenWorkspace, req: DiffRequest): Promise<ChangeSet> {
  if (req.baseDir !== undefined) {
    const root = path.resolve(req.baseDir);
    if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new FileError(req.baseDir, 'not a folder (--base-dir)');
    const before = await readingBase({ dir: req.baseDir }, root, async () => {
      const base = openBase(head, root);
      return base ? await snapshot(base, req.baseDir!) : emptySnapshot(req.baseDir!);
    });
    return compare(before, await snapshot(head, 'working tree'));
  }
  const tree = checkoutToTemp(head.root, req.base);
  try {
    const rel = path.relative(fs.realpathSync(tree.repoRoot), fs.realpathSync(head.root));
    const baseRoot = path.join(tree.dir, rel);
    const label = req.base ?? `merge base ${tree.rev.slice(0, 12)}`;
    const before = await readingBase({ rev: req.base ?? tree.rev.slice(0, 12) }, baseRoot, async () => {
      const base = openBase(head, baseRoot);
      return base ? await snapshot(base, label) : emptySnapshot(label);
    });
    return compare(before, await snapshot(head, 'working tree'));
  } finally {
    tree.dispose();
  }
}
