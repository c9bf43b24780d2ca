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
    diags.add('warning', text);
    return { interfaces: [], header: [`WARNING: ${text}.`] };
  }
  for (const c of bare.filter((x) => x.interface === undefined)) {
    diags.add('error', `device class ${c.id} has no IPv6 prefixes and no interface, so its IPv6 cannot be told apart and would be forwarded unfiltered; give it its IPv6 prefixes or its interface in the profile, or set targets.${target}.unfilteredIpv6: true`);
  }
  const interfaces = [...new Set(bare.flatMap((c) => (c.interface ? [c.interface] : [])))].sort();
  return {
    interfaces,
    header: interfaces.length ? [`IPv6: device classes without IPv6 prefixes (${ids}) have their forwarded IPv6 dropped on ${interfaces.join(', ')}.`] : [],
  };
}
