import type { AddressSet, Family } from '../net/addresses';
import type { BoundClass, Policy } from '../policy/types';
import type { Diagnostics } from './diagnostics';
import { ipv6DropInterfaces } from './gateway-ipv6';
import { classAddresses } from './remote-addresses';

/**
 * A gateway filters every forwarded packet of the site's LAN interfaces (the interfaces its
 * device classes sit behind), not only the packets of the addresses it knows: otherwise a
 * device in no class is forwarded unfiltered, and a class device escapes its own policy by
 * adding an address alias. What iptables and nftables both enforce, decided once here:
 *
 * - anti-spoofing: an address of a class bound to interface X arriving on any other interface
 *   is dropped (whatever the policy option: fwgen's accept rules must not pass it);
 * - unclassified: with policy drop, a source arriving on X, or a destination forwarded out of
 *   X, that is in no class that may be there is dropped, unless the profile says
 *   `interfaces.X.unclassified: accept` (a warning).
 *
 * A class bound to no interface could sit anywhere: its addresses are accepted on every LAN
 * interface and arriving on any interface (they cannot be anti-spoofed; a warning says so).
 */

export interface LanInterface {
  name: string;
  /** The addresses of the classes bound to this interface: arriving on another interface they are spoofed. */
  bound: AddressSet;
  /** The addresses that may be a source or destination on this interface: its classes' and those of classes bound to none. */
  classified: AddressSet;
  /** Per family: is traffic of an address outside `classified` dropped on this interface? */
  dropUnclassified: Record<Family, boolean>;
}

export interface LanPlan {
  /** Sorted by name. */
  interfaces: LanInterface[];
  /** Interfaces whose forwarded IPv6 is dropped after the accept rules (classes without IPv6 prefixes, see gateway-ipv6.ts). */
  ipv6Drop: string[];
  /** For the file header, one sentence a line; the IPv6 lines apart, for a file of IPv4 alone. */
  header: string[];
  ipv6Header: string[];
}

export interface LanOptions {
  policy: 'drop' | 'accept';
  unfilteredIpv6: boolean;
}

function hasFamily(c: BoundClass, family: Family): boolean {
  return c.addresses[family].length > 0;
}

export function gatewayLan(policy: Policy, target: string, o: LanOptions, diags: Diagnostics): LanPlan {
  const v6 = o.policy === 'drop' ? ipv6DropInterfaces(policy, target, o.unfilteredIpv6, diags) : { interfaces: [], header: [] };
  const ipv6Header = [...v6.header];
  const settings = new Map(policy.interfaces.map((s) => [s.name, s]));
  const loose = policy.deviceClasses.filter((c) => c.interface === undefined);
  const names = [...new Set(policy.deviceClasses.flatMap((c) => (c.interface ? [c.interface] : [])))].sort();
  const header: string[] = [];

  for (const c of loose) {
    diags.add(
      'warning',
      `device class ${c.id} has no interface: at the gateway its addresses are accepted from any interface (no anti-spoofing) and as sources on every LAN interface; give it its interface in the profile`,
    );
  }

  const interfaces = names.map((name): LanInterface => {
    const own = policy.deviceClasses.filter((c) => c.interface === name);
    const setting = settings.get(name);
    const dropping = o.policy === 'drop' && setting?.unclassified !== 'accept';
    if (o.policy === 'drop' && setting?.unclassified === 'accept') {
      diags.addAt('warning', `interface ${name}: traffic of addresses in no device class is forwarded, not dropped (interfaces.${name}.unclassified: accept)`, setting.loc);
    }
    // unfilteredIpv6 forwards the IPv6 of classes without prefixes: their devices' addresses are in no class.
    const ipv6Unknown = o.unfilteredIpv6 && own.some((c) => !hasFamily(c, 'ipv6'));
    return {
      name,
      bound: classAddresses(own),
      classified: classAddresses([...own, ...loose]),
      dropUnclassified: { ipv4: dropping, ipv6: dropping && !ipv6Unknown },
    };
  });

  if (names.length > 0) {
    header.push(`LAN interfaces: ${names.join(', ')}. An address of a device class arriving on another interface than its class's is dropped (anti-spoofing).`);
  }
  for (const lan of o.policy === 'drop' ? interfaces : []) {
    const { ipv4, ipv6 } = lan.dropUnclassified;
    if (ipv4) header.push(`On ${lan.name}, traffic of addresses in no device class is dropped, both ways.`);
    else header.push(`WARNING: on ${lan.name}, traffic of addresses in no device class is forwarded (interfaces.${lan.name}.unclassified: accept).`);
    if (ipv4 && !ipv6) ipv6Header.push(`On ${lan.name}, IPv6 of addresses in no device class is forwarded: its classes without IPv6 prefixes have theirs forwarded unfiltered (unfilteredIpv6).`);
  }
  if (loose.length > 0) {
    header.push(`WARNING: device classes without an interface (${loose.map((c) => c.id).join(', ')}) are not anti-spoofed: their addresses are accepted from any interface.`);
  }

  // Where unclassified IPv6 is dropped already, the drop for classes without IPv6 prefixes adds nothing.
  const covered = new Set(interfaces.filter((l) => l.dropUnclassified.ipv6).map((l) => l.name));
  return { interfaces, ipv6Drop: v6.interfaces.filter((i) => !covered.has(i)), header, ipv6Header };
}
