import * as path from 'node:path';
import { formatLocation, UsageError } from '../errors';
import { escapeUnsafe } from '../util/unsafe-chars';
import { formatSnapshot, policySnapshot, SNAPSHOT_FILE, type SnapshotFamily, type SnapshotLimit } from '../policy/snapshot';
import type { Policy } from '../policy/types';
import { buildSitePolicy } from '../resolve/address-book';
import { FAMILIES, lockPathFor, readLock } from '../resolve/lock';
import { lockableNames, selectionDigest } from '../resolve/update-lock';
import { targetById, targets } from '../targets/registry';
import { resolveOptions } from '../targets/options';
import { renderPolicy, type RenderedFile, type RenderResult } from '../targets/render';
import type { AnyTarget, Diagnostic } from '../targets/types';
import type { Profile } from '../catalog/profile';
import type { Catalog } from '../catalog/types';
import { usesTarget } from '../catalog/site-targets';
import { loadSite } from '../site/load';
import { append } from '../util/append';

export class UnknownTargetError extends UsageError {}

export function chooseTargets(ids: string[] | undefined): AnyTarget[] {
  if (!ids || ids.length === 0) return targets;
  return ids.map((id) => {
    const t = targetById(id);
    if (!t) throw new UnknownTargetError(`unknown target '${escapeUnsafe(id)}' (known: ${targets.map((x) => x.id).join(', ')})`);
    return t;
  });
}

/** Of the targets chosen, those the site uses (its profile's or the workspace's list). */
export function siteTargets(profile: Pick<Profile, 'uses'>, chosen: AnyTarget[]): AnyTarget[] {
  return chosen.filter((t) => usesTarget(profile, t.id));
}

/**
 * A rendered site: the files and diagnostics of the chosen targets the site uses, the policy,
 * and the policy snapshot (<site>/policy.json), which is the same whichever targets were chosen.
 */
export type SiteRender = RenderResult & { policy: Policy; snapshot: RenderedFile };

/** Catalog + profile + its lock → rendered files and diagnostics, all in memory. */
export function renderSite(
  catalogRoot: string,
  profileFile: string,
  chosen: AnyTarget[],
  allowUnresolved = false,
): SiteRender {
  const { catalog, profile } = loadSite(catalogRoot, profileFile);
  return renderProfile(catalog, profile, profileFile, chosen, allowUnresolved);
}

/** One site against a catalog already loaded: what a workspace does for each of its sites. */
export function renderProfile(
  catalog: Catalog,
  profile: Profile,
  profileFile: string,
  chosen: AnyTarget[],
  allowUnresolved = false,
  refuseLockOuts = true,
): SiteRender {
  const { policy, book } = buildSitePolicy(catalog, profile, profileFile, allowUnresolved, refuseLockOuts);
  const result = renderPolicy(policy, siteTargets(profile, chosen), profile.targets);
  result.diagnostics = [...policyDiagnostics(policy), ...result.diagnostics];
  const digest = selectionDigest(lockableNames(policy));
  if (book.file && book.selection !== digest) {
    result.diagnostics.unshift({
      severity: 'warning',
      target: 'lock',
      message: `${book.file} is stale: it was made for another selection (${book.selection}, now ${digest}); run fwgen resolve -p ${profile.file}`,
    });
  }
  const snapshot = policySnapshot({
    policy,
    catalog,
    profile,
    staleFamilies: staleFamiliesOf(policy, profileFile),
    limits: targetLimits(policy, siteTargets(profile, targets), profile.targets),
  });
  return { ...result, policy, snapshot: { path: snapshotPath(policy.profile.name), content: formatSnapshot(snapshot) } };
}

/** Where a site's policy snapshot sits under the output folder. */
export function snapshotPath(site: string): string {
  return path.posix.join(site, SNAPSHOT_FILE);
}

/** What a site's render speaks for in the output folder: its targets' folders and its policy snapshot. */
export function ownedBy(site: string, chosen: AnyTarget[]): string[] {
  return [...chosen.map((t) => path.posix.join(site, t.id)), snapshotPath(site)];
}

/**
 * What each target the site uses cannot hold, whichever were chosen: the snapshot must not
 * depend on `--target`. Each target's limits are found without building its files, so a
 * render for one target does not pay for the others.
 */
