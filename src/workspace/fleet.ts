import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { loadProfile, type Profile } from '../catalog/profile';
import { InputError, type LocatedIssue } from '../errors';
import type { Policy } from '../policy/types';
import { ownedBy, renderProfile } from '../render-site';
import type { RenderedFile } from '../targets/render';
import type { AnyTarget, Diagnostic } from '../targets/types';
import { lockPathFor } from '../resolve/lock';
import type { OpenWorkspace } from './sites';

export interface SiteDiagnostic extends Diagnostic {
  site: string;
}

export interface FleetRender {
  files: RenderedFile[];
  diagnostics: SiteDiagnostic[];
  /**
   * Output folders (<site>/<target>) and files (<site>/policy.json) the render speaks for:
   * files there it did not produce are stale.
   */
  owned: string[];
  policies: Policy[];
}

export interface FleetOptions {
  allowUnresolved?: boolean;
  /** False for the base side of a diff: a lock-out its profile had not answered is compared, not refused. */
  refuseLockOuts?: boolean;
  /** The output folder, when every site is rendered: folders of sites that are gone are owned too. */
  sweep?: string;
}

/**
 * Renders many sites against one loaded catalog. With `sweep` (the output folder, when every
 * site is rendered), folders there that belong to no site any more are owned too, so they
 * show up as stale and are removed.
 */
export function renderFleet(
  ws: OpenWorkspace,
  siteFiles: string[],
  chosen: AnyTarget[],
  opts: FleetOptions = {},
): FleetRender {
  const out: FleetRender = { files: [], diagnostics: [], owned: [], policies: [] };
  const names = new Set<string>();
  for (const profile of uniqueProfiles(ws, siteFiles)) {
    names.add(profile.name);
    const r = renderProfile(ws.catalog, profile, profile.path, chosen, opts.allowUnresolved ?? false, opts.refuseLockOuts ?? true);
    out.files.push(...r.files, r.snapshot);
    out.diagnostics.push(...r.diagnostics.map((d) => ({ ...d, site: profile.name })));
    out.policies.push(r.policy);
    out.owned.push(...ownedBy(profile.name, chosen));
  }
  if (opts.sweep !== undefined && fs.existsSync(opts.sweep)) {
    for (const entry of fs.readdirSync(opts.sweep, { withFileTypes: true })) {
      if (!entry.isDirectory() || names.has(entry.name)) continue;
      out.owned.push(...ownedBy(entry.name, chosen));
    }
  }
  out.owned.sort();
  return out;
}

/**
 * Notes a site's name in `names` (name → profile file); a name already there is an issue at
 * this profile's name naming the other file: the two would share an output folder.
 */
export function nameClash(names: Map<string, string>, profile: Profile): LocatedIssue | undefined {
  const earlier = names.get(profile.name);
  if (earlier === undefined) {
    names.set(profile.name, profile.file);
    return undefined;
  }
  return profile.source.issue(['profile', 'name'], `site name '${profile.name}' is also used by ${earlier}; each site needs its own output folder`);
}

/** The sites' profiles; two sites with one name (they would share an output folder) are an error. */
function uniqueProfiles(ws: OpenWorkspace, siteFiles: string[]): Array<Profile & { path: string }> {
  const names = new Map<string, string>();
  const clashes: LocatedIssue[] = [];
  const profiles = siteFiles.map((file) => {
    const profile = loadProfile(file, ws.catalog, ws.root, { targets: ws.targets });
    const clash = nameClash(names, profile);
    if (clash) clashes.push(clash);
    return { ...profile, path: file };
  });
  if (clashes.length > 0) throw new InputError(clashes);
  return profiles;
}

export function assertUniqueSiteNames(ws: OpenWorkspace, siteFiles: string[]): void {
  uniqueProfiles(ws, siteFiles);
}

/**
 * Writes `count` copies of a site profile (and its lock) into `dir` as sites
 * <name>-0001 … : a fleet for measuring how many sites one run renders.
 */
export function generateFleet(templateProfile: string, dir: string, count: number): string[] {
  const text = fs.readFileSync(templateProfile, 'utf8');
  const lock = lockPathFor(templateProfile);
  const lockText = fs.existsSync(lock) ? fs.readFileSync(lock, 'utf8') : undefined;
  const baseName = String(parseDocument(text).getIn(['profile', 'name']));
  const width = String(count).length;
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `${baseName}-${String(i).padStart(width, '0')}`;
    const doc = parseDocument(text);
    doc.setIn(['profile', 'name'], name);
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, doc.toString());
    if (lockText !== undefined) fs.writeFileSync(lockPathFor(file), lockText);
    files.push(file);
  }
  return files;
}
