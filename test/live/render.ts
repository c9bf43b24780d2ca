import { buildPolicy } from '../../src/policy/build';
import type { Policy } from '../../src/policy/types';
import { addressBookFor } from '../../src/resolve/address-book';
import { targetById } from '../../src/targets/registry';
import { renderPolicy } from '../../src/targets/render';
import { loadSite } from '../../src/workspace';
import { catalogRoot } from '../helpers';

export type Mode = 'host' | 'gateway';

export interface Rendered {
  policy: Policy;
  /** The mode the files were rendered in. */
  mode: Mode;
  /** File name (without <profile>/<target>/) → content. */
  files: Map<string, string>;
}

/** The profile's own mode for a target (the target's default when the profile says none). */
export function profileMode(profileFile: string, targetId: string): Mode {
  const { profile } = loadSite(catalogRoot, profileFile);
  const given = profile.targets[targetId]?.mode;
  if (given === 'host' || given === 'gateway') return given;
  return targetById(targetId)!.options.mode.default as Mode;
}

/**
 * Renders one Linux target of a profile as fwgen render does, with the profile's options and,
 * when `mode` is given, that mode instead of the profile's: the same policy seen by a host
 * firewall and by a gateway.
 */
export function renderTarget(profileFile: string, targetId: 'iptables' | 'nftables', mode?: Mode): Rendered {
  const { catalog, profile } = loadSite(catalogRoot, profileFile);
  const policy = buildPolicy(catalog, profile, addressBookFor(profileFile), false);
  const options = { ...profile.targets[targetId], ...(mode ? { mode } : {}) };
  const result = renderPolicy(policy, [targetById(targetId)!], { ...profile.targets, [targetId]: options });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`${profileFile} (${targetId}): ${errors.map((e) => e.message).join('\n')}`);
  const files = new Map(result.files.map((f) => [f.path.split('/').slice(2).join('/'), f.content]));
  return { policy, mode: mode ?? profileMode(profileFile, targetId), files };
}
