import type { Policy, Rule } from '../policy/types';

/** A program-only rule (the vendor names an application, not traffic): Windows alone can hold it. */
export function programOnly(rule: Rule): boolean {
  return rule.protocol === undefined;
}

/** Device classes that have rules, optionally only those whose devices run one of `systems`. */
export function classesWithRules(policy: Policy, systems?: string[]): string[] {
  return policy.deviceClasses
    .filter((c) => !systems || systems.includes(c.os))
    .map((c) => c.id)
    .filter((id) => policy.rules.some((r) => r.deviceClass === id));
}

/** Host firewalls on Linux (iptables, nftables) make sense only where the device can run them. */
export const LINUX_HOSTS = ['linux', 'any'];

export const WINDOWS_HOSTS = ['windows', 'any'];
