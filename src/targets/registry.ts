import { ansible } from './ansible';
import { aws } from './aws';
import { iptables } from './iptables';
import { networkFirewall } from './network-firewall';
import { nftables } from './nftables';
import { withParts } from './parts';
import { pfsense } from './pfsense';
import { windows } from './windows';
import type { AnyTarget } from './types';

/**
 * Every target fwgen renders, in the order `fwgen targets` lists them. The aws target writes
 * the Network Firewall rule group beside its security groups: a generator of its own, in the
 * aws folder and under the aws name.
 */
export const targets: AnyTarget[] = [iptables, nftables, pfsense, windows, withParts(aws, [networkFirewall]), ansible];

export function targetById(id: string): AnyTarget | undefined {
  return targets.find((t) => t.id === id);
}
