import type { Policy } from '../policy/types';
import { Diagnostics } from './diagnostics';
import type { Diagnostic } from './types';

type Build<O, B> = (policy: Policy, o: O, scope: string | undefined, diags: Diagnostics) => B;

/**
 * One build per policy, options and scope: files(), check() and view() all ask for it, and
 * a build reads every rule's addresses. What the build said is kept and added to each
 * caller's diagnostics, so they come out as if it had been built again. A policy is not
 * changed once built, so the policy object itself is the key.
 */
export function sharedBuild<O, B>(target: string, build: Build<O, B>): Build<O, B> {
  const cache = new WeakMap<Policy, Map<string, { built: B; diagnostics: Diagnostic[] }>>();
  return (policy, o, scope, diags) => {
    let byKey = cache.get(policy);
    if (!byKey) cache.set(policy, (byKey = new Map()));
    const key = `${scope ?? ''}\u0000${JSON.stringify(o)}`;
    let hit = byKey.get(key);
    if (!hit) {
      const own = new Diagnostics(target);
      hit = { built: build(policy, o, scope, own), diagnostics: own.list() };
      byKey.set(key, hit);
    }
    diags.addAll(hit.diagnostics);
    return hit.built;
  };
}
