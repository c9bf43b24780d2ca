import type { Policy } from '../policy/types';
import { Diagnostics } from './diagnostics';
import { scopeKey } from './scope';
import type { Diagnostic } from './types';

/** A build of one policy and options for one key: the part of the policy it is made for (a device class, say), as data. */
type Build<O, K, B> = (policy: Policy, o: O, key: K, diags: Diagnostics) => B;

/**
 * One build per policy, options and key: files(), check() and view() all ask for it, and
 * a build reads every rule's addresses. What the build said is kept and added to each
 * caller's diagnostics, so they come out as if it had been built again. A policy is not
 * changed once built, so the policy object itself is the key.
 */
export function sharedBuild<O, K, B>(target: string, build: Build<O, K, B>): Build<O, K, B> {
  const cache = new WeakMap<Policy, Map<string, { built: B; diagnostics: Diagnostic[] }>>();
  return (policy, o, key, diags) => {
    let byKey = cache.get(policy);
    if (!byKey) cache.set(policy, (byKey = new Map()));
    const cacheKey = `${scopeKey(key)}\u0000${JSON.stringify(o)}`;
    let hit = byKey.get(cacheKey);
    if (!hit) {
      const own = new Diagnostics(target);
      hit = { built: build(policy, o, key, own), diagnostics: own.list() };
      byKey.set(cacheKey, hit);
    }
    diags.addAll(hit.diagnostics);
    return hit.built;
  };
}
