import { InputError, type SourceLocation } from '../errors';
import { readYaml } from './read-file';

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

/** A site that uses none of the targets asked for, and where its list of targets is. */
export interface SiteWithout {
  name: string;
  uses: SiteTargets;
}

/**
 * Whether any of the sites uses one of `wanted`, known before they are rendered: each list is
 * read from the profile's YAML alone (no catalog, no schema, so the render still loads each
 * profile once), and reading stops at the first site that uses one, or whose list is not a
 * list of names (its render says why). Returns the sites, each with its list, when none does.
 */
export function sitesWithout(files: string[], base: string, defaults: SiteTargets | undefined, wanted: string[]): SiteWithout[] | undefined {
  const out: SiteWithout[] = [];
  for (const file of files) {
    let src;
    try {
      src = readYaml(file, base);
    } catch (err) {
      if (err instanceof InputError) return undefined;
      throw err;
    }
    const profile = (src.data as { profile?: { name?: unknown; targets?: unknown } } | null)?.profile;
    const listed = profile?.targets;
    if (listed !== undefined && !(Array.isArray(listed) && listed.every((t) => typeof t === 'string'))) return undefined;
    const uses = listed === undefined ? defaults : { ids: listed as string[], origin: src.locate(['profile', 'targets']) };
    if (uses === undefined || wanted.some((id) => uses.ids.includes(id))) return undefined;
    out.push({ name: typeof profile?.name === 'string' ? profile.name : src.file, uses });
  }
  return out;
}
