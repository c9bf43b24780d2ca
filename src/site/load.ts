import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalogLayersCached } from '../catalog/compiled-catalog';
import { loadProfile, type Profile } from '../catalog/profile';
import type { Catalog } from '../catalog/types';
import { findWorkspace, loadWorkspace } from './workspace-file';

/**
 * Where file names in messages and rendered headers are counted from for a profile used on
 * its own: the workspace holding it when there is one, so that output does not depend on
 * where fwgen runs; otherwise where the user stands.
 */
export function baseFor(profileFile: string): string {
  const ws = findWorkspace(path.dirname(path.resolve(profileFile)));
  return ws ? path.dirname(ws) : process.cwd();
}

/**
 * A catalog and one profile. `catalogSource` is a catalog folder, or a workspace file whose
 * layers make the catalog.
 */
export function loadSite(catalogSource: string, profileFile: string): { catalog: Catalog; profile: Profile; base: string } {
  if (fs.existsSync(catalogSource) && fs.statSync(catalogSource).isFile()) {
    const ws = loadWorkspace(catalogSource);
    const { catalog } = loadCatalogLayersCached(ws.catalogLayers, [], ws.root);
    return { catalog, profile: loadProfile(profileFile, catalog, ws.root, { targets: ws.targets }), base: ws.root };
  }
  const base = baseFor(profileFile);
  const { catalog } = loadCatalogLayersCached([catalogSource], [], base);
  return { catalog, profile: loadProfile(profileFile, catalog, base), base };
}
