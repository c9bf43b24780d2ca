import type { Policy } from '../policy/types';
import type { Diagnostics } from './diagnostics';

/** The option every target has: an output with no allow rule is refused unless the profile says it is meant. */
export const allowEmptyOption = {
  describe: 'accept an output that holds no allow rule (a selection that yields nothing, or whose rules were all left out); refused otherwise',
  default: false,
};

/**
 * A file that allows nothing, applied with a default drop, locks the devices out (or, for
 * pfSense, wipes the sections it restores). Left-out rules count as none.
 */
export function refuseEmpty(diags: Diagnostics, target: string, allowEmpty: boolean, what: string, allowRules: number, effect: string): void {
  if (allowRules > 0 || allowEmpty) return;
  diags.add('error', `${what} holds no allow rule (nothing selected for it, or every rule was left out); applying it would ${effect}. Set targets.${target}.allowEmpty: true in the profile if that is meant`);
}

/**
 * A target with no file to write: an error when the selection yields no rule at all, a
 * warning when the rules are for devices this target does not fit (Windows-only, say).
 */
export function refuseNoFiles(diags: Diagnostics, policy: Policy, target: string, allowEmpty: boolean, why: string): void {
  if (allowEmpty) return;
  if (policy.rules.length === 0) refuseEmpty(diags, target, false, `the ${target} output`, 0, 'leave the devices without the flows the profile is for');
  else diags.add('warning', `nothing to write for ${target}: ${why}; a site that does not use it leaves it out of its targets (profile.targets, or targets in fwgen.yaml)`);
}
