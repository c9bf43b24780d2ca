import * as fs from 'node:fs';
import * as path from 'node:path';
import { readYaml } from '../catalog/read-file';
import { InputError } from '../errors';
import { SNAPSHOT_FILE, type PolicySnapshot } from '../policy/snapshot';
import { snapshotPath } from '../render/site';
import { targets } from '../targets/registry';
import { loadWorkspace } from '../site/workspace-file';
import { renderFleetParallel } from '../workspace/fleet-workers';
import { siteFilesOf, type OpenWorkspace } from '../workspace/sites';
import { openBase } from './base-tree';
import { listBaseFiles, parseSnapshot, readBaseFile } from './base-snapshot';
import { emptySnapshot, siteState, type SiteFile, type SiteState, type Snapshot } from './snapshot';
import { readBlobs } from '../fs/git';
import { displayPath } from '../util/paths';
import type { Shortcut } from '../workspace/incremental';
import { snapshotLists } from '../policy/snapshot';

/**
 * Sites rendered in memory, each read through the snapshot the render made: the head always
 * (never its committed out/, which a pull request could have left stale or written by hand),
 * and a base site whose revision committed no snapshot.
 */
async function renderedSide(ws: OpenWorkspace, siteFiles: string[], label: string, rerendered: boolean): Promise<Snapshot> {
  // The base was approved as it was: a lock-out its profile had yet to answer is compared, not refused.
  const fleet = await renderFleetParallel(ws, siteFiles, targets, { allowUnresolved: false, refuseLockOuts: !rerendered });
  const side: Snapshot = emptySnapshot(label);
  for (const policy of fleet.policies) {
    const name = policy.profile.name;
    const snap = snapshotPath(name);
    const doc = JSON.parse(fleet.files.find((f) => f.path === snap)!.content) as PolicySnapshot;
    const files = fleet.files.filter((f) => f.path.startsWith(`${name}/`) && f.path !== snap);
    side.sites.set(name, siteState(doc, () => files));
    if (rerendered) side.rerendered.push(name);
  }
  return side;
}

/** The working tree, rendered now (every site, or those given). */
export function headSide(ws: OpenWorkspace, label: string, siteFiles: string[] = ws.siteFiles): Promise<Snapshot> {
  return renderedSide(ws, siteFiles, label, false);
}

/**
 * Sites the head holds as the base committed them, inputs and files alike (see
 * workspace/incremental.ts): one state on both sides, so that each compares as unchanged, as
 * a render would have made it. With `detail`, the state is the base's committed snapshot;
 * without, it holds what a report shows of an unchanged site: its name, its profile and the
 * sources of its address lists (from the catalog, whose list files the record showed unchanged).
 */
export function addKeptSites(base: Snapshot, head: Snapshot, ws: OpenWorkspace, cut: Shortcut, detail: boolean): void {
  const snapshots = detail ? new Map(readBlobs(cut.repo!.root, cut.kept.map((k) => [k.name, k.snapshotBlob] as const)).map(([name, bytes]) => [name, bytes] as const)) : undefined;
  for (const k of cut.kept) {
    let state: SiteState;
    if (snapshots) {
      const rel = `${cut.repo!.outRel}/${snapshotPath(k.name)}`;
      const bytes = snapshots.get(k.name);
      if (bytes === undefined) throw new InputError([{ loc: { file: rel, line: 1, col: 1 }, field: '', message: `the base revision holds no policy snapshot of site '${k.name}'` }]);
      state = siteState(parseSnapshot(bytes.toString('utf8'), rel), () => []);
    } else {
      state = {
        name: k.name,
        // As the render names the profile in the entry: the kept site's entry is not read for it.
        file: displayPath(k.profileFile, ws.root),
        digest: `unchanged:${k.name}`,
        flows: new Map(),
        names: new Map(),
        limits: [],
        lists: snapshotLists(ws.catalog, k.lists),
        vendors: [],
        classes: [],
        acknowledgements: [],
        exclusions: [],
        files: () => [],
      };
    }
    base.sites.set(k.name, state);
    head.sites.set(k.name, state);
  }
}

/**
 * The base: for each of its sites the policy snapshot its revision committed under the
 * output folder, so what it approved is compared, whatever catalog this fwgen ships. A site
 * without one (committed by an fwgen that did not write snapshots) is rendered again with
 * this fwgen's catalog, and the report says so. Files are named by their path in the base
 * tree; readingBase (base-errors.ts) says which base in every message.
 */
export async function baseSide(head: OpenWorkspace, baseRoot: string, label: string): Promise<Snapshot> {
  const file = path.join(baseRoot, path.basename(head.file));
  if (!fs.existsSync(file)) return emptySnapshot(label);
  const ws = loadWorkspace(file);
  const output = path.relative(ws.root, ws.output).split(path.sep).join('/');
  const found: SiteState[] = [];
  const without: string[] = [];
  for (const profile of siteFilesOf(ws)) {
    const name = siteNameOf(profile, ws.root);
    const rel = `${output}/${name}/${SNAPSHOT_FILE}`;
    const text = name === undefined ? undefined : readBaseFile(ws.root, rel, rel);
    if (text === undefined) {
      without.push(profile);
      continue;
    }
    const doc = parseSnapshot(text, rel);
    if (doc.site !== name) {
      throw new InputError([{ loc: { file: rel, line: 1, col: 1 }, field: 'site', message: `the snapshot is of site '${doc.site}', not of '${name}' whose folder it is in` }]);
    }
    found.push(siteState(doc, () => committedFiles(ws.root, output, name!)));
  }
  const side = without.length > 0 ? await renderedSide(openBase(head, baseRoot)!, without, label, true) : emptySnapshot(label);
  for (const s of found) {
    if (side.sites.has(s.name)) throw new InputError([{ loc: { file: `${output}/${s.name}/${SNAPSHOT_FILE}`, line: 1, col: 1 }, field: 'site', message: `two sites of the base are named '${s.name}'` }]);
    side.sites.set(s.name, s);
  }
  side.sites = new Map([...side.sites].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return side;
}

/** A base profile's site name, read without the catalog; undefined when the file does not say (the render then does). */
function siteNameOf(profile: string, root: string): string | undefined {
  try {
    const name = (readYaml(profile, root).data as { profile?: { name?: unknown } } | null)?.profile?.name;
    return typeof name === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) ? name : undefined;
  } catch (err) {
    if (err instanceof InputError) return undefined;
    throw err;
  }
}

/** The target files the base committed for a site, for the rendered-files table. */
function committedFiles(root: string, output: string, site: string): SiteFile[] {
  return targets.flatMap((t) =>
    listBaseFiles(root, `${output}/${site}/${t.id}`).map((rel) => ({
      path: rel.slice(output.length + 1),
      content: readBaseFile(root, rel, rel)!,
    })),
  );
}
