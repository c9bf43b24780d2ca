/**
 * The fleet's Ansible files: one inventory, one playbook and one requirements.yml over many
 * sites, written beside their folders (out/inventory.yml, out/site.yml). Each site is kept as
 * a small entry (its printed groups, its hosts, its empty groups, its collections), so a fleet
 * render holds no site's policy once the site is written, and the parts of a sharded render can
 * be assembled from the sites' committed inventories alone (shard-merge.ts). Pure: the same
 * entries give the same text, whatever order they come in.
 */
import { isIP } from 'node:net';
import { InputError, type LocatedIssue } from '../errors';
import type { Policy } from '../policy/types';
import {
  allGroups,
  ansibleOptions,
  collectionsOf,
  emptyGroupLines,
  emptyGroups,
  inventoryYaml,
  playbookWord,
  REQUIREMENTS_USE,
  requirementsYaml,
  siteGroups,
  varsYaml,
  yamlBody,
  yamlHeader,
  type InventoryGroup,
  type InventoryHost,
  type PlaybookId,
  type PlayId,
} from '../targets/ansible';

/** What the fleet's files need of one site, small enough to keep for every site of a fleet. */
export interface FleetEntry {
  name: string;
  /** The site's profile, as messages show it. */
  file: string;
  /** The site's groups as printed under `all.children`: the fleet's inventory is these one after another. */
  inventory: string;
  /** Every host of the site once, with the first group that names it. */
  hosts: Array<{ host: InventoryHost; group: string }>;
  /** Groups whose play has no hosts yet. */
  empty: Array<{ name: string; play?: PlayId }>;
  collections: string[];
}

/** The head of every inventory fwgen prints: the sites' groups follow it. */
const INVENTORY_HEAD = 'all:\n  children:\n';

/** Groups as printed under `all.children`. */
function printedGroups(groups: Record<string, unknown>): string {
  const text = varsYaml({ all: { children: groups } });
  if (!text.startsWith(INVENTORY_HEAD)) throw new Error('internal: an inventory without its all.children head');
  return text.slice(INVENTORY_HEAD.length);
}

/** A site's entry from its groups as data and as printed (from its policy, or read back from its committed inventory). */
export function siteEntry(name: string, file: string, groups: InventoryGroup, printed: Record<string, unknown>): FleetEntry {
  const hosts: FleetEntry['hosts'] = [];
  const seen = new Set<string>();
  const plays = new Set<PlaybookId>();
  for (const g of allGroups(groups)) {
    if (g.play) plays.add(g.play);
    for (const h of g.hosts) {
      if (seen.has(h.name)) continue;
      seen.add(h.name);
      hosts.push({ host: h, group: g.name });
    }
  }
  // The CloudFormation playbook is written beside aws.yml, with the same collection.
  if (plays.has('aws')) plays.add('aws-cloudformation');
  return {
    name,
    file,
    inventory: printedGroups({ [groups.name]: printed }),
    hosts,
    empty: emptyGroups(groups).map((g) => ({ name: g.name, play: g.play })),
    collections: collectionsOf(plays),
  };
}

export function fleetEntry(policy: Policy): FleetEntry {
  const groups = siteGroups(policy, ansibleOptions(policy));
  return siteEntry(policy.profile.name, policy.profile.file, groups, inventoryYaml(groups));
}

/**
 * A host takes its variables from every group it is in (fwgen_scope, the connection), so a
 * host in two sites' groups would run one site's plays with the other's values. A host the
 * profiles name is refused, naming both sites, at the place in the later site's profile that
 * puts it there. An address (what a class's single address gives when the profile names no
 * host) is what stores with one LAN layout share: those are listed in the fleet inventory's
 * header, so that no one runs site.yml over both sites before naming the hosts.
 */
function sharedHosts(entries: FleetEntry[]): string[] {
  const first = new Map<string, { site: string; group: string }>();
  const issues: LocatedIssue[] = [];
  const shared = new Map<string, Set<string>>();
  for (const e of entries) {
    for (const { host, group } of e.hosts) {
      const earlier = first.get(host.name);
      if (!earlier) first.set(host.name, { site: e.name, group });
      else if (!isIP(host.name)) issues.push(clash(e, group, host, earlier));
      else shared.set(host.name, (shared.get(host.name) ?? new Set([earlier.site])).add(e.name));
    }
  }
  if (issues.length > 0) throw new InputError(issues);
  return [...shared].map(([host, sites]) => `- ${host}: ${[...sites].join(', ')}`);
}

function clash(site: FleetEntry, group: string, host: InventoryHost, earlier: { site: string; group: string }): LocatedIssue {
  return {
    loc: host.loc ?? { file: site.file, line: 1, col: 1 },
    field: host.field,
    message:
      `host ${host.name} is in site ${earlier.site} (group ${earlier.group}) and in site ${site.name} (group ${group}); ` +
      'a host takes the variables of every group it is in, so it can serve one site only: name it differently in one of them ' +
      '(another inventory name, with ansible_host set to the address in an inventory of your own)',
  };
}

export function fleetFiles(policies: Policy[]): Array<{ path: string; content: string }> {
  return fleetFilesOf(policies.map(fleetEntry));
}

/** The fleet's files from each site's entry: what a render keeps of every site, or what shards left. */
export function fleetFilesOf(entries: FleetEntry[]): Array<{ path: string; content: string }> {
  const sorted = [...entries].sort((a, b) => a.name.localeCompare(b.name));
  const shared = sharedHosts(sorted);
  const sharedLines = shared.length === 0 ? [] : [
    'Addresses that are a host in several sites (the same LAN layout): name the hosts per site in targets.ansible.hosts before running site.yml over more than one of them:',
    ...shared,
  ];
  const header = (what: string[]) =>
    yamlHeader([
      'Generated by fwgen (fleet inventory). Do not edit: change the profiles and run fwgen render (in a workspace) or fwgen inventory again.',
      'Sites:',
      ...sorted.map((e) => `- ${e.name} (${e.file})`),
      ...what,
    ]);
  const text = (lines: string[], body: string) => `${[...lines, '---', body].join('\n')}\n`;
  const inventory = sorted.length === 0 ? varsYaml({ all: { children: {} } }) : INVENTORY_HEAD + sorted.map((e) => e.inventory).join('\n');
  const empty = sorted.flatMap((e) => e.empty);
  const playbook = sorted.map((e) => ({ name: `Site ${playbookWord(e.name)}`, 'ansible.builtin.import_playbook': playbookWord(`${e.name}/ansible/site.yml`) }));
  const collections = [...new Set(sorted.flatMap((e) => e.collections))].sort();
  return [
    {
      path: 'inventory.yml',
      content: text(header(['Groups: one per site (limit with --limit SITE), and per site its Linux, Windows, AWS and pfSense hosts.', ...emptyGroupLines(empty), ...sharedLines]), inventory),
    },
    { path: 'requirements.yml', content: text(header([`Holds: the Ansible collections the sites' plays use. ${REQUIREMENTS_USE}.`]), requirementsYaml(collections)) },
    { path: 'site.yml', content: text(header(['Use: ansible-playbook -i inventory.yml site.yml [--limit SITE] [--tags fwgen_linux] [--check --diff].']), yamlBody(playbook)) },
  ];
}
