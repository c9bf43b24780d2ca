import * as os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { InputError, type LocatedIssue } from '../errors';
import { chooseTargets } from '../render-site';
import type { AnyTarget } from '../targets/types';
import { assertUniqueSiteNames, renderFleet, type FleetOptions, type FleetRender } from './fleet';
import { openWorkspace, type OpenWorkspace } from './sites';

/** Below this many sites a worker's start-up (loading the catalog again) costs more than it saves. */
const MIN_SITES_PER_WORKER = 40;

interface Job {
  workspace: string;
  shippedCatalog: string;
  siteFiles: string[];
  targets: string[];
  allowUnresolved: boolean;
  refuseLockOuts: boolean;
}

type Reply = { ok: true; result: FleetRender } | { ok: false; issues?: LocatedIssue[]; message: string };

/**
 * renderFleet over worker threads, one per core: each loads the catalog once and renders a
 * share of the sites. Used only from the compiled package (a worker runs dist/ code) and for
 * fleets large enough to pay for it; the result is the same as renderFleet's, in the same order.
 */
export async function renderFleetParallel(
  ws: OpenWorkspace,
  siteFiles: string[],
  chosen: AnyTarget[],
  opts: FleetOptions = {},
): Promise<FleetRender> {
  const cores = Math.min(os.availableParallelism(), 8);
  const workers = Math.min(cores, Math.floor(siteFiles.length / MIN_SITES_PER_WORKER));
  if (workers < 2 || !__filename.endsWith('.js')) return renderFleet(ws, siteFiles, chosen, opts);
  // Site names must be unique across the shares too: checked here, with locations, before any work.
  assertUniqueSiteNames(ws, siteFiles);
  const size = Math.ceil(siteFiles.length / workers);
  const shares = Array.from({ length: workers }, (_, i) => siteFiles.slice(i * size, (i + 1) * size));
  const replies = await Promise.all(
    shares.map(
      (share) =>
        new Promise<Reply>((resolve, reject) => {
          const job: Job = {
            workspace: ws.file,
            shippedCatalog: ws.catalogLayers[0]!,
            siteFiles: share,
            targets: chosen.map((t) => t.id),
            allowUnresolved: opts.allowUnresolved ?? false,
            refuseLockOuts: opts.refuseLockOuts ?? true,
          };
          const w = new Worker(__filename, { workerData: job });
          w.once('message', resolve);
          w.once('error', reject);
          w.once('exit', (code) => code !== 0 && reject(new Error(`render worker exited with ${code}`)));
        }),
    ),
  );
  const failed = replies.filter((r): r is Extract<Reply, { ok: false }> => !r.ok);
  const issues = failed.flatMap((r) => r.issues ?? []);
  if (issues.length > 0) throw new InputError(issues);
  if (failed.length > 0) throw new Error(failed[0]!.message);
  const merged = renderFleet(ws, [], chosen, opts); // the sweep of the output folder, no site
  for (const r of replies) {
    const result = (r as Extract<Reply, { ok: true }>).result;
    merged.files.push(...result.files);
    merged.diagnostics.push(...result.diagnostics);
    merged.policies.push(...result.policies);
    merged.owned.push(...result.owned);
  }
  merged.owned = [...new Set(merged.owned)].sort();
  return merged;
}

if (!isMainThread && parentPort && (workerData as Job | undefined)?.workspace) {
  const job = workerData as Job;
  let reply: Reply;
  try {
    const ws = openWorkspace(job.workspace, job.shippedCatalog);
    reply = { ok: true, result: renderFleet(ws, job.siteFiles, chooseTargets(job.targets), { allowUnresolved: job.allowUnresolved, refuseLockOuts: job.refuseLockOuts }) };
  } catch (err) {
    reply = err instanceof InputError ? { ok: false, issues: err.issues, message: err.message } : { ok: false, message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  parentPort.postMessage(reply);
}
