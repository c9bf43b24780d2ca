import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalog } from './catalog/load-catalog';
import { loadProfile, type Profile } from './catalog/profile';
import { readYaml, yamlFilesIn } from './catalog/read-file';
import { validateAgainst } from './catalog/schema';
import type { Catalog } from './catalog/types';
import { InputError, sortIssues, type LocatedIssue } from './errors';
import { examplesDir } from './paths';
import { buildPolicy } from './policy/build';
import type { PolicyWarning } from './policy/types';
import { addressBookFor } from './resolve/address-book';
import { readLock } from './resolve/lock';

export type FileKind = 'vendor' | 'profile' | 'list' | 'device-classes' | 'lock' | 'unknown';

/** What a YAML file is, by its top-level key: the same test yaml-language-server users see. */
export function kindOf(data: unknown): FileKind {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'unknown';
  const keys = Object.keys(data);
  if (keys.includes('vendor')) return 'vendor';
  if (keys.includes('profile')) return 'profile';
  if (keys.includes('list')) return 'list';
  if (keys.includes('deviceClasses')) return 'device-classes';
  if (keys.includes('lock')) return 'lock';
  return 'unknown';
}

export function exampleProfiles(): string[] {
  return yamlFilesIn(examplesDir);
}

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
  /** The profiles' policy warnings (explicit "any"), to print on stderr. */
  warnings: PolicyWarning[];
}

/**
 * Validates the catalog plus any given files. Vendor files outside the catalog are checked
 * against the catalog's device classes and lists; profiles are taken as far as the policy,
 * so missing variables and unbound peers show up too.
 */
export function validatePaths(catalogRoot: string, paths: string[]): ValidationReport {
  const issues: LocatedIssue[] = [];
  const files = paths.length === 0 ? exampleProfiles() : expandPaths(paths);
  const catalogVendors = new Set(yamlFilesIn(path.join(catalogRoot, 'vendors')).map((f) => path.resolve(f)));
  const catalogFiles = new Set([
    ...catalogVendors,
    ...yamlFilesIn(path.join(catalogRoot, 'lists')).map((f) => path.resolve(f)),
    path.resolve(catalogRoot, 'device-classes.yaml'),
  ]);
  const extraVendors: string[] = [];
  const profiles: string[] = [];
  for (const file of files) {
    if (catalogFiles.has(path.resolve(file))) continue;
    try {
      const src = readYaml(file);
      const kind = kindOf(src.data);
      if (kind === 'vendor') extraVendors.push(file);
      else if (kind === 'profile') profiles.push(file);
      else if (kind === 'list' || kind === 'device-classes') issues.push(...validateAgainst(kind, src));
      else if (kind === 'lock') readLock(file);
      else if (kind === 'unknown') {
        issues.push(src.issue([], `not a vendor, profile, list or device-class file (no 'vendor', 'profile', 'list' or 'deviceClasses' key)`));
      }
    } catch (err) {
      if (err instanceof InputError) issues.push(...err.issues);
      else throw err;
    }
  }
  const warnings: PolicyWarning[] = [];
  let catalog: Catalog | undefined;
  try {
    catalog = loadCatalog(catalogRoot, extraVendors);
  } catch (err) {
    if (err instanceof InputError) issues.push(...err.issues);
    else throw err;
  }
  if (catalog) {
    for (const file of profiles) {
      try {
        // The lock beside the profile is input too: its addresses are checked like any other.
        warnings.push(...buildPolicy(catalog, loadProfile(file, catalog), addressBookFor(file)).warnings);
      } catch (err) {
        if (err instanceof InputError) issues.push(...err.issues);
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

export function loadSite(catalogRoot: string, profileFile: string): { catalog: Catalog; profile: Profile } {
  const catalog = loadCatalog(catalogRoot);
  return { catalog, profile: loadProfile(profileFile, catalog) };
}
