import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors';
import { escapeUnsafe } from '../util/unsafe-chars';
import type { OpenWorkspace } from '../workspace/sites';
import { readingBase } from './base-errors';
import { checkoutToTemp } from './base-tree';
import { compare } from './compare';
import { notComparedNote } from './notes';
import { addKeptSites, baseSide, headSide } from './sides';
import { partialBaseTree, shortcutNote, unchangedSince } from '../workspace/incremental';
import type { ChangeSet } from './types';

export { formatMarkdown } from './format-markdown';
export { formatText } from './format-text';
export type { ChangeSet } from './types';

export interface DiffRequest {
  /** A Git revision of the workspace's repository; default: the merge base with the default branch. */
  base?: string;
  /** A folder holding the base version of the workspace instead. */
  baseDir?: string;
  /** Render every site of the head, even those the base revision's render records show unchanged. */
  full?: boolean;
  /**
   * A site not rendered again is compared from its base snapshot (its edges in the JSON
   * report); without, only what the text and markdown reports show of an unchanged site is
   * made: its name, its file and its address lists.
   */
  unchangedDetail?: boolean;
  /** Told the line that says what the base let diff skip. */
  note?: (line: string) => void;
}

/**
 * The workspace as it is now against its base (a Git revision or another folder): the
 * policy each base site committed (out/<site>/policy.json) against a fresh render.
 */
export async function diffWorkspace(head: OpenWorkspace, req: DiffRequest): Promise<ChangeSet> {
  if (req.baseDir !== undefined) {
    const root = path.resolve(req.baseDir);
    if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new FileError(req.baseDir, 'not a folder (--base-dir)');
    const base = await readingBase({ dir: req.baseDir }, root, () => baseSide(head, root, req.baseDir!));
    return compare(base, await headSide(head, 'working tree'));
  }
  const cut = req.full ? undefined : await unchangedSince(head, req.base, head.output, { listBase: true });
  if (cut) req.note?.(shortcutNote(cut));
  if (cut?.repo && cut.kept.length > 0) {
    // Sites left as the base committed them are neither unpacked nor rendered: the same state
    // on both sides. The base is unpacked by git while this process renders the head's sites;
    // the base's errors are still the ones reported first.
    const unpacking = partialBaseTree(head, cut);
    const rendering = headSide(head, 'working tree', cut.render);
    rendering.catch(() => undefined); // awaited below, after the base
    let tree: Awaited<typeof unpacking> | undefined;
    try {
      tree = await unpacking;
      const baseRoot = path.join(tree.dir, cut.repo.wsRel);
      const rev = cut.repo.rev.slice(0, 12);
      const base = await readingBase({ rev: req.base ?? rev }, baseRoot, () => baseSide(head, baseRoot, req.base ?? `merge base ${rev}`));
      const side = await rendering;
      addKeptSites(base, side, head, cut, req.unchangedDetail ?? true);
      return compare(base, side);
    } catch (err) {
      await Promise.allSettled([rendering]); // no render left running behind the error
      throw err;
    } finally {
      tree?.dispose();
    }
  }
  const tree = checkoutToTemp(head.root, req.base);
  try {
    const rel = path.relative(fs.realpathSync(tree.repoRoot), fs.realpathSync(head.root));
    const baseRoot = path.join(tree.dir, rel);
    const label = req.base ?? `merge base ${tree.rev.slice(0, 12)}`;
    const base = await readingBase({ rev: req.base ?? tree.rev.slice(0, 12) }, baseRoot, () => baseSide(head, baseRoot, label));
    return compare(base, await headSide(head, 'working tree'));
  } finally {
    tree.dispose();
  }
}

/** What stderr says besides the report: the sites whose catalog changes were not compared. */
export function baseNotes(cs: ChangeSet): string[] {
  return cs.catalogNotCompared.length > 0 ? [`fwgen: ${notComparedNote(cs.catalogNotCompared.map(escapeUnsafe))}`] : [];
}
