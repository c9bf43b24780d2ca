import * as os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { FileError, InputError, type LocatedIssue } from '../errors';
import { chooseTargets } from '../render/site';
import type { AnyTarget } from '../targets/types';
import { orphanFolders, siteNames, siteOwned, SiteRenderer, type FleetOptions, type SiteChoices, type SiteDiagnostic, type SiteJob, type SiteOutcome, type SiteSink } from './fleet';
import type { Policy } from '../policy/types';
import type { RenderedFile } from '../targets/render';
import { openWorkspace, type OpenWorkspace } from './sites';

/** A whole number from the environment, for the tests that drive the queue with tiny numbers. */
function tunable(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

/** Below this many sites a worker's start-up (loading the catalog again) costs more than it saves. */
const MIN_SITES_PER_WORKER = tunable('FWGEN_FLEET_MIN_PER_WORKER', 40);
/** Sites per message to a worker: few enough that the workers finish together. */
const CHUNK = tunable('FWGEN_FLEET_CHUNK', 16);
/** Chunks a worker holds at once: one it renders, one waiting, so that it never idles on a reply. */
const IN_FLIGHT = 2;

interface WorkerSetup {
  fleetRender: true;
  workspace: string;
  shippedCatalog: string;
  targets: string[];
  choices: SiteChoices;
  sink: SiteSink;
}

type ToWorker = { sites: SiteJob[] } | { end: true };
type Failure = { issues?: LocatedIssue[]; file?: { file: string; reason: string }; message: string };
type FromWorker = { outcomes: SiteOutcome[] } | { ended: true } | { failed: Failure };

function failureOf(err: unknown): Failure {
  if (err instanceof InputError) return { issues: err.issues, message: err.message };
  if (err instanceof FileError) return { file: { file: err.file, reason: err.reason }, message: err.message };
  return { message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}

function errorOf(f: Failure): Error {
  if (f.issues) return new InputError(f.issues);
  if (f.file) return new FileError(f.file.file, f.file.reason);
  return new Error(f.message);
}

/**
 * Renders every site of `jobs` and hands each outcome to `onOutcome` as it is done (in any
 * order; each carries its index). With enough sites, and from the compiled package (a worker
 * runs dist/ code), worker threads render them, one per core: each loads the catalog once and
 * asks for a few sites at a time, so no thread holds more than a few sites and the main
 * thread holds only the outcomes. Resolves once every site is done and, when the sink stages
 * files, every staged file is on disk.
 */
export async function renderSites(
  ws: OpenWorkspace,
  jobs: SiteJob[],
  chosen: AnyTarget[],
  o: { choices: SiteChoices; sink: SiteSink; handOut?: (part: SiteJob[]) => SiteJob[] },
  onOutcome: (outcome: SiteOutcome) => void,
): Promise<void> {
  // Asked in the order of the jobs, on the main thread, as the renderers take them: which to render.
  const handOut = o.handOut ?? ((part: SiteJob[]) => part);
  const cores = Math.min(os.availableParallelism(), 8);
  const workers = Math.min(cores, Math.floor(jobs.length / MIN_SITES_PER_WORKER));
  if (workers < 2 || !__filename.endsWith('.js')) {
    const renderer = new SiteRenderer(ws, chosen, o.choices, o.sink);
    try {
      for (const job of handOut(jobs)) onOutcome(renderer.render(job));
      renderer.finish();
    } finally {
      renderer.close();
    }
    return;
  }
  const setup: WorkerSetup = {
    fleetRender: true,
    workspace: ws.file,
    shippedCatalog: ws.catalogLayers[0]!,
    targets: chosen.map((t) => t.id),
    choices: o.choices,
    sink: o.sink,
  };
  let next = 0;
  /** The next sites to render; empty once every site is handed out. */
  const chunk = (): SiteJob[] => {
    while (next < jobs.length) {
      const part = jobs.slice(next, next + CHUNK);
      next += part.length;
      const kept = handOut(part);
      if (kept.length > 0) return kept;
    }
    return [];
  };
  const pool: Worker[] = [];
  try {
    await Promise.all(
      Array.from(
        { length: workers },
        () =>
          new Promise<void>((resolve, reject) => {
            const w = new Worker(__filename, { workerData: setup });
            pool.push(w);
            let pending = 0;
            const feed = () => {
              while (pending < IN_FLIGHT) {
                const sites = chunk();
                if (sites.length === 0) break;
                pending++;
                w.postMessage({ sites } satisfies ToWorker);
              }
              if (pending === 0) w.postMessage({ end: true } satisfies ToWorker);
            };
            w.on('message', (m: FromWorker) => {
              if ('failed' in m) return reject(errorOf(m.failed));
              if ('ended' in m) return resolve();
              pending--;
              for (const outcome of m.outcomes) onOutcome(outcome);
              feed();
            });
            w.once('error', reject);
            w.once('exit', (code) => reject(new Error(`render worker exited with ${code}`)));
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
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

/**
 * Every site rendered into memory, in the order given: for a caller that needs every file
 * and policy at once (a comparison of two revisions). With `sweep` (the output folder, when
 * every site is rendered), folders there that belong to no site any more are owned too.
 * A render into the output folder streams instead (fleet-output.ts).
 */
/** Unless told otherwise, names must be pinned and lock-outs answered, as for a render. */
export function choicesOf(o: Partial<SiteChoices>): SiteChoices {
  return { allowUnresolved: o.allowUnresolved ?? false, refuseLockOuts: o.refuseLockOuts ?? true };
}

export async function renderFleetParallel(
  ws: OpenWorkspace,
  siteFiles: string[],
  chosen: AnyTarget[],
  opts: FleetOptions = {},
): Promise<FleetRender> {
  siteNames(ws, siteFiles);
  const outcomes = new Array<SiteOutcome>(siteFiles.length);
  await renderSites(ws, siteFiles.map((file, index) => ({ index, file })), chosen, { choices: choicesOf(opts), sink: { kind: 'collect' } }, (x) => {
    outcomes[x.index] = x;
  });
  throwIssues(outcomes);
  const out: FleetRender = { files: [], diagnostics: [], owned: [], policies: [] };
  for (const x of outcomes) {
    for (const f of x.files ?? []) out.files.push(f);
    for (const d of x.diagnostics) out.diagnostics.push(d);
    for (const p of x.owned) out.owned.push(p);
    if (x.policy) out.policies.push(x.policy);
  }
  if (opts.sweep !== undefined) {
    const names = new Set(outcomes.map((x) => x.name));
    for (const dir of orphanFolders(opts.sweep, names, () => true)) for (const p of siteOwned(dir, chosen)) out.owned.push(p);
  }
  out.owned.sort();
  return out;
}

/** Profiles that could not be read or are invalid, every one of them, in the order of the sites. */
export function throwIssues(outcomes: Iterable<SiteOutcome>): void {
  const issues: LocatedIssue[] = [];
  for (const x of outcomes) for (const i of x.issues ?? []) issues.push(i);
  if (issues.length > 0) throw new InputError(issues);
}

if (!isMainThread && parentPort && (workerData as WorkerSetup | undefined)?.fleetRender) {
  const setup = workerData as WorkerSetup;
  const port = parentPort;
  let renderer: SiteRenderer | undefined;
  port.on('message', (m: ToWorker) => {
    try {
      renderer ??= new SiteRenderer(openWorkspace(setup.workspace, setup.shippedCatalog), chooseTargets(setup.targets), setup.choices, setup.sink);
      if ('sites' in m) {
        port.postMessage({ outcomes: m.sites.map((job) => renderer!.render(job)) } satisfies FromWorker);
        return;
      }
      renderer.finish();
      renderer.close();
      port.postMessage({ ended: true } satisfies FromWorker);
      port.close();
    } catch (err) {
      renderer?.close();
      port.postMessage({ failed: failureOf(err) } satisfies FromWorker);
    }
  });
}
