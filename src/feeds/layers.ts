import * as path from 'node:path';
import type { Workspace } from '../site/workspace-file';
import { isInside } from '../fs';

/** The catalog folders `lists update` reads, laid over each other, and those it may rewrite. */
export interface CatalogLayers {
  /** In load order: a later folder's file replaces an earlier one's of the same name. */
  all: string[];
  /** The folders whose list and vendor files are rewritten; the others are only read. */
  writable: string[];
}

/** Outside a workspace: the one catalog named (by default the shipped one), read and written. */
export function singleCatalog(dir: string): CatalogLayers {
  const abs = path.resolve(dir);
  return { all: [abs], writable: [abs] };
}

/**
 * A workspace rewrites its own catalog folders (those fwgen.yaml names). The shipped catalog
 * comes first: an installed fwgen's (in node_modules, or installed globally) is not
 * committed, so an update there would reach no review and is only read. In fwgen's own
 * checkout the shipped catalog is the repository's catalog/, the workspace's own files.
 */
export function workspaceLayers(ws: Workspace): CatalogLayers {
  const [shipped, ...own] = ws.catalogLayers.map((l) => path.resolve(l));
  const committed = isInside(ws.root, shipped!) && !path.relative(ws.root, shipped!).split(path.sep).includes('node_modules');
  return { all: [shipped!, ...own], writable: committed ? [shipped!, ...own] : own };
}
