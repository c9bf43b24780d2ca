import * as path from 'node:path';
import { joinChanges, OutputTransaction, staleOf, type Removal, type SetChanges, type WriteSummary } from '../output';
import { ansible } from '../targets/ansible';
import { fleetFilesOf, type FleetEntry } from './inventory';
import type { AnyTarget } from '../targets/types';
import { orphanFolders, SiteNameCheck, siteNames, siteOwned, type SiteDiagnostic, type SiteJob, type SiteOutcome, type SiteSink } from './fleet';
import { choicesOf, renderSites, throwIssues } from './fleet-workers';
import { inShard, shardOf, type Shard } from './shard';
import type { OpenWorkspace } from './sites';

export interface FleetRun {
  /** The folder the sites are rendered into (or compared with). */
  output: string;
  chosen: AnyTarget[];
  /** Site profiles to render, a subset of the workspace's or all of them. */
  siteFiles: string[];
  /** Every site of the workspace: folders of no site are stale, and the fleet's inventory is made. */
  everySite: boolean;
  allowUnresolved?: boolean;
  /** Only the sites of this part, and only the stale folders whose names fall in it; no fleet inventory. */
  shard?: Shard;
  /**
   * Sites of the workspace that are current without a render (check --base, incremental.ts):
   * not in `siteFiles`, but their folders are theirs and their entries go in the fleet's inventory.
   */
  kept?: KeptSite[];
  /**
   * check --base: whether the fleet's files are current without making them, given the entries
   * of the sites rendered (incremental.ts); making them needs every kept site's entry.
   */
  fleetCurrent?: (rendered: FleetEntry[]) => boolean;
}

/** A site whose committed files are what a render would make, with what the fleet's files need of it. */
export interface KeptSite {
  name: string;
  entry: FleetEntry;
}

/** The kept sites that fall in the run's shard. */
function keptOf(run: FleetRun): KeptSite[] {
  return (run.kept ?? []).filter((k) => inShard(run.shard, k.name));
}

export interface FleetResult {
  diagnostics: SiteDiagnostic[];
  /** Sites rendered (in this shard). */
  sites: number;
}

/**
 * The sites a run renders: those of its shard, each with its place in the list. Without a
 * shard every site is rendered, and their names are checked for clashes as the renderers take
 * them (the check returned); a shard needs every name first, to pick its sites.
 */
function jobsOf(ws: OpenWorkspace, run: FleetRun): { jobs: SiteJob[]; names?: SiteNameCheck } {
  if (run.shard === undefined) return { jobs: run.siteFiles.map((file, index) => ({ index, file })), names: new SiteNameCheck(ws) };
  const named = siteNames(ws, run.siteFiles);
  const jobs: SiteJob[] = [];
  for (const s of named) {
    // A profile whose name cannot be read is rendered by the part its file name falls in, which reports why.
    const key = s.name ?? path.relative(ws.root, s.file).split(path.sep).join('/');
    if (shardOf(key, run.shard.count) === run.shard.index) jobs.push({ index: jobs.length, file: s.file });
  }
  return { jobs };
}

/**
 * Renders the run's sites through `sink`; outcomes in the order of the sites. Two sites of one
 * name are thrown first, then profile problems, all together.
 */
async function renderAll(ws: OpenWorkspace, run: FleetRun, { jobs, names }: ReturnType<typeof jobsOf>, sink: SiteSink): Promise<SiteOutcome[]> {
  const outcomes = new Array<SiteOutcome>(jobs.length);
  const handOut = names && ((part: SiteJob[]) => part.filter((j) => names.keeps(j.file)));
  await renderSites(ws, jobs, run.chosen, { choices: choicesOf({ allowUnresolved: run.allowUnresolved }), sink, handOut }, (x) => {
    outcomes[x.index] = x;
  });
  names?.throwClashes();
  throwIssues(outcomes);
  return outcomes;
}

