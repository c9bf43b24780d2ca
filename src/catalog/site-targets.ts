import type { SourceLocation } from '../errors';

/**
 * The targets a site uses, as its profile (profile.targets) or the workspace's fwgen.yaml
 * (targets) lists them: render, check, diff and the Ansible inventory cover exactly these.
 */
export interface SiteTargets {
  ids: string[];
  /** Where the list is written: messages about a target the site does not use point there. */
  origin: SourceLocation;
}

/** Whether a site renders a target: every target when it lists none. */
export function usesTarget(site: { uses?: SiteTargets }, id: string): boolean {
  return site.uses === undefined || site.uses.ids.includes(id);
}