function targetLimits(policy: Policy, used: AnyTarget[], given: Record<string, Record<string, unknown>>): SnapshotLimit[] {
  const all: Diagnostic[] = [];
  for (const t of used) if (t.limits) append(all, t.limits(policy, resolveOptions(t.options, given[t.id], policy)));
  return all.map((d) => ({ target: d.target, severity: d.severity, message: d.message, ...(d.loc ? { at: `${d.loc.file}:${d.loc.line}` } : {}) }));
}

/**
 * The policy says a name is stale as one line; the lock says which family. A name whose IPv6
 * lookup already failed at the base and whose IPv4 lookup fails now is newly stale.
 */
function staleFamiliesOf(policy: Policy, profileFile: string): Map<string, SnapshotFamily[]> {
  const out = new Map<string, SnapshotFamily[]>();
  if (![...policy.names.values()].some((n) => n.stale)) return out;
  for (const [name, e] of readLock(lockPathFor(profileFile)).lock.names) {
    // As the policy describes it: a family is stale only where the lock still holds its addresses.
    const fams = FAMILIES.filter((f) => e.stale?.[f] && e[f].length > 0);
    if (fams.length > 0) out.set(name, fams);
  }
  return out;
}

/** The policy's own warnings (explicit "any" not acknowledged, acknowledgements that answer nothing), as diagnostics printed before the targets'. */
export function policyDiagnostics(policy: Pick<Policy, 'warnings'>): Diagnostic[] {
  return policy.warnings.map((w) => ({ severity: 'warning', target: 'policy', message: w.message, loc: w.loc }));
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.loc ? `${formatLocation(d.loc)}: ` : ''}${d.severity}: [${d.target}] ${escapeUnsafe(d.message)}`;
}

/** How many sites a warning several sites share names before it only counts the rest. */
const SITES_NAMED = 3;

/**
 * Diagnostics as printed: what several targets of one site say alike (the same severity,
 * place and words) is one line naming them all, `[iptables, nftables]`, in the order first
 * said. A site's name, when the diagnostics carry one, starts its lines. A warning several
 * sites share word for word and place for place (a fleet's stores alike: 10,000 of them gave
 * 10,000 lines of one warning) is one line, counting them and naming the first few:
 * `3 sites (store-1, store-2, store-3): warning: ...`. Errors are each said with their site:
 * every one is something to fix.
 */
export function formatDiagnostics(diags: ReadonlyArray<Diagnostic & { site?: string }>): { lines: string[]; errors: number } {
  const groups = new Map<string, { d: Diagnostic & { site?: string }; targets: string[] }>();
  for (const d of diags) {
    const key = [d.site ?? '', d.severity, d.loc ? formatLocation(d.loc) : '', d.message].join('\u0000');
    const g = groups.get(key);
    if (!g) groups.set(key, { d, targets: [d.target] });
    else if (!g.targets.includes(d.target)) g.targets.push(d.target);
  }
  /** Each line as said, without its site, with the sites that say it (none for a line of no site), in the order first said. */
  const lines: Array<{ text: string; sites: string[] }> = [];
  /** The warnings (and notes) of sites, by their text: where another site's same line joins. */
  const shared = new Map<string, { text: string; sites: string[] }>();
  let errors = 0;
  for (const { d, targets } of groups.values()) {
    const text = formatDiagnostic({ ...d, target: targets.join(', ') });
    if (d.severity === 'error') errors++;
    const shareable = d.severity !== 'error' && d.site !== undefined;
    const earlier = shareable ? shared.get(text) : undefined;
    if (earlier) {
      earlier.sites.push(d.site!);
      continue;
    }
    const line = { text, sites: d.site === undefined ? [] : [d.site] };
    lines.push(line);
    if (shareable) shared.set(text, line);
  }
  return { lines: lines.map((l) => `${sitesPrefix(l.sites)}${l.text}`), errors };
}

/** Who says a line: `store-1: `, or for several sites their count and the first few names. */
function sitesPrefix(sites: string[]): string {
  if (sites.length === 0) return '';
  if (sites.length === 1) return `${sites[0]}: `;
  const named = sites.slice(0, SITES_NAMED).join(', ');
  const more = sites.length - SITES_NAMED;
  return `${sites.length} sites (${more > 0 ? `${named} and ${more} more` : named}): `;
}
