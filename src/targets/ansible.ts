import { Document, Scalar, type ToStringOptions } from 'yaml';
import { hostOrCidr } from '../net/addresses';
import { formatPort } from '../net/ports';
import type { Policy, Rule } from '../policy/types';
import { aws, securityGroups, type AwsOptions, type Permission } from './aws';
import { Diagnostics } from './diagnostics';
import { headerLines, ruleSummary } from './header';
import { resolveOptions } from './options';
import { ipRemote, isEmpty } from './remote-addresses';
import { classesWithRules, programOnly, WINDOWS_HOSTS } from './rule-selection';
import { sharedBuild } from './shared-build';
import { commentLine, oneLine } from './escape';
import { iptables, type IptablesOptions } from './iptables';
import { nftables, type NftOptions } from './nftables';
import { pfsense, pfsenseBuild, type PfsenseOptions } from './pfsense';
import { aliasNamePrefix, ownerMark } from './pfsense-identity';
import type { OutputFile, Target } from './types';
import { windows, type WindowsOptions } from './windows';

export interface AnsibleOptions {
  linux: 'nftables' | 'iptables';
  hosts: Record<string, string[]>;
}

/** A playbook: header comments, the host group it targets, the site it belongs to. */
export interface PlaybookView {
  header: string[];
  site: string;
  group: string;
  /** site.yml: the playbooks it imports. */
  imports: string[];
}

/** A YAML document (vars or inventory): header comments and the body, serialised in code. */
export interface DocumentView {
  header: string[];
  yaml: string;
}

type AnsibleView = PlaybookView | DocumentView;

/** Which other target's files the playbooks pick up: under out/<site>/<target>/, by relative path. */
interface Parts {
  linux?: { target: 'nftables' | 'iptables'; scopes: Record<string, LinuxFiles> };
  aws?: Record<string, unknown>;
  windows?: Record<string, unknown>;
  pfsense?: Record<string, unknown>;
}

/** The files of one Linux scope (a device class in host mode, `gateway` otherwise). */
interface LinuxFiles {
  rules: string[];
  ipsets?: string;
  dnsmasq?: string;
}

/** An Ansible group name for a site or class: letters, digits and underscores. */
export function groupName(...parts: string[]): string {
  return parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
}

function siblingOptions<O>(policy: Policy, target: Target<O, unknown>): O {
  return resolveOptions(target.options, policy.profile.targets?.[target.id], policy);
}

function linuxFiles(policy: Policy, which: 'nftables' | 'iptables'): Record<string, LinuxFiles> {
  const scopes: Record<string, LinuxFiles> = {};
  const files: OutputFile[] =
    which === 'nftables' ? nftables.files(policy, siblingOptions<NftOptions>(policy, nftables)) : iptables.files(policy, siblingOptions<IptablesOptions>(policy, iptables));
  for (const f of files) {
    const holds = f.holds!;
    const entry = (scopes[holds.deviceClass ?? 'gateway'] ??= { rules: [] });
    if (holds.part === 'rules') entry.rules.push(f.path);
    else entry[holds.part] = f.path;
  }
  return scopes;
}

/** amazon.aws.ec2_security_group takes one item per CIDR and port range, each with its description. */
function sgRules(perms: Permission[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const p of perms) {
    const base = { proto: p.IpProtocol, from_port: p.FromPort, to_port: p.ToPort };
    for (const r of p.IpRanges) out.push({ ...base, cidr_ip: r.CidrIp, rule_desc: r.Description });
    for (const r of p.Ipv6Ranges) out.push({ ...base, cidr_ipv6: r.CidrIpv6, rule_desc: r.Description });
  }
  return out;
}

function awsVars(policy: Policy): Record<string, unknown> {
  const o = siblingOptions<AwsOptions>(policy, aws);
  // The groups the aws target builds, descriptions already cut to AWS's limit and character set.
  const groups = securityGroups(policy, o).map((g) => ({
    name: g.name,
    description: g.description,
    device_class: g.deviceClass,
    rules: sgRules(g.ingress),
    rules_egress: sgRules(g.egress),
    tags: { 'fwgen:profile': policy.profile.name, 'fwgen:device-class': g.deviceClass },
  }));
  return {
    fwgen_aws_vpc_id: o.vpcId,
    fwgen_aws_stack_name: `fwgen-${policy.profile.name}`,
    fwgen_aws_template: 'aws/security-groups.cfn.json',
    fwgen_aws_groups: groups,
  };
}

