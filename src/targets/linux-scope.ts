import type { Family } from '../net/addresses';

/**
 * Which part of the policy a file of a Linux target (iptables, nftables) holds: the device
 * class whose host it runs on (none: the gateway in front of the classes), which of its
 * files, and the family where a file holds one. The ansible target reads these to install
 * the files; it never reads their names or text for it.
 */
export interface LinuxScope {
  /** Absent for the gateway: the one spelling of it in every Linux target. */
  deviceClass?: string;
  part: 'rules' | 'ipsets' | 'dnsmasq';
  family?: Family;
}

/** How the gateway is named where a scope is written for people and Ansible (an inventory group, fwgen_scope). */
export const GATEWAY_NAME = 'gateway';

/** The name of the host a Linux scope is for: its device class, or the gateway. */
export function linuxHostName(scope: Pick<LinuxScope, 'deviceClass'>): string {
  return scope.deviceClass ?? GATEWAY_NAME;
}
