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

export { LINUX_HOSTS, WINDOWS_HOSTS } from '../policy/host-firewalls';
