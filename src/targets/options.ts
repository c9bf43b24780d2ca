import type { SourceLocation } from '../errors';
import type { Policy } from '../policy/types';
import type { OptionSpec } from './types';

/** Option values for one target: the profile's, else the defaults. */
export function resolveOptions<O>(spec: OptionSpec<O>, given: Record<string, unknown> | undefined, policy: Policy): O {
  const out: Record<string, unknown> = {};
  for (const [key, info] of Object.entries(spec) as Array<[string, { default: unknown }]>) {
    const value = given?.[key];
    out[key] = value !== undefined ? value : typeof info.default === 'function' ? (info.default as (p: Policy) => unknown)(policy) : info.default;
  }
  return out as O;
}

/**
 * Where the profile sets a target option (`['ansible', 'hosts', 'gateway']`), or the nearest
 * place above it that it does write: a message about an option's default points at where it
 * would go.
 */
export function optionLocation(policy: Policy, path: string[]): SourceLocation | undefined {
  const at = policy.profile.targetsAt ?? {};
  for (let n = path.length; n >= 0; n--) {
    const found = at[path.slice(0, n).join('.')];
    if (found) return found;
  }
  return undefined;
}
