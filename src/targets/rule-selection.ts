import { LINUX_HOSTS, WINDOWS_HOSTS } from '../policy/host-firewalls';
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

export { LINUX_HOSTS, WINDOWS_HOSTS };

/**
 * What becomes of a program-only rule that a target leaves out: the Windows script holds it
 * when the class runs Windows; on any other system (the profile's os, or the catalog's default)
 * nothing does, and the warning has to say so rather than point at a script that is not written.
 */
export function programRuleFate(policy: Policy, rule: Rule): string {
  const os = policy.deviceClasses.find((c) => c.id === rule.deviceClass)?.os ?? 'any';
  if (WINDOWS_HOSTS.includes(os)) return 'rendered for Windows';
  return `and no Windows script holds them either: ${rule.deviceClass} runs ${os} (deviceClasses.${rule.deviceClass}.os), so nothing fwgen writes allows them`;
}

/** The warning of a firewall that matches addresses and ports only, for a program-only rule it leaves out. */
export function programRuleLeftOut(policy: Policy, rule: Rule): string {
  return `${rule.vendor}/${rule.service}: allowing programs (${rule.programs.join(', ')}) needs a program-aware firewall; left out here, ${programRuleFate(policy, rule)}`;
}
