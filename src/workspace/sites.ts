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
  /**
   * What the walk found beside each of siteFiles (profile → lock): the lock when it is a plain
   * file, undefined when there is none or it is not a plain file, so that a fleet's thousands
   * of sites without one are not asked about again. A profile not walked is not a key.
   */
  siteLocks?: ReadonlyMap<string, string | undefined>;
}

export function openWorkspace(file: string, shippedCatalog?: string): OpenWorkspace {
  const ws = loadWorkspace(file, shippedCatalog);
  const { catalog, overrides } = loadCatalogLayersCached(ws.catalogLayers, [], ws.root);
  const { files, locks } = walkSites(ws);
  return { ...ws, catalog, overrides, siteFiles: files, siteLocks: locks };
}

/** Files under the workspace matching the site globs; node_modules, dot folders and the output folder are never searched. */
export function siteFilesOf(ws: Workspace): string[] {
  return walkSites(ws).files;
}

/** siteFilesOf, with the lock beside each site that is a plain file. */
function walkSites(ws: Workspace): { files: string[]; locks: Map<string, string | undefined> } {
  const include = ws.sites.filter((g) => !g.startsWith('!'));
  const exclude = ws.sites.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  const yes = picomatch(include, { dot: false });
  const no = exclude.length > 0 ? picomatch(exclude) : () => false;
  const found: string[] = [];
  // Whether each site, and the lock beside it, is a link: from the listing the walk reads
  // anyway, so that a fleet's thousands of files are not asked about one by one.
  const links: Array<{ site: string; lock: string; link: boolean; lockLink: boolean }> = [];
  const locks = new Map<string, string | undefined>();
  // `relDir` is `dir` relative to the root, '/' between names: the walk only ever adds names
  // read from a folder to it, so a fleet's thousands of files need no path.relative each.
  const walk = (dir: string, relDir: string) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    let byName: Map<string, fs.Dirent> | undefined;
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules' || entry.name.startsWith('.') || full === ws.output) continue;
        walk(full, relDir ? `${relDir}/${entry.name}` : entry.name);
        continue;
      }
      if (!/\.ya?ml$/.test(entry.name) || /\.lock\.ya?ml$/.test(entry.name) || full === ws.file) continue;
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (!yes(rel) || no(rel)) continue;
      checkFileName(rel); // a site is picked by its file name, and that name reaches its outputs
      found.push(full);
      byName ??= new Map(entries.map((e) => [e.name, e]));
      const lockFile = lockPathFor(full);
      const lock = byName.get(path.basename(lockFile));
      links.push({ site: full, lock: lockFile, link: entry.isSymbolicLink(), lockLink: lock?.isSymbolicLink() === true });
      locks.set(full, lock?.isFile() ? lockFile : undefined);
    }
  };
  walk(ws.root, '');
  for (const l of links) refuseLinkOut(ws.root, l);
  return { files: found.sort(), locks };
}

/**
 * A site, or the lock file beside it, that is a link leading out of the workspace is refused
 * before it is read: neither its content nor its key names reach a message.
 */
function refuseLinkOut(root: string, l: { site: string; lock: string; link: boolean; lockLink: boolean }): void {
  for (const [file, link] of [[l.site, l.link], [l.lock, l.lockLink]] as const) {
    if (link && !resolvesInside(root, file)) throw new UnsafePathError(file, LEAVES_WORKSPACE);
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

