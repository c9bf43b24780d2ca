import { parseKnown, toAddressSet, type AddressSet, type Family } from '../net/addresses';
import type { BoundClass, Policy, Rule } from '../policy/types';
import type { Diagnostics } from './diagnostics';

/** Below this TTL (seconds) pinned addresses go stale between two renders. */
export const LOW_TTL = 300;

export const FAMILIES: Family[] = ['ipv4', 'ipv6'];

/** What the other end of a rule comes to for a target that matches addresses only. */
export interface IpRemote {
  addresses: AddressSet;
  /** Why parts of the rule were left out, for a comment beside it. */
  leftOut: string[];
}

/**
 * The other end of a rule as addresses: literal networks plus the addresses the lock file
 * pinned for its names. Names that cannot be pinned (wildcards) or are not in the lock
 * are left out and reported; they never widen the rule.
 */
export function ipRemote(policy: Policy, rule: Rule, diags: Diagnostics, nativeHint: string, namesFollowed = false): IpRemote {
  const parts = [rule.remote.addresses];
  const leftOut: string[] = [];
  for (const name of rule.remote.names) {
    const info = policy.names.get(name)!;
    if (info.wildcard && namesFollowed) continue; // a DNS-fed set holds what the wildcard resolves to
    if (info.wildcard) {
      diags.add('warning', `${name}: a wildcard name cannot be pinned to addresses; left out. ${nativeHint}`, rule);
      leftOut.push(`${name} (wildcard)`);
      continue;
    }
    if (!info.addresses) {
      const where = policy.lockFile ? `the lock file ${policy.lockFile} does not hold it` : 'the profile has no lock file';
      if (policy.allowUnresolved) diags.add('warning', `${name} has no addresses: ${where}; its rule is left out`, rule);
      else diags.add('error', `${name} has no addresses: ${where}. Run fwgen resolve, or render with --allow-unresolved to leave such rules out`, rule);
      leftOut.push(`${name} (unresolved)`);
      continue;
    }
    if (info.stale) diags.add('warning', `${name}: its addresses are stale (${info.stale}); run fwgen resolve`, rule);
    const ttl = Math.min(info.ttl ?? Infinity, info.maxTtl ?? Infinity);
    if (ttl < LOW_TTL) {
      diags.add('warning', `${name}: its DNS answers live ${ttl} s; pinned addresses go stale before the next render. ${nativeHint}`, rule);
    }
    parts.push(info.addresses);
  }
  // The rule's own networks are aggregated already when the policy is built (and frozen: shared, not copied).
  if (parts.length === 1) return { addresses: rule.remote.addresses, leftOut };
  return { addresses: withNames(rule, parts), leftOut };
}

/**
 * A rule's networks and its names' pinned addresses, aggregated together once per rule:
 * every target asks, and the answer depends only on the rule and the lock (wildcards and
 * unpinned names add nothing, whichever target asks).
 */
const mergedRemotes = new WeakMap<Rule, AddressSet>();

function withNames(rule: Rule, parts: AddressSet[]): AddressSet {
  let merged = mergedRemotes.get(rule);
  if (!merged) {
    merged = toAddressSet(parseKnown(parts.flatMap((p) => [...p.ipv4, ...p.ipv6])));
    mergedRemotes.set(rule, merged);
  }
  return merged;
}

export function isEmpty(set: AddressSet): boolean {
  return set.ipv4.length === 0 && set.ipv6.length === 0;
}

/** All device-class addresses of the site, for gateway scoping. */
export function siteAddresses(policy: Policy): AddressSet {
  return classAddresses(policy.deviceClasses);
}

/** The addresses of some device classes, aggregated per family. */
export function classAddresses(classes: readonly BoundClass[]): AddressSet {
  return toAddressSet(parseKnown(classes.flatMap((c) => [...c.addresses.ipv4, ...c.addresses.ipv6])));
}