const WIN_PROTOCOL: Record<string, string> = { tcp: 'tcp', udp: 'udp', icmp: 'icmpv4' };

/** Items for community.windows.win_firewall_rule, named and split as the .ps1 names them. */
function windowsItems(policy: Policy, o: WindowsOptions, rule: Rule, diags: Diagnostics): Array<Record<string, unknown>> {
  const name = `fwgen-${policy.profile.name}-${rule.id}`;
  const common = {
    group: o.group,
    description: oneLine(ruleSummary(rule)),
    direction: rule.direction === 'inbound' ? 'in' : 'out',
    action: 'allow',
    profiles: o.profiles.map((p) => p.toLowerCase()),
    enabled: true,
    state: 'present',
  };
  if (programOnly(rule)) {
    return rule.programs.map((program, i) => ({ name: rule.programs.length > 1 ? `${name}.${i + 1}` : name, ...common, protocol: 'any', program }));
  }
  const remote = ipRemote(policy, rule, diags, '');
  if (isEmpty(remote.addresses)) return [];
  const ports = rule.protocol === 'icmp' ? {} : { [rule.direction === 'inbound' ? 'localport' : 'remoteport']: rule.ports.map((p) => formatPort(p)).join(',') };
  const addresses = [...remote.addresses.ipv4, ...remote.addresses.ipv6].map(hostOrCidr);
  const parts = remoteParts(addresses);
  const programs = rule.programs.length > 0 ? rule.programs : [undefined];
  return parts.flatMap((part, i) =>
    programs.map((program, j) => ({
      name: `${name}${parts.length > 1 ? `.part${i + 1}` : ''}${programs.length > 1 ? `.${j + 1}` : ''}`,
      ...common,
      protocol: WIN_PROTOCOL[rule.protocol!],
      ...ports,
      remoteip: part.join(','),
      ...(program ? { program } : {}),
    })),
  );
}

/**
 * remoteip is one comma-separated string that YAML cannot fold, and ansible-lint refuses lines
 * over 160 characters: long address lists become several rules (name.partN), at most 1000
 * addresses each as Windows allows.
 */