function diagnosticsOf(outcomes: SiteOutcome[]): SiteDiagnostic[] {
  const out: SiteDiagnostic[] = [];
  for (const x of outcomes) for (const d of x.diagnostics) out.push(d);
  return out;
}

/** Folders in the output of sites that are gone: the run's to remove when it renders every site (of its shard). */
function orphansOf(run: FleetRun, outcomes: SiteOutcome[]): string[] {
  if (!run.everySite) return [];
  const names = new Set(outcomes.map((x) => x.name));
  for (const k of keptOf(run)) names.add(k.name);
  return orphanFolders(run.output, names, (name) => inShard(run.shard, name));
}

/** The fleet's inventory and playbook: made by a run over every site, never by one shard (see shard-merge.ts). */
function fleetFilesFor(run: FleetRun, outcomes: SiteOutcome[]) {
  if (!run.everySite || run.shard !== undefined || !run.chosen.some((t) => t.id === ansible.id)) return [];
  const entries: FleetEntry[] = [];
  for (const x of outcomes) if (x.entry) entries.push(x.entry);
  for (const k of keptOf(run)) entries.push(k.entry);
  return fleetFilesOf(entries);
}

const byDir = (a: Removal, b: Removal) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0);

/**
 * Renders the run's sites into the output folder as one set, site by site: each site's
 * changed files are staged as soon as it is rendered (by the thread that rendered it) and
 * released, and one journal commits them all at the end (see OutputTransaction). A site with
 * an error, or a profile that cannot be read, drops the whole render: nothing is written.
 */
export async function writeFleet(ws: OpenWorkspace, run: FleetRun, waitMs: number): Promise<FleetResult & { summary?: WriteSummary }> {
  const jobs = jobsOf(ws, run);
  const tx = OutputTransaction.begin(run.output, waitMs);
  try {
    const outcomes = await renderAll(ws, run, jobs, { kind: 'write', root: run.output, stage: tx.stage });
    const diagnostics = diagnosticsOf(outcomes);
    if (diagnostics.some((d) => d.severity === 'error')) {
      tx.abort();
      return { diagnostics, sites: outcomes.length + keptOf(run).length };
    }
    const owned: string[] = [];
    const sets: SetChanges[] = [];
    for (const x of outcomes) {
      for (const p of x.owned) owned.push(p);
      sets.push(x.changes!);
    }
    const stager = tx.stager();
    try {
      for (const dir of orphansOf(run, outcomes)) {
        const dirs = siteOwned(dir, run.chosen);
        for (const p of dirs) owned.push(p);
        sets.push(stager.add([], dirs));
      }
      sets.push(stager.add(fleetFilesFor(run, outcomes), []));
      stager.finish();
    } finally {
      stager.close();
    }
    const changes = joinChanges(sets);
    changes.remove.sort(byDir);
    return { diagnostics, sites: outcomes.length + keptOf(run).length, summary: tx.commit(changes, owned) };
  } catch (err) {
    throw tx.fail(err);
  }
}

/**
 * Renders the run's sites in memory, site by site, and says which files of the output folder
 * are stale (missing, changed, or no longer produced), sorted. Reads the folder only.
 */
export async function checkFleet(ws: OpenWorkspace, run: FleetRun): Promise<FleetResult & { stale: string[] }> {
  const outcomes = await renderAll(ws, run, jobsOf(ws, run), { kind: 'check', root: run.output });
  const diagnostics = diagnosticsOf(outcomes);
  const stale: string[] = [];
  for (const x of outcomes) for (const s of x.stale ?? []) stale.push(s);
  for (const dir of orphansOf(run, outcomes)) for (const s of staleOf(run.output, [], siteOwned(dir, run.chosen))) stale.push(s);
  const fleetKnown = run.fleetCurrent?.(outcomes.flatMap((x) => (x.entry ? [x.entry] : []))) === true;
  if (!fleetKnown) for (const s of staleOf(run.output, fleetFilesFor(run, outcomes), [])) stale.push(s);
  return { diagnostics, sites: outcomes.length + keptOf(run).length, stale: stale.sort() };
}
