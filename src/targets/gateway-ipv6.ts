import type { Policy } from '../policy/types';
import type { Diagnostics } from './diagnostics';

export const unfilteredIpv6Option = {
  describe: 'gateway mode: forward the IPv6 traffic of device classes without IPv6 prefixes unfiltered (loudly); by default it is dropped on their interface',
  default: false,
};

/**
 * Gateway mode: a device class without IPv6 prefixes cannot be matched by address, so its
 * IPv6 is dropped on its interface (after the accept rules, so classes with prefixes on the
 * same interface keep what they are allowed). Without an interface there is nothing to match
 * it by: an error, unless the profile turns the drop off, which is then said out loud.
 * Returns the interfaces to drop forwarded IPv6 on, sorted.
 */
export function ipv6DropInterfaces(policy: Policy, target: string, unfiltered: boolean, diags: Diagnostics): { interfaces: string[]; header: string[] } {
  const bare = policy.deviceClasses.filter((c) => c.addresses.ipv6.length === 0);
  if (bare.length === 0) return { interfaces: [], header: [] };
  const ids = bare.map((c) => c.id).join(', ');
  if (unfiltered) {
    const text = `IPv6 of device classes without IPv6 prefixes (${ids}) is forwarded UNFILTERED: targets.${target}.unfilteredIpv6 is true`;
    diags.add('warning', `IPv6 of device classes without IPv6 prefixes (${ids}) is forwarded UNFILTERED: unfilteredIpv6 is true`);
    return { interfaces: [], header: [`WARNING: ${text}.`] };
  }
  // The messages name no target, so iptables and nftables saying the same print as one line.
  for (const c of bare) {
    if (c.interface === undefined) {
      diags.add('error', `device class ${c.id} has no IPv6 prefixes and no interface, so its IPv6 cannot be told apart and would be forwarded unfiltered; give it its IPv6 prefixes or its interface in the profile, or set unfilteredIpv6: true under the target`, c.origin);
    } else {
      diags.add('warning', `device class ${c.id} has no IPv6 prefixes, so the gateway drops its forwarded IPv6 on ${c.interface}; bind its IPv6 prefixes to filter it by address, or set unfilteredIpv6: true under the target to forward it unfiltered`, c.origin);
    }
  }
  const interfaces = [...new Set(bare.flatMap((c) => (c.interface ? [c.interface] : [])))].sort();
  return {
    interfaces,
    header: interfaces.length ? [`IPv6: device classes without IPv6 prefixes (${ids}) have their forwarded IPv6 dropped on ${interfaces.join(', ')}.`] : [],
  };
}
