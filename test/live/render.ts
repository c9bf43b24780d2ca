import { buildPolicy } from '../../src/policy/build';
import type { Policy } from '../../src/policy/types';
import { addressBookFor } from '../../src/resolve/address-book';
import { targetById } from '../../src/targets/registry';
import { formatDiagnostic } from '../../src/render/site';
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
  /** The render's warnings, as `fwgen render` prints them. */
  warnings: string[];
}

export type LinuxTarget = 'iptables' | 'nftables';

/** A target's mode as the profile sets it, else the target's default. */
function modeOf(options: Record<string, unknown> | undefined, targetId: LinuxTarget): Mode {
  const given = options?.mode;
  if (given === 'host' || given === 'gateway') return given;
  return targetById(targetId)!.options.mode.default as Mode;
}

/**
 * Renders the Linux targets of a profile as fwgen render does, with the profile's options and,
 * when `mode` is given, that mode instead of the profile's: the same policy seen by a host
 * firewall and by a gateway. Without `mode`, each target in the profile's own mode.
 */
export function renderLinux(profileFile: string, mode?: Mode): Record<LinuxTarget, Rendered> {
  const { catalog, profile } = loadSite(catalogRoot, profileFile);
  const policy = buildPolicy(catalog, profile, addressBookFor(profileFile), false);
  const one = (targetId: LinuxTarget): Rendered => {
    const options = { ...profile.targets[targetId], ...(mode ? { mode } : {}) };
    const result = renderPolicy(policy, [targetById(targetId)!], { ...profile.targets, [targetId]: options });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) throw new Error(`${profileFile} (${targetId}): ${errors.map((e) => e.message).join('\n')}`);
    const files = new Map(result.files.map((f) => [f.path.split('/').slice(2).join('/'), f.content]));
    const warnings = result.diagnostics.filter((d) => d.severity === 'warning').map(formatDiagnostic);
    return { policy, mode: mode ?? modeOf(profile.targets[targetId], targetId), files, warnings };
  };
  return { iptables: one('iptables'), nftables: one('nftables') };
}
