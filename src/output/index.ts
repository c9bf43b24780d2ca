import * as path from 'node:path';
import { LinkGuard } from '../fs';
import type { RenderedFile } from '../targets/render';
import { OutputTransaction, staleOf, type WriteSummary } from './transaction';

/** For a command about to render into a folder: the write's flushes get ready meanwhile. */
export { warmFlusher } from './flush';
export { isBookkeeping } from './journal';
export { checkOutputFolder, joinChanges, OutputTransaction, SetStager, staleOf, type Removal, type SetChanges, type WriteSummary } from './transaction';

export interface WriteOptions {
  /** How long to wait for another fwgen run writing into the same folder. */
  waitMs?: number;
}

/**
 * Writes rendered files under `root` as one set (see OutputTransaction): unchanged files are
 * not touched; files in the owned folders that the render no longer produces are removed.
 * `root` is trusted as named (a workspace checks its output folder when it loads); below it,
 * a link where fwgen would read, write or delete is refused before anything changes.
 */
export function writeOutput(root: string, files: RenderedFile[], ownedDirs: string[], o: WriteOptions = {}): WriteSummary {
  const tx = OutputTransaction.begin(root, o.waitMs ?? 30_000);
  let changes;
  const stager = tx.stager();
  try {
    changes = stager.add(files, ownedDirs);
    stager.finish();
  } catch (err) {
    throw tx.fail(err);
  } finally {
    stager.close();
  }
  return tx.commit(changes, ownedDirs);
}

/** Every file below `dir` (absolute paths, sorted); a link there is refused, never followed. */
export function listFiles(dir: string): string[] {
  return new LinkGuard(path.resolve(dir)).listFiles('');
}

/** Which files under `root` differ from a render: missing, changed, or no longer produced. Never reads through a link. */
export function staleFiles(root: string, files: RenderedFile[], ownedDirs: string[]): string[] {
  return staleOf(root, files, ownedDirs).sort();
}
