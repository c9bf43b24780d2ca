import { formatLocation } from './errors';
import { escapeUnsafe } from './unsafe-chars';
import { buildPolicy } from './policy/build';
import type { Policy } from './policy/types';
import { addressBookFor } from './resolve/address-book';
import { lockableNames, selectionDigest } from './resolve/update-lock';
import { targetById, targets } from './targets/registry';
import { renderPolicy, type RenderResult } from './targets/render';
import type { AnyTarget, Diagnostic } from './targets/types';
import type { Profile } from './catalog/profile';
import type { Catalog } from './catalog/types';
import { loadSite } from './workspace/sites';

export class UnknownTargetError extends Error {}

export function chooseTargets(ids: string[] | undefined): AnyTarget[] {
  if (!ids || ids.length === 0) return targets;
  return ids.map((id) => {
    const t = targetById(id);
    if (!t) throw new UnknownTargetError(`unknown target '${escapeUnsafe(id)}' (known: ${targets.map((x) => x.id).join(', ')})`);
    return t;
  });
}

/** Catalog + profile + its lock → rendered files and diagnostics, all in memory. */
export function renderSite(
  catalogRoot: string,
  profileFile: string,
  chosen: AnyTarget[],
  allowUnresolved = false,
): RenderResult & { policy: Policy } {
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
): RenderResult & { policy: Policy } {
  const book = addressBookFor(profileFile);
  const policy = buildPolicy(catalog, profile, book, allowUnresolved);
  const result = renderPolicy(policy, chosen, profile.targets);
  result.diagnostics.unshift(...policyDiagnostics(policy));
  const digest = selectionDigest(lockableNames(policy));
  if (book.file && book.selection !== digest) {
    result.diagnostics.unshift({
      severity: 'warning',
      target: 'lock',
      message: `${book.file} is stale: it was made for another selection (${book.selection}, now ${digest}); run fwgen resolve -p ${profile.file}`,
    });
  }
  return { ...result, policy };
}

/** The policy's own warnings (explicit "any" not acknowledged, acknowledgements that answer nothing), as diagnostics printed before the targets'. */
export function policyDiagnostics(policy: Pick<Policy, 'warnings'>): Diagnostic[] {
  return policy.warnings.map((w) => ({ severity: 'warning', target: 'policy', message: w.message, loc: w.loc }));
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.loc ? `${formatLocation(d.loc)}: ` : ''}${d.severity}: [${d.target}] ${escapeUnsafe(d.message)}`;
}

/**
 * Diagnostics as printed: what several targets of one site say alike (the same severity,
 * place and words) is one line naming them all, `[iptables, nftables]`, in the order first
 * said. A site's name, when the diagnostics carry one, starts its lines.
 */
export function formatDiagnostics(diags: ReadonlyArray<Diagnostic & { site?: string }>): { lines: string[]; errors: number } {
  const groups = new Map<string, { d: Diagnostic & { site?: string }; targets: string[] }>();
  for (const d of diags) {
    const key = [d.site ?? '', d.severity, d.loc ? formatLocation(d.loc) : '', d.message].join('\u0000');
    const g = groups.get(key);
    if (!g) groups.set(key, { d, targets: [d.target] });
    else if (!g.targets.includes(d.target)) g.targets.push(d.target);
  }
  const all = [...groups.values()];
  return {
    lines: all.map(({ d, targets }) => `${d.site !== undefined ? `${d.site}: ` : ''}${formatDiagnostic({ ...d, target: targets.join(', ') })}`),
    errors: all.filter(({ d }) => d.severity === 'error').length,
  };
}
