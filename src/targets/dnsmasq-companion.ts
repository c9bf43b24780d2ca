import type { Policy, Rule } from '../policy/types';
import type { Diagnostics } from './diagnostics';
import { commentLine } from './escape';
import { headerLines } from './header';

/**
 * With a dnsmasq companion, exact names are still pinned: a companion line for them would
 * admit every subdomain. The rules file and a warning say so, with the names.
 */
export function pinnedNote(pinned: string[], dnsmasq: boolean, diags: Diagnostics): string[] {
  if (!dnsmasq || pinned.length === 0) return [];
  const text = `exact host names are matched by the addresses pinned in the lock, not followed by the dnsmasq companion (its line for a name admits every name under it too): ${pinned.join(', ')}; run fwgen resolve and render again when they move`;
  diags.add('warning', text);
  return [`Names: ${text}.`];
}

/**
 * What a dnsmasq companion says: for each wildcard, the sets its answers go into.
 *
 * dnsmasq 2.90 matches an ipset=/nftset= domain as that name and every name under it (its
 * subdomains-only form /*.x/ works for --server and --address, not for sets: such a line
 * fills nothing). So exact names are never followed (a line for them would admit every
 * subdomain too); they are pinned from the lock. A wildcard *.x becomes /x/, which also
 * admits x itself: exact only when the catalog lists x beside *.x, else a warning says so.
 */
export class CompanionDomains {
  private readonly sets = new Map<string, Set<string>>();
  /** Domains whose line admits the apex the catalog did not name. */
  readonly apexWidened = new Set<string>();

  add(rule: Rule, names: string[], set: string, diags: Diagnostics): void {
    for (const name of names) {
      if (!name.startsWith('*.')) continue;
      const domain = name.slice(2);
      if (!rule.remote.names.includes(domain)) {
        this.apexWidened.add(domain);
        diags.add('warning', `${name}: the dnsmasq companion line /${domain}/ also admits ${domain} itself (dnsmasq 2.90 cannot fill a set from subdomains only); list ${domain} in the catalog if it is meant, or use pfSense or AWS Network Firewall for an exact match`, rule);
      }
      if (!this.sets.has(domain)) this.sets.set(domain, new Set());
      this.sets.get(domain)!.add(set);
    }
  }

  get size(): number {
    return this.sets.size;
  }

  /** One line per domain, `directive=/domain/set,set`, sorted. */
  lines(directive: 'nftset' | 'ipset'): string[] {
    return [...this.sets.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([d, sets]) => `${directive}=/${d}/${[...sets].sort().join(',')}`);
  }

  /** The header lines that say what the lines admit beyond the catalog. */
  reach(): string[] {
    return [...this.apexWidened].sort().map((d) => `Reach wider than the catalog: /${d}/ also admits ${d} itself (the catalog names only *.${d}).`);
  }
}

/** The header of a dnsmasq companion file, as comment lines. */
export function companionHeader(policy: Policy, targetId: string, rulesFile: string, setsFile: string, domains: CompanionDomains): string[] {
  return headerLines(policy, targetId, [
    `A dnsmasq companion to ${rulesFile}: every answer dnsmasq gives for these wildcard names goes into fwgen's sets.`,
    'A line /example.com/ covers example.com and every name under it (dnsmasq 2.90 has no subdomains-only form for sets),',
    'so only wildcards *.example.com are followed here. Exact names are not: a line for them would admit their subdomains too;',
    `their addresses are pinned from the lock file in ${rulesFile} instead (run fwgen resolve and render again when they move).`,
    ...domains.reach(),
    `Use: copy to /etc/dnsmasq.d/, make the devices use this dnsmasq as their resolver, and apply ${setsFile} first (it declares the sets).`,
    'Check: dnsmasq --test -C FILE.',
  ]).map((l) => `# ${commentLine(l)}`);
}

/** The hint for IP-only Linux targets, depending on whether the dnsmasq companion is written. */
export function linuxHint(dnsmasq: boolean): string {
  return dnsmasq
    ? 'The dnsmasq companion file follows wildcards only (a line for an exact name would admit its subdomains too): pin exact names from a fresh lock, or use pfSense FQDN aliases.'
    : 'Set dnsmasq: true for this target to have a dnsmasq companion follow it, or use pfSense FQDN aliases.';
}
