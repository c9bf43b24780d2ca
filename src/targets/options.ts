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