const REMOTEIP_WIDTH = 110;
function remoteParts(addresses: string[]): string[][] {
  const parts: string[][] = [];
  let current: string[] = [];
  let width = 0;
  for (const a of addresses) {
    if (current.length > 0 && (width + 1 + a.length > REMOTEIP_WIDTH || current.length === 1000)) {
      parts.push(current);
      current = [];
      width = 0;
    }
    width += (current.length > 0 ? 1 : 0) + a.length;
    current.push(a);
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** Dynamic keyword addresses are beyond win_firewall_rule: such classes run their idempotent .ps1 instead. */
function usesKeywords(policy: Policy, o: WindowsOptions, deviceClass: string): boolean {
  return o.dynamicKeywords && policy.rules.some((r) => r.deviceClass === deviceClass && r.direction === 'outbound' && r.remote.names.length > 0);
}

function windowsVars(policy: Policy): Record<string, unknown> {
  const o = siblingOptions<WindowsOptions>(policy, windows);
  const classes: Record<string, unknown> = {};
  for (const c of classesWithRules(policy, WINDOWS_HOSTS)) {
    if (usesKeywords(policy, o, c)) {
      classes[c] = { script: `windows/${c}.ps1`, rules: [] };
      continue;
    }
    const diags = new Diagnostics(windows.id);
    classes[c] = { rules: policy.rules.filter((r) => r.deviceClass === c).flatMap((r) => windowsItems(policy, o, r, diags)) };
  }
  return { fwgen_windows_group: o.group, fwgen_windows: classes };
}

/** pfsensible's address syntax: [!]ALIAS, or any. */
function pfsensibleAddress(end: { address?: string; not?: boolean }): string {
  return end.address === undefined ? 'any' : `${end.not ? '!' : ''}${end.address}`;
}

function pfsenseVars(policy: Policy): Record<string, unknown> {
  const o = siblingOptions<PfsenseOptions>(policy, pfsense);
  const built = pfsenseBuild(policy, o);
  return {
    // What marks this site's own items on the firewall (pfsense-identity.ts): the play removes
    // a stale item only when it carries both.
    fwgen_pfsense_alias_prefix: aliasNamePrefix(o.aliasPrefix, policy.profile.name),
    fwgen_pfsense_rule_prefix: ownerMark(policy.profile.name),
    fwgen_pfsense_aliases: built.aliases.map((a) => ({ name: a.name, type: a.type, address: a.address, descr: a.descr, detail: a.detail })),
    fwgen_pfsense_rules: built.rules.map((r) => ({
      name: r.descr,
      action: r.type,
      interface: r.interface,
      ipprotocol: r.ipprotocol,
      protocol: r.protocol ?? 'any',
      source: pfsensibleAddress(r.source),
      destination: pfsensibleAddress(r.destination),
      ...(r.destination.port !== undefined ? { destination_port: r.destination.port } : {}),
      // pfsensible appends a new rule at the bottom: the block rule is moved back under it on every run.
      ...(r.type === 'block' ? { before: 'bottom' } : {}),
      tracker: String(r.tracker),
    })),
  };
}

function partsOnce(policy: Policy, o: AnsibleOptions): Parts {
  const out: Parts = {};
  const scopes = linuxFiles(policy, o.linux);
  if (Object.keys(scopes).length > 0) out.linux = { target: o.linux, scopes };
  if (classesWithRules(policy).length > 0) out.aws = awsVars(policy);
  if (classesWithRules(policy, WINDOWS_HOSTS).length > 0) out.windows = windowsVars(policy);
  const pf = pfsenseVars(policy);
  if ((pf.fwgen_pfsense_rules as unknown[]).length > 0) out.pfsense = pf;
  return out;
}

// Every file's view needs the parts, which embed what the other targets render.
const sharedParts = sharedBuild('ansible', (policy, o: AnsibleOptions) => partsOnce(policy, o));

function parts(policy: Policy, o: AnsibleOptions): Parts {
  return sharedParts(policy, o, undefined, new Diagnostics(ansible.id));
}

/** One site's groups: the site, its Linux/Windows/AWS/pfSense groups and a group per scope. */
export function siteInventory(policy: Policy, o: AnsibleOptions, siteDir: string): Record<string, unknown> {
  const site = groupName(policy.profile.name);
  const p = parts(policy, o);
  const single = (c: string): string[] => {
    const cls = policy.deviceClasses.find((d) => d.id === c);
    if (!cls) return [];
    const hosts = (list: string[]) => list.map(hostOrCidr).filter((a) => !a.includes('/'));
    const v4 = hosts(cls.addresses.ipv4);
    return v4.length > 0 ? v4 : hosts(cls.addresses.ipv6);
  };
  const hostsOf = (key: string, fallback: string[]): Record<string, null> =>
    Object.fromEntries([...(o.hosts[key] ?? fallback)].sort().map((h) => [h, null]));
  const scopeGroups = (scopes: string[], vars: (s: string) => Record<string, unknown>) =>
    Object.fromEntries(scopes.map((s) => [groupName(site, s), { hosts: hostsOf(s, s === 'gateway' ? [] : single(s)), vars: { fwgen_scope: s, ...vars(s) } }]));
  const children: Record<string, unknown> = {};
  if (p.linux) children[groupName(site, 'linux')] = { children: scopeGroups(Object.keys(p.linux.scopes), () => ({})) };
  if (p.windows) {
    // A class the catalog says may run either system is a Linux host unless `hosts` names it for Windows.
    const classes = Object.keys(p.windows.fwgen_windows as object).filter((c) => !p.linux?.scopes[c] || o.hosts[`windows:${c}`]);
    const groups = Object.fromEntries(
      classes.map((c) => [
        groupName(site, c, 'windows'),
        { hosts: hostsOf(`windows:${c}`, p.linux?.scopes[c] ? [] : (o.hosts[c] ?? single(c))), vars: { fwgen_scope: c, ansible_connection: 'winrm' } },
      ]),
    );
    if (classes.length > 0) children[groupName(site, 'windows')] = { children: groups };
  }
  if (p.aws) children[groupName(site, 'aws')] = { hosts: hostsOf('aws', []), vars: { ansible_connection: 'local', ansible_python_interpreter: new OwnTemplate('{{ ansible_playbook_python }}') } };
  if (p.pfsense) children[groupName(site, 'pfsense')] = { hosts: hostsOf('pfsense', []) };
  return { [site]: { vars: { fwgen_site: policy.profile.name, fwgen_dir: new OwnTemplate(`{{ inventory_dir }}/${playbookWord(siteDir)}`) }, children } };
}

/** The fleet: every site's groups under `all`, each pointing at its own folder beside the inventory. */
export function fleetInventory(sites: Array<{ policy: Policy; options: AnsibleOptions }>): Record<string, unknown> {
  const children: Record<string, unknown> = {};
  for (const s of [...sites].sort((a, b) => a.policy.profile.name.localeCompare(b.policy.profile.name))) {
    Object.assign(children, siteInventory(s.policy, s.options, s.policy.profile.name));
  }
  return { all: { children } };
}

export function ansibleOptions(policy: Policy): AnsibleOptions {
  return siblingOptions<AnsibleOptions>(policy, ansible);
}

/**
 * What the fleet's inventory and playbook need of one site, small enough to keep for every
 * site of a fleet once its policy is gone: its name, its profile file and its groups as they
 * are printed under `all.children` (each site's groups are printed on their own, so the
 * fleet's inventory is these pieces one after another).
 */
export interface FleetEntry {
  name: string;
  file: string;
  inventory: string;
}

/** The head of every inventory fwgen prints: the sites' groups follow it. */
const INVENTORY_HEAD = 'all:\n  children:\n';

export function fleetEntry(policy: Policy): FleetEntry {
  const name = policy.profile.name;
  return { name, file: policy.profile.file, inventory: inventoryGroups(siteInventory(policy, ansibleOptions(policy), name)) };
}

/** A site's groups as printed under `all.children`; `groups` is siteInventory's (or an inventory's children) for one site. */
export function inventoryGroups(groups: Record<string, unknown>): string {
  const text = varsYaml({ all: { children: groups } });
  if (!text.startsWith(INVENTORY_HEAD)) throw new Error('internal: an inventory without its all.children head');
  return text.slice(INVENTORY_HEAD.length);
}

/**
 * The fleet: one inventory and one playbook over many sites, written beside their folders
 * (out/inventory.yml, out/site.yml). Pure: the same policies give the same text.
 */
export function fleetFiles(policies: Policy[]): Array<{ path: string; content: string }> {
  return fleetFilesOf(policies.map(fleetEntry));
}

/** fleetFiles from each site's entry: what a render keeps of every site, or what shards left (see workspace/shard.ts). */
export function fleetFilesOf(entries: FleetEntry[]): Array<{ path: string; content: string }> {
  const sorted = [...entries].sort((a, b) => a.name.localeCompare(b.name));
  const seen = new Set<string>();
  for (const e of sorted) {
    if (seen.has(e.name)) throw new Error(`two profiles are named ${e.name}; site names must be unique in a fleet`);
    seen.add(e.name);
  }
  const header = (what: string[]) =>
    yamlHeader([
      'Generated by fwgen (fleet inventory). Do not edit: change the profiles and run fwgen render (in a workspace) or fwgen inventory again.',
      'Sites:',
      ...sorted.map((e) => `- ${e.name} (${e.file})`),
      ...what,
    ]);
  const text = (lines: string[], body: string) => `${[...lines, '---', body].join('\n')}\n`;
  const inventory = sorted.length === 0 ? varsYaml({ all: { children: {} } }) : INVENTORY_HEAD + sorted.map((e) => e.inventory).join('\n');
  const playbook = sorted.map((e) => ({ name: `Site ${playbookWord(e.name)}`, 'ansible.builtin.import_playbook': playbookWord(`${e.name}/ansible/site.yml`) }));
  return [
    { path: 'inventory.yml', content: text(header(['Groups: one per site (limit with --limit SITE), and per site its Linux, Windows, AWS and pfSense hosts.']), inventory) },
    { path: 'site.yml', content: text(header(['Use: ansible-playbook -i inventory.yml site.yml [--limit SITE] [--check --diff].']), yamlBody(playbook)) },
  ];
}

const COMMENT_WIDTH = 150; // ansible-lint's yaml rule refuses lines over 160 characters, comments included

/** Comment lines, long ones wrapped at spaces (a word longer than the width stays whole). */
export function yamlHeader(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    let current = '';
    for (const word of commentLine(line).split(' ')) {
      if (current && current.length + 1 + word.length > COMMENT_WIDTH) {
        out.push(`# ${current}`);
        current = `  ${word}`;
      } else current = current ? `${current} ${word}` : word;
    }
    out.push(`# ${current}`);
  }
  return out;
}

// Each value written out where it is used: an anchor and alias would leave a reader to find what an item holds.
const YAML_OPTIONS: ToStringOptions & { sortMapEntries: false; aliasDuplicateObjects: false } = {
  lineWidth: 150,
  minContentWidth: 40,
  sortMapEntries: false,
  nullStr: '',
  aliasDuplicateObjects: false,
};

/** YAML of fwgen's own making (a playbook list): every string in it has passed playbookWord. */
export function yamlBody(doc: unknown): string {
  return new Document(doc, YAML_OPTIONS).toString(YAML_OPTIONS).trimEnd();
}

/**
 * A Jinja expression of fwgen's own (`{{ inventory_dir }}/..`): the one kind of string the
 * vars and inventories leave for Ansible to template. Whatever data it holds has passed
 * playbookWord.
 */
export class OwnTemplate {
  constructor(readonly text: string) {}
}

/**
 * What Ansible reads as variables (vars files, inventories). Ansible templates every string
 * variable it uses, and a template can run commands on the controller; so each string here,
 * which comes from a profile, a catalog, a feed or a file name, is an `!unsafe` scalar, which
 * Ansible passes on as the literal text through vars, loops, set_fact and filters alike.
 * Keys are never templated; numbers and booleans hold no text.
 */
export function varsYaml(doc: unknown): string {
  const tagged = (_key: unknown, value: unknown): unknown => {
    if (value instanceof OwnTemplate) return new Scalar(value.text);
    if (typeof value !== 'string') return value;
    const scalar = new Scalar(value);
    scalar.tag = '!unsafe';
    return scalar;
  };
  return new Document(doc, tagged, YAML_OPTIONS).toString(YAML_OPTIONS).trimEnd();
}

/**
 * Data written into playbook text (a play's name and hosts:, a path in a play variable, the
 * fleet's imports), where Ansible templates it and no tag can mark it literal. Such data is
 * a site or group name, which the schema keeps to letters, digits, dashes and underscores;
 * this keeps any later change from letting a brace through.
 */
const PLAYBOOK_WORD = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export function playbookWord(text: string): string {
  if (!PLAYBOOK_WORD.test(text)) throw new Error(`internal: ${JSON.stringify(text)} would be templated by Ansible in a playbook; only letters, digits, '.', '-', '_' and '/' may be written there`);
  return text;
}

const PLAYBOOKS: Record<string, { template: string; what: string }> = {
  linux: { template: 'linux-%s.yml.hbs', what: 'installs, validates and applies the Linux rule files, keeps them across reboots' },
  aws: { template: 'aws.yml.hbs', what: 'one security group per device class with amazon.aws.ec2_security_group; rules not in the vars are removed' },
  'aws-cloudformation': { template: 'aws-cloudformation.yml.hbs', what: 'the alternative AWS path: deploys aws/security-groups.cfn.json as a stack' },
  windows: { template: 'windows.yml.hbs', what: 'Windows Firewall rules with community.windows.win_firewall_rule; removes fwgen rules no longer listed' },
  pfsense: { template: 'pfsense.yml.hbs', what: 'pfSense aliases and rules with pfsensible.core.pfsense_aggregate; removes only fwgen\'s own stale items' },
};

function header(policy: Policy, lines: string[]): string[] {
  return yamlHeader(headerLines(policy, 'ansible', lines));
}

function playbooksFor(p: Parts): string[] {
  const out: string[] = [];
  if (p.linux) out.push('linux');
  if (p.aws) out.push('aws');
  if (p.windows) out.push('windows');
  if (p.pfsense) out.push('pfsense');
  return out;
}

export const ansible: Target<AnsibleOptions, AnsibleView> = {
  id: 'ansible',
  describe: 'per site: playbooks and module vars that install and apply what the other targets rendered, and an inventory',
  apply: 'ansible-playbook -i inventory.yml site.yml --check --diff, then without --check',
  options: {
    linux: { describe: 'which Linux target the playbook installs: nftables or iptables', default: 'nftables' },
    hosts: {
      describe: 'inventory hosts per group: a device class, "gateway", "aws", "pfsense" or "windows:CLASS" (default: a class\'s single addresses)',
      default: {},
    },
  },
  files(policy, o) {
    const p = parts(policy, o);
    const files: OutputFile[] = [
      { path: 'site.yml', template: 'site.yml.hbs', scope: 'site' },
      { path: 'inventory.yml', template: 'document.yml.hbs', scope: 'inventory' },
    ];
    for (const id of playbooksFor(p)) {
      files.push({ path: `${id}.yml`, template: PLAYBOOKS[id]!.template.replace('%s', p.linux?.target ?? ''), scope: `play|${id}` });
      files.push({ path: `vars/${id}.yml`, template: 'document.yml.hbs', scope: `vars|${id}` });
    }
    if (p.aws) files.push({ path: 'aws-cloudformation.yml', template: PLAYBOOKS['aws-cloudformation']!.template, scope: 'play|aws-cloudformation' });
    // The play's own module, found by Ansible in the library/ folder beside the playbook.
    if (p.pfsense) files.push({ path: 'library/fwgen_pfsense_owned.py', template: 'fwgen_pfsense_owned.py.hbs', scope: 'library' });
    return files.sort((a, b) => a.path.localeCompare(b.path));
  },
  check(policy, o) {
    // The vars embed what the other targets would render: what stops them stops these too,
    // even when only this target is rendered.
    const siblings: Array<Target<unknown, unknown>> = [o.linux === 'iptables' ? iptables : nftables, aws, windows, pfsense] as Array<Target<unknown, unknown>>;
    return siblings.flatMap((t) =>
      t
        .check(policy, siblingOptions(policy, t))
        .filter((d) => d.severity === 'error')
        .map((d) => ({ ...d, target: ansible.id, message: `${d.message} (the ${t.id} files this target installs)` })),
    );
  },
  view(policy, o, file) {
    const p = parts(policy, o);
    const site = groupName(policy.profile.name);
    const [kind, id] = file.scope.split('|') as [string, string | undefined];
    if (file.scope === 'inventory') {
      return {
        header: header(policy, [
          `Holds: the inventory of site ${policy.profile.name}; put your hosts in its groups (targets.ansible.hosts in the profile).`,
          'Use: ansible-playbook -i inventory.yml site.yml (fwgen inventory writes one for many sites).',
        ]),
        yaml: varsYaml({ all: { children: siteInventory(policy, o, '..') } }),
      };
    }
    // A fixed file: nothing from the profile may reach Python source, not even a comment.
    if (kind === 'library') return { header: [], yaml: '' };
    if (kind === 'vars') {
      const doc = id === 'linux' ? { fwgen_linux_target: p.linux!.target, fwgen_linux: p.linux!.scopes } : p[id as 'aws' | 'windows' | 'pfsense'];
      return { header: header(policy, [`Holds: the ${id} variables ${id}.yml uses; paths are relative to the site folder (fwgen_dir).`]), yaml: varsYaml(doc) };
    }
    if (kind === 'play') {
      return { header: header(policy, [`Holds: a playbook that ${PLAYBOOKS[id!]!.what}.`, 'Dry run: ansible-playbook -i INVENTORY FILE --check --diff.']), site: playbookWord(policy.profile.name), group: playbookWord(groupName(site, id === 'aws-cloudformation' ? 'aws' : id!)), imports: [] };
    }
    return {
      header: header(policy, ['Holds: every play of this site. Dry run: ansible-playbook -i inventory.yml site.yml --check --diff.']),
      site: playbookWord(policy.profile.name),
      group: playbookWord(site),
      imports: playbooksFor(p).map((x) => `${x}.yml`),
    };
  },
};
