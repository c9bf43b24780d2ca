import { formatLocation } from './errors';
import { buildPolicy } from './policy/build';
import type { Policy } from './policy/types';
import { addressBookFor } from './resolve/address-book';
import { targetById, targets } from './targets/registry';
import { renderPolicy, type RenderResult } from './targets/render';
import type { AnyTarget, Diagnostic } from './targets/types';
import { loadSite } from './workspace';

export class UnknownTargetError extends Error {}

export function chooseTargets(ids: string[] | undefined): AnyTarget[] {
  if (!ids || ids.length === 0) return targets;
  return ids.map((id) => {
    const t = targetById(id);
    if (!t) throw new UnknownTargetError(`unknown target '${id}' (known: ${targets.map((x) => x.id).join(', ')})`);
    return t;
  });
}

/** Catalog + profile + its lock → rendered files and diagnostics, all in memory. */
export function renderSite(catalogRoot: string, profileFile: string, chosen: AnyTarget[]): RenderResult & { policy: Policy } {
  const { catalog, profile } = loadSite(catalogRoot, profileFile);
  const policy = buildPolicy(catalog, profile, addressBookFor(profileFile));
  return { ...renderPolicy(policy, chosen, profile.targets), policy };
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.loc ? `${formatLocation(d.loc)}: ` : ''}${d.severity}: [${d.target}] ${d.message}`;
}
