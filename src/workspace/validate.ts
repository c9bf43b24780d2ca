import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalog, loadCatalogLayers } from '../catalog/load-catalog';
import { loadProfile, type SiteDefaults } from '../catalog/profile';
import { examplesWorkspaceSites } from './examples';
import { readYaml, yamlFilesIn } from '../catalog/read-file';
import { validateAgainst } from '../catalog/schema';
import type { Catalog } from '../catalog/types';
import { InputError, sortIssues, type LocatedIssue } from '../errors';
import type { PolicyWarning } from '../policy/types';
import { buildSitePolicy } from '../resolve/address-book';
import { readLock } from '../resolve/lock';
import { kindOf } from './file-kinds';
import { nameClash } from './fleet';
import type { OpenWorkspace } from './sites';
import { append } from '../util/append';

function expandPaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
      const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(full);
          else if (/\.ya?ml$/.test(entry.name) && !/\.lock\.ya?ml$/.test(entry.name)) out.push(full);
        }
      };
      walk(p);
    } else {
      out.push(p);
    }
  }
  return out;
}

export interface ValidationReport {
  vendors: number;
  lists: number;
  deviceClasses: number;
  profiles: number;
  /** The profiles' policy warnings (explicit "any", options that take no effect), to print on stderr. */
  warnings: PolicyWarning[];
}

/**
 * Validates the catalog plus any given files. Vendor files outside the catalog are checked
 * against the catalog's device classes and lists; profiles are taken as far as the policy,
 * so missing variables and unbound peers show up too.
 */
export function validatePaths(catalogRoot: string, paths: string[], base?: string): ValidationReport {
  const files = paths.length === 0 ? examplesWorkspaceSites() : expandPaths(paths);
  const catalogFiles = new Set([
    ...yamlFilesIn(path.join(catalogRoot, 'vendors')),
    ...yamlFilesIn(path.join(catalogRoot, 'lists')),
    path.join(catalogRoot, 'device-classes.yaml'),
  ].map((f) => path.resolve(f)));
  return validateFiles(files.filter((f) => !catalogFiles.has(path.resolve(f))), (extra) => loadCatalog(catalogRoot, extra, base), base);
}

/** Everything a workspace holds: its catalog layers, every site and its lock's use, or the files named. */
export function validateWorkspace(ws: OpenWorkspace, paths: string[]): ValidationReport {
  const files = paths.length === 0 ? ws.siteFiles : expandPaths(paths);
  const layerFiles = new Set(
    ws.catalogLayers.flatMap((root) => [
      ...yamlFilesIn(path.join(root, 'vendors')),
      ...yamlFilesIn(path.join(root, 'lists')),
      path.join(root, 'device-classes.yaml'),
    ]).map((f) => path.resolve(f)),
  );
  const rest = files.filter((f) => !layerFiles.has(path.resolve(f)) && path.resolve(f) !== ws.file);
  const catalogWith = (extra: string[]) => (extra.length === 0 ? ws.catalog : loadCatalogLayers(ws.catalogLayers, extra, ws.root).catalog);
  return validateFiles(rest, catalogWith, ws.root, { oneOutput: true, defaults: { targets: ws.targets } });
}

/**
 * Profiles of a workspace are its sites: two of one name would share an output folder
 * (`oneOutput`), and a site that lists no targets takes the workspace's (`defaults`).
 */
function validateFiles(
  files: string[],
  catalogWith: (extraVendors: string[]) => Catalog,
  base: string | undefined,
  sites: { oneOutput: boolean; defaults: SiteDefaults } = { oneOutput: false, defaults: {} },
): ValidationReport {
  const issues: LocatedIssue[] = [];
  const extraVendors: string[] = [];
  const profiles: string[] = [];
  for (const file of files) {
    try {
      const src = readYaml(file, base);
      const kind = kindOf(src.data);
      if (kind === 'vendor') extraVendors.push(file);
      else if (kind === 'profile') profiles.push(file);
      else if (kind === 'list' || kind === 'device-classes' || kind === 'workspace') append(issues, validateAgainst(kind, src));
      else if (kind === 'lock') readLock(file);
      else if (kind === 'unknown') {
        issues.push(src.issue([], `not a vendor, profile, list, device-class or workspace file (no 'vendor', 'profile', 'list', 'deviceClasses' or 'sites' key)`));
      }
    } catch (err) {
      if (err instanceof InputError) append(issues, err.issues);
      else throw err;
    }
  }
  const warnings: PolicyWarning[] = [];
  let catalog: Catalog | undefined;
  try {
    catalog = catalogWith(extraVendors);
  } catch (err) {
    if (err instanceof InputError) append(issues, err.issues);
    else throw err;
  }
  if (catalog) {
    const names = new Map<string, string>();
    for (const file of profiles) {
      try {
        const profile = loadProfile(file, catalog, base, sites.defaults);
        const clash = sites.oneOutput ? nameClash(names, profile) : undefined;
        if (clash) issues.push(clash);
        // The lock beside the profile is read too (a broken lock fails the render later otherwise),
        // and what the policy gets wrong besides is said with it.
        append(warnings, buildSitePolicy(catalog, profile, file).policy.warnings);
      } catch (err) {
        if (err instanceof InputError) append(issues, err.issues);
        else throw err;
      }
    }
  }
  if (issues.length > 0) throw new InputError(sortIssues(issues));
  return {
    vendors: catalog!.vendors.size,
    lists: catalog!.lists.size,
    deviceClasses: catalog!.deviceClasses.size,
    profiles: profiles.length,
    warnings,
  };
}
