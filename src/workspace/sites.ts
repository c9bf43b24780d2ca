import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { loadCatalogLayersCached } from '../catalog/compiled-catalog';
import type { CatalogOverride } from '../catalog/load-catalog';
import { checkFileName } from '../catalog/name-rule';
import type { Catalog } from '../catalog/types';
import { FileError } from '../errors';
import { resolvesInside, UnsafePathError } from '../fs';
import { lockPathFor } from '../resolve/lock';
import { LEAVES_WORKSPACE, loadWorkspace, type Workspace } from '../site/workspace-file';

/** A workspace with its catalog loaded once, ready to render any number of sites. */
export interface OpenWorkspace extends Workspace {
  catalog: Catalog;
  overrides: CatalogOverride[];
  /** Every site profile the globs match, absolute, sorted. */
  siteFiles: string[];
}

export function openWorkspace(file: string, shippedCatalog?: string): OpenWorkspace {
  const ws = loadWorkspace(file, shippedCatalog);
  const { catalog, overrides } = loadCatalogLayersCached(ws.catalogLayers, [], ws.root);
  return { ...ws, catalog, overrides, siteFiles: siteFilesOf(ws) };
}

/** Files under the workspace matching the site globs; node_modules, dot folders and the output folder are never searched. */
export function siteFilesOf(ws: Workspace): string[] {
  const include = ws.sites.filter((g) => !g.startsWith('!'));
  const exclude = ws.sites.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  const yes = picomatch(include, { dot: false });
  const no = exclude.length > 0 ? picomatch(exclude) : () => false;
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules' || entry.name.startsWith('.') || full === ws.output) continue;
        walk(full);
        continue;
      }
      const rel = path.relative(ws.root, full).split(path.sep).join('/');
      if (!/\.ya?ml$/.test(entry.name) || /\.lock\.ya?ml$/.test(entry.name) || full === ws.file) continue;
      if (!yes(rel) || no(rel)) continue;
      checkFileName(rel); // a site is picked by its file name, and that name reaches its outputs
      found.push(full);
    }
  };
  walk(ws.root);
  for (const site of found) refuseLinkOut(ws.root, site);
  return found.sort();
}

/**
 * A site, or the lock file beside it, that is a link leading out of the workspace is refused
 * before it is read: neither its content nor its key names reach a message.
 */
function refuseLinkOut(root: string, site: string): void {
  for (const file of [site, lockPathFor(site)]) {
    if (fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink() && !resolvesInside(root, file)) {
      throw new UnsafePathError(file, LEAVES_WORKSPACE);
    }
  }
}

/** Sites named on the command line, by profile file (as a path) or by file name without .yaml. */
export function pickSites(ws: OpenWorkspace, wanted: string[]): string[] {
  if (wanted.length === 0) return ws.siteFiles;
  return wanted.map((w) => {
    const byPath = path.resolve(w);
    const hit = ws.siteFiles.find((f) => f === byPath || path.basename(f).replace(/\.ya?ml$/, '') === w);
    if (!hit) {
      const known = ws.siteFiles.map((f) => path.basename(f).replace(/\.ya?ml$/, '')).join(', ');
      throw new FileError(w, `not a site of the workspace ${ws.file} (sites: ${known || 'none'})`);
    }
    return hit;
  });
}

