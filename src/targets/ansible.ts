import type { ToStringOptions } from 'yaml';
import { usesTarget } from '../catalog/site-targets';
import type { SourceLocation } from '../errors';
import { hostOrCidr, type Family } from '../net/addresses';
import { formatPort } from '../net/ports';
import type { Policy, Rule } from '../policy/types';
import type * as AwsModule from './aws';
import type { AwsOptions, Permission } from './aws';
import { Diagnostics } from './diagnostics';
import { headerLines, ruleSummary } from './header';
import { optionLocation, resolveOptions } from './options';
import { FAMILIES, ipRemote, isEmpty } from './remote-addresses';
import { classesWithRules, programOnly, WINDOWS_HOSTS } from './rule-selection';
import { sharedBuild } from './shared-build';
import { commentLine, oneLine } from './escape';
import type * as IptablesModule from './iptables';
import type { IptablesOptions } from './iptables';
import type * as NftablesModule from './nftables';
import type { NftOptions } from './nftables';
import type * as PfsenseModule from './pfsense';
import type { PfsenseOptions } from './pfsense';
import { aliasNamePrefix, ownerMark } from './pfsense-identity';
import { GATEWAY_NAME, linuxHostName, type LinuxScope } from './linux-scope';
import type { AnyTarget, Diagnostic, OutputFile, Target } from './types';
import { targets } from './registry';
import type * as WindowsModule from './windows';
import type { WindowsOptions } from './windows';
import { yamlPackage } from '../util/yaml-package';
import { rememberedYaml } from '../catalog/yaml-text-memo';

/**
 * The other targets' modules, loaded when the playbooks' vars are built: a render of another
 * target only asks this one for its limits, and loading every target and `yaml` for that was
 * most of such a run's start-up.
 */
const awsModule = () => require('./aws') as typeof AwsModule;
const iptablesModule = () => require('./iptables') as typeof IptablesModule;
const nftablesModule = () => require('./nftables') as typeof NftablesModule;
const pfsenseModule = () => require('./pfsense') as typeof PfsenseModule;
const windowsModule = () => require('./windows') as typeof WindowsModule;

/** The targets whose files the playbooks install, each as its own module has it. */
const SIBLINGS = {
  iptables: () => iptablesModule().iptables,
  nftables: () => nftablesModule().nftables,
  aws: () => awsModule().aws,
  windows: () => windowsModule().windows,
  pfsense: () => pfsenseModule().pfsense,
} satisfies Record<string, () => AnyTarget>;
type SiblingId = keyof typeof SIBLINGS;

/** The plays a site can have, in the order site.yml imports them. */
export const PLAY_IDS = ['linux', 'aws', 'windows', 'pfsense'] as const;
export type PlayId = (typeof PLAY_IDS)[number];

export interface AnsibleOptions {
  linux: 'nftables' | 'iptables';
  hosts: Record<string, string[]>;
  plays: PlayId[];
}

/** A playbook: header comments, the host group it targets, the site it belongs to. */
export interface PlaybookView {
  header: string[];
  site: string;
  group: string;
  /** The play's tags: `fwgen` and its own (fwgen_linux, ...), so --tags picks plays across sites. */
  tags: string;
  /** site.yml: the playbooks it imports, each with its tags. */
  imports: Array<{ file: string; tags: string }>;
}

/** A YAML document (vars or inventory): header comments and the body, serialised in code. */
export interface DocumentView {
  header: string[];
  yaml: string;
}

type AnsibleView = PlaybookView | DocumentView;

/** Which other target's files the playbooks pick up: under out/<site>/<target>/, by relative path. */
interface Parts {
  linux?: { target: 'nftables' | 'iptables'; hosts: LinuxHost[] };
  aws?: Record<string, unknown>;
  /** The vars, and the classes that get a Windows group (a class either system may run is Linux unless hosts say Windows). */
  windows?: { vars: Record<string, unknown>; classes: string[] };
  pfsense?: Record<string, unknown>;
}

/** The files of one Linux host: a device class in host mode, the gateway (no class) otherwise. */
interface LinuxHost {
  deviceClass?: string;
  files: LinuxFiles;
}

/** What the Linux play installs on a host, by path under the target's folder. */
interface LinuxFiles {
  rules: string[];
  ipsets?: string;
  dnsmasq?: string;
  /** nftables: the table the file replaces, which the play lists to see whether the kernel's rules moved. */
  table?: string;
}

/** An Ansible group name for a site or class: letters, digits and underscores. */
export function groupName(...parts: string[]): string {
  return parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
}

/** Where a sibling's file is, relative to the site folder the plays run from. */
function siblingPath(target: { id: string }, file: OutputFile): string {
  return `${target.id}/${file.path}`;
}

function siblingOptions<O>(policy: Policy, target: Target<O, unknown>): O {
  return resolveOptions(target.options, policy.profile.targets?.[target.id], policy);
}

/** The Linux target's files, grouped by the host they are for, as its typed scopes say. */
function linuxHosts(policy: Policy, which: 'nftables' | 'iptables'): LinuxHost[] {
  const { nftables } = nftablesModule();
  const nft = siblingOptions<NftOptions>(policy, nftables);
  const files: Array<OutputFile<LinuxScope>> =
    which === 'nftables' ? nftables.files(policy, nft) : iptablesModule().iptables.files(policy, siblingOptions<IptablesOptions>(policy, iptablesModule().iptables));
  const hosts = new Map<string | undefined, LinuxHost>();
  for (const { path, scope } of files) {
    let host = hosts.get(scope.deviceClass);
    if (!host) {
      host = { deviceClass: scope.deviceClass, files: which === 'nftables' ? { rules: [], table: nft.table } : { rules: [] } };
      hosts.set(scope.deviceClass, host);
    }
    if (scope.part === 'rules') host.files.rules.push(path);
    else host.files[scope.part] = path;
  }
  return [...hosts.values()];
}

/** Whether a device class is one the Linux play installs files on. */
function linuxHasClass(hosts: readonly LinuxHost[] | undefined, deviceClass: string): boolean {
  return hosts?.some((h) => h.deviceClass === deviceClass) ?? false;
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
  const { aws, securityGroups } = awsModule();
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
  // The profile's values are defaults only: the plays read fwgen_aws_vpc_id and
  // fwgen_aws_stack_name first, which vars files must not set (they would beat inventory).
  return {
    fwgen_aws_default_vpc_id: o.vpcId,
    fwgen_aws_default_stack_name: `fwgen-${policy.profile.name}`,
    fwgen_aws_template: siblingPath(aws, aws.files(policy, o).find((f) => f.scope.kind === 'cfn')!),
    fwgen_aws_groups: groups,
  };
}

/** Windows matches ICMP per family, as the .ps1 does: an ICMPv4 rule never holds IPv6 remotes. */
const WIN_PROTOCOL: Record<string, string> = { tcp: 'tcp', udp: 'udp' };
const WIN_ICMP: Record<Family, string> = { ipv4: 'icmpv4', ipv6: 'icmpv6' };

/**
 * Items for community.windows.win_firewall_rule, named and split as the .ps1 names them. The
 * play gives what every item shares (group, action, enabled, state); profiles are the names
 * the module's own code accepts (domain, private, public: `any` fails there), so `Any` is all three.
 */
function windowsItems(policy: Policy, o: WindowsOptions, rule: Rule, diags: Diagnostics): Array<Record<string, unknown>> {
  const name = `fwgen-${policy.profile.name}-${rule.id}`;
  const common = {
    description: oneLine(ruleSummary(rule)),
    direction: rule.direction === 'inbound' ? 'in' : 'out',
    profiles: windowsModule().profileNames(o).map((p) => p.toLowerCase()),
  };
  if (programOnly(rule)) {
    return rule.programs.map((program, i) => ({ name: rule.programs.length > 1 ? `${name}.${i + 1}` : name, ...common, protocol: 'any', program }));
  }
  const remote = ipRemote(policy, rule, diags, '');
  if (isEmpty(remote.addresses)) return [];
  const ports = rule.protocol === 'icmp' ? {} : { [rule.direction === 'inbound' ? 'localport' : 'remoteport']: rule.ports.map((p) => formatPort(p)).join(',') };
  const families = FAMILIES.filter((f) => remote.addresses[f].length > 0);
  const groups =
    rule.protocol === 'icmp'
      ? families.map((f) => ({ suffix: families.length > 1 ? `.${WIN_ICMP[f]}` : '', protocol: WIN_ICMP[f], addresses: remote.addresses[f] }))
      : [{ suffix: '', protocol: WIN_PROTOCOL[rule.protocol!]!, addresses: [...remote.addresses.ipv4, ...remote.addresses.ipv6] }];
  const programs = rule.programs.length > 0 ? rule.programs : [undefined];
  return groups.flatMap((g) => {
    const parts = remoteParts(g.addresses.map(hostOrCidr));
    return parts.flatMap((part, i) =>
      programs.map((program, j) => ({
        name: `${name}${g.suffix}${parts.length > 1 ? `.part${i + 1}` : ''}${programs.length > 1 ? `.${j + 1}` : ''}`,
        ...common,
        protocol: g.protocol,
        ...ports,
        remoteip: part.join(','),
        ...(program ? { program } : {}),
      })),
    );
  });
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
  const { profileNames, windows } = windowsModule();
  const o = siblingOptions<WindowsOptions>(policy, windows);
  const classes: Record<string, unknown> = {};
  for (const file of windows.files(policy, o)) {
    const c = file.scope.deviceClass;
    if (usesKeywords(policy, o, c)) {
      classes[c] = { script: siblingPath(windows, file), rules: [] };
      continue;
    }
    const diags = new Diagnostics(windows.id);
    classes[c] = { rules: policy.rules.filter((r) => r.deviceClass === c).flatMap((r) => windowsItems(policy, o, r, diags)) };
  }
  return {
    fwgen_windows_group: o.group,
    // With drop the play sets the profiles' default actions to Block, as the .ps1 does; win_firewall takes the names capitalised.
    fwgen_windows_policy: o.policy,
    fwgen_windows_profiles: profileNames(o),
    fwgen_windows: classes,
  };
}

/** pfsensible's address syntax: [!]ALIAS, or any. */
function pfsensibleAddress(end: { address?: string; not?: boolean }): string {
  return end.address === undefined ? 'any' : `${end.not ? '!' : ''}${end.address}`;
}

function pfsenseVars(policy: Policy): Record<string, unknown> {
  const { pfsense, pfsenseBuild } = pfsenseModule();
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

/**
 * The plays a site has: those its rules give for the targets the site uses, less those `plays`
 * leaves out. Each play's inventory group exists exactly when the play does, so no play names a
 * missing group.
 */
function partsOnce(policy: Policy, o: AnsibleOptions): Parts {
  const out: Parts = {};
  const uses = (id: string) => usesTarget(policy.profile, id);
  const wanted = new Set(o.plays);
  const hosts = uses(o.linux) ? linuxHosts(policy, o.linux) : [];
  if (wanted.has('linux') && hosts.length > 0) out.linux = { target: o.linux, hosts };
  if (wanted.has('aws') && uses('aws') && classesWithRules(policy).length > 0) out.aws = awsVars(policy);
  if (wanted.has('windows') && uses('windows') && classesWithRules(policy, WINDOWS_HOSTS).length > 0) {
    const vars = windowsVars(policy);
    const classes = Object.keys(vars.fwgen_windows as object).filter((c) => !linuxHasClass(hosts, c) || o.hosts[`windows:${c}`]);
    if (classes.length > 0) out.windows = { vars, classes };
  }
  if (wanted.has('pfsense') && uses('pfsense')) {
    const pf = pfsenseVars(policy);
    if ((pf.fwgen_pfsense_rules as unknown[]).length > 0) out.pfsense = pf;
  }
  return out;
}

/**
 * A site that renders one Linux target while the playbook would install the other: the
 * play would point at files that are not there.
 */
/** What stops a target whose files the playbooks install, said again as this target's error. */
function siblingErrors(policy: Policy, o: AnsibleOptions, said: (id: SiblingId) => Diagnostic[]): Diagnostic[] {
  const siblings = ([o.linux, 'aws', 'windows', 'pfsense'] as SiblingId[]).filter((id) => usesTarget(policy.profile, id));
  return siblings.flatMap((id) =>
    said(id)
      .filter((d) => d.severity === 'error')
      .map((d) => ({ ...d, target: ansible.id, message: `${d.message} (the ${id} files this target installs)` })),
  );
}

/** A sibling's check, by its own module. */
function siblingCheck(policy: Policy, id: SiblingId): Diagnostic[] {
  const t = SIBLINGS[id]() as Target<unknown, unknown>;
  return t.check(policy, siblingOptions(policy, t));
}

/**
 * A sibling's limits, asked through the registry, which answers for a target without limits
 * (all but aws) without loading its module.
 */
function siblingLimits(policy: Policy, id: SiblingId): Diagnostic[] {
  const t = targets.find((x) => x.id === id)!;
  return t.limits?.(policy, siblingOptions(policy, t)) ?? [];
}

function linuxMismatch(policy: Policy, o: AnsibleOptions): Diagnostic[] {
  const uses = policy.profile.uses;
  const other = o.linux === 'nftables' ? 'iptables' : 'nftables';
  if (!uses || uses.ids.includes(o.linux) || !uses.ids.includes(other)) return [];
  return [
    {
      severity: 'error',
      target: ansible.id,
      loc: uses.origin,
      message: `the playbook installs ${o.linux} (targets.ansible.linux), a target this site does not use (its targets: ${uses.ids.join(', ')}); set targets.ansible.linux: ${other}, or add ${o.linux} to the site's targets`,
    },
  ];
}

// Every file's view needs the parts, which embed what the other targets render.
const sharedParts = sharedBuild('ansible', (policy, o: AnsibleOptions) => partsOnce(policy, o));

function parts(policy: Policy, o: AnsibleOptions): Parts {
  return sharedParts(policy, o, undefined, new Diagnostics(ansible.id));
}

/** A host of the inventory and where the profile put it (targets.ansible.hosts, or a class's addresses). */
export interface InventoryHost {
  name: string;
  field: string;
  loc?: SourceLocation;
}

/** A group of a site's inventory: hosts, vars, children, and the play that runs on it. */
export interface InventoryGroup {
  name: string;
  hosts: InventoryHost[];
  vars: Record<string, unknown>;
  children: InventoryGroup[];
  /** The play whose hosts: names this group, or whose scope it holds. */
  play?: PlayId;
  /** Only Linux scopes and Windows classes: groups whose rules need hosts of the site's own. */
  needsHosts?: boolean;
}

/**
 * One site's groups, as data: the site, its Linux/Windows/AWS/pfSense groups and a group per
 * scope. The inventory files print it; the fleet reads its hosts to keep every host in one site.
 */
export function siteGroups(policy: Policy, o: AnsibleOptions): InventoryGroup {
  const site = groupName(policy.profile.name);
  const p = parts(policy, o);
  const given = (key: string): InventoryHost[] | undefined =>
    o.hosts[key]?.map((name, i) => ({ name, field: `targets.ansible.hosts.${key}[${i}]`, loc: optionLocation(policy, ['ansible', 'hosts', key]) }));
  const single = (c: string): InventoryHost[] => {
    const cls = policy.deviceClasses.find((d) => d.id === c);
    if (!cls) return [];
    const hosts = (list: string[]) => list.map(hostOrCidr).filter((a) => !a.includes('/'));
    const v4 = hosts(cls.addresses.ipv4);
    return (v4.length > 0 ? v4 : hosts(cls.addresses.ipv6)).map((name) => ({ name, field: `deviceClasses.${c}.addresses`, loc: cls.origin }));
  };
  const group = (name: string, hosts: InventoryHost[], vars: Record<string, unknown>, extra: Partial<InventoryGroup> = {}): InventoryGroup => ({
    name,
    hosts: [...hosts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    vars,
    children: [],
    ...extra,
  });
  const children: InventoryGroup[] = [];
  if (p.linux) {
    const scopes = p.linux.hosts.map((h) => {
      const name = linuxHostName(h);
      return group(groupName(site, name), given(name) ?? (h.deviceClass === undefined ? [] : single(h.deviceClass)), { fwgen_scope: name }, { play: 'linux', needsHosts: true });
    });
    children.push({ ...group(groupName(site, 'linux'), [], {}), children: scopes, play: 'linux' });
  }
  if (p.windows) {
    const classes = p.windows.classes.map((c) =>
      group(groupName(site, c, 'windows'), given(`windows:${c}`) ?? (linuxHasClass(p.linux?.hosts, c) ? [] : (given(c) ?? single(c))), { fwgen_scope: c, ansible_connection: 'winrm' }, { play: 'windows', needsHosts: true }),
    );
    children.push({ ...group(groupName(site, 'windows'), [], {}), children: classes, play: 'windows' });
  }
  if (p.aws) {
    const vars = { ansible_connection: 'local', ansible_python_interpreter: new OwnTemplate('{{ ansible_playbook_python }}') };
    children.push(group(groupName(site, 'aws'), given('aws') ?? [], vars, { play: 'aws' }));
  }
  if (p.pfsense) children.push(group(groupName(site, 'pfsense'), given('pfsense') ?? [], {}, { play: 'pfsense' }));
  return { ...group(site, [], { fwgen_site: policy.profile.name }), children };
}

/** Every group below (and with) this one, depth first. */
export function allGroups(g: InventoryGroup): InventoryGroup[] {
  return [g, ...g.children.flatMap(allGroups)];
}

/** Groups whose play runs on hosts no one named yet: the play does nothing for them. */
export function emptyGroups(g: InventoryGroup): InventoryGroup[] {
  return allGroups(g).filter((x) => x.play !== undefined && x.children.length === 0 && x.hosts.length === 0);
}

/** A group as Ansible's YAML inventory writes it. */
export function inventoryYaml(g: InventoryGroup): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (g.children.length === 0 || g.hosts.length > 0) body.hosts = Object.fromEntries(g.hosts.map((h) => [h.name, null]));
  if (Object.keys(g.vars).length > 0) body.vars = g.vars;
  if (g.children.length > 0) body.children = Object.fromEntries(g.children.map((c) => [c.name, inventoryYaml(c)]));
  return body;
}

/** Comment lines that say which groups have no hosts yet, and so what their plays leave undone. */
export function emptyGroupLines(groups: ReadonlyArray<{ name: string; play?: PlayId }>): string[] {
  if (groups.length === 0) return [];
  return [
    'Groups without hosts (their plays do nothing there until you add hosts, in the profile\'s targets.ansible.hosts or an inventory of your own):',
    ...groups.map((g) => `- ${g.name} (${g.play}.yml)`),
  ];
}

export function ansibleOptions(policy: Policy): AnsibleOptions {
  return siblingOptions<AnsibleOptions>(policy, ansible);
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
// No %YAML or %TAG lines are ever printed (the tags are local, `!unsafe`); without this the
// yaml package walks the whole document once more per file to look for tags needing one.
const YAML_PRINT: typeof YAML_OPTIONS & { directives: false } = { ...YAML_OPTIONS, directives: false };

/** YAML of fwgen's own making (a playbook list): every string in it has passed playbookWord. */
export function yamlBody(doc: unknown): string {
  return rememberedYaml('body', doc, () => undefined, () => new (yamlPackage().Document)(doc, YAML_OPTIONS).toString(YAML_PRINT).trimEnd());
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
  return rememberedYaml('vars', doc, (v) => (v instanceof OwnTemplate ? v.text : undefined), () => writeVarsYaml(doc));
}

function writeVarsYaml(doc: unknown): string {
  const { Document, Scalar } = yamlPackage();
  const tagged = (_key: unknown, value: unknown): unknown => {
    if (value instanceof OwnTemplate) return new Scalar(value.text);
    if (typeof value !== 'string') return value;
    const scalar = new Scalar(value);
    scalar.tag = '!unsafe';
    return scalar;
  };
  return new Document(doc, tagged, YAML_OPTIONS).toString(YAML_PRINT).trimEnd();
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

export type PlaybookId = PlayId | 'aws-cloudformation';

/**
 * Which part of the site an ansible file holds: site.yml, the inventory, requirements.yml, a
 * playbook, a play's vars, the tasks a play imports, or the module a play runs.
 */
export type AnsibleScope =
  | { kind: 'site' }
  | { kind: 'inventory' }
  | { kind: 'requirements' }
  | { kind: 'play'; play: PlaybookId }
  | { kind: 'vars'; play: PlayId }
  | { kind: 'tasks'; play: 'linux' }
  | { kind: 'library'; play: 'pfsense' };

/** A variable the user sets (inventory, group_vars, host_vars or -e); the play reads it through default(). */
interface Setting {
  name: string;
  what: string;
}

const AWS_REGION: Setting = { name: 'fwgen_aws_region', what: 'the region (default: the AWS environment\'s)' };

interface Playbook {
  template: string;
  /** What the playbook does, as a verb phrase: the header says "a playbook that <what>". */
  what: string;
  /** The collections its tasks use (ansible.builtin aside): requirements.yml lists them. */
  collections: string[];
  settings: Setting[];
}

const PLAYBOOKS: Record<PlaybookId, Playbook> = {
  linux: { template: 'linux-%s.yml.hbs', what: 'installs, validates and applies the Linux rule files, and keeps them across reboots', collections: [], settings: [] },
  aws: {
    template: 'aws.yml.hbs',
    what: 'creates one security group per device class with amazon.aws.ec2_security_group and removes the rules the vars no longer list',
    collections: ['amazon.aws'],
    settings: [
      { name: 'fwgen_aws_vpc_id', what: 'the VPC of the groups (default: the profile\'s targets.aws.vpcId; empty: the default VPC)' },
      AWS_REGION,
      { name: 'fwgen_aws_endpoint_url', what: 'another EC2 endpoint' },
    ],
  },
  'aws-cloudformation': {
    template: 'aws-cloudformation.yml.hbs',
    what: 'deploys aws/security-groups.cfn.json as a CloudFormation stack, the alternative to aws.yml',
    collections: ['amazon.aws'],
    settings: [
      { name: 'fwgen_aws_vpc_id', what: 'the stack\'s VpcId (default: the profile\'s targets.aws.vpcId; required when that is empty)' },
      { name: 'fwgen_aws_stack_name', what: 'the stack (default: fwgen-<site>)' },
      AWS_REGION,
      { name: 'fwgen_aws_endpoint_url', what: 'another CloudFormation endpoint' },
    ],
  },
  windows: {
    template: 'windows.yml.hbs',
    what: 'applies Windows Firewall rules with win_firewall_rule, removes fwgen\'s unlisted rules and, with policy drop, blocks the rest',
    collections: ['ansible.windows', 'community.windows'],
    settings: [],
  },
  pfsense: {
    template: 'pfsense.yml.hbs',
    what: 'applies the pfSense aliases and rules with pfsensible.core.pfsense_aggregate and removes only this site\'s stale items',
    collections: ['pfsensible.core'],
    settings: [],
  },
};

function header(policy: Policy, lines: string[]): string[] {
  return yamlHeader(headerLines(policy, 'ansible', lines));
}

/** The plays site.yml imports, in order. */
function playsOf(p: Parts): PlayId[] {
  return PLAY_IDS.filter((id) => p[id] !== undefined);
}

/** Every playbook written: the site's plays, and the CloudFormation alternative beside aws.yml. */
function playbooksOf(p: Parts): PlaybookId[] {
  return [...playsOf(p), ...(p.aws ? (['aws-cloudformation'] as const) : [])];
}

function tagsOf(id: PlaybookId): string[] {
  return ['fwgen', `fwgen_${id.replace(/-/g, '_')}`];
}

/** The collections a site's plays use, sorted, once each. */
export function siteCollections(policy: Policy, o: AnsibleOptions): string[] {
  return collectionsOf(playbooksOf(parts(policy, o)));
}

/** The collections some playbooks use, sorted, each once. */
export function collectionsOf(playbooks: Iterable<PlaybookId>): string[] {
  return [...new Set([...playbooks].flatMap((id) => PLAYBOOKS[id].collections))].sort();
}

/** requirements.yml: ansible-galaxy reads it untemplated, and its names are fwgen's own. */
export function requirementsYaml(collections: string[]): string {
  return yamlBody({ collections: collections.map((name) => ({ name })) });
}

export const REQUIREMENTS_USE = 'Install them with: ansible-galaxy collection install -r requirements.yml';

/** The other targets whose files the playbooks read from the site folder. */
function readsOf(p: Parts): string[] {
  const out: string[] = [];
  if (p.linux) out.push(p.linux.target);
  if (p.aws) out.push('aws'); // aws-cloudformation.yml deploys aws/security-groups.cfn.json
  const windowsClasses = (p.windows?.vars.fwgen_windows ?? {}) as Record<string, { script?: string }>;
  if (p.windows?.classes.some((c) => windowsClasses[c]?.script !== undefined)) out.push('windows');
  return out;
}

/** One warning per site for the groups whose rules need hosts and have none, at the profile's hosts. */
function emptyGroupWarning(policy: Policy, o: AnsibleOptions): Diagnostic[] {
  const empty = emptyGroups(siteGroups(policy, o)).filter((g) => g.needsHosts);
  if (empty.length === 0) return [];
  return [
    {
      severity: 'warning',
      target: ansible.id,
      loc: optionLocation(policy, ['ansible', 'hosts']),
      message: `inventory groups without hosts: ${empty.map((g) => `${g.name} (${g.play}.yml)`).join(', ')}; their plays do nothing there until hosts are named in targets.ansible.hosts or an inventory of your own`,
    },
  ];
}

export const ansible: Target<AnsibleOptions, AnsibleView, AnsibleScope> = {
  id: 'ansible',
  describe: 'per site: playbooks and module vars that install and apply what the other targets rendered, and an inventory',
  apply: 'ansible-playbook -i inventory.yml site.yml --check --diff, then without --check',
  options: {
    linux: { describe: 'which Linux target the playbook installs: nftables or iptables', default: 'nftables' },
    hosts: {
      describe: `inventory hosts per group: a device class, "${GATEWAY_NAME}", "aws", "pfsense" or "windows:CLASS" (default: a class's single addresses)`,
      default: {},
    },
    plays: {
      describe: 'the plays the site runs, of linux, aws, windows and pfsense (default: all its rules give); site.yml, the inventory and requirements.yml hold only these',
      default: [...PLAY_IDS],
    },
  },
  files(policy, o) {
    const p = parts(policy, o);
    const files: Array<OutputFile<AnsibleScope>> = [
      { path: 'site.yml', template: 'site.yml.hbs', scope: { kind: 'site' } },
      { path: 'inventory.yml', template: 'document.yml.hbs', scope: { kind: 'inventory' } },
      { path: 'requirements.yml', template: 'document.yml.hbs', scope: { kind: 'requirements' } },
    ];
    for (const play of playsOf(p)) {
      files.push({ path: `${play}.yml`, template: PLAYBOOKS[play].template.replace('%s', p.linux?.target ?? ''), scope: { kind: 'play', play } });
      files.push({ path: `vars/${play}.yml`, template: 'document.yml.hbs', scope: { kind: 'vars', play } });
    }
    // The apply step both Linux plays import: enable the boot unit, apply with a rollback guard.
    if (p.linux) files.push({ path: 'tasks/linux-apply.yml', template: 'linux-apply.yml.hbs', scope: { kind: 'tasks', play: 'linux' } });
    if (p.aws) files.push({ path: 'aws-cloudformation.yml', template: PLAYBOOKS['aws-cloudformation'].template, scope: { kind: 'play', play: 'aws-cloudformation' } });
    // The play's own module, found by Ansible in the library/ folder beside the playbook.
    if (p.pfsense) files.push({ path: 'library/fwgen_pfsense_owned.py', template: 'fwgen_pfsense_owned.py.hbs', scope: { kind: 'library', play: 'pfsense' } });
    return files.sort((a, b) => a.path.localeCompare(b.path));
  },
  reads(policy, o) {
    return readsOf(parts(policy, o));
  },
  check(policy, o) {
    // The vars embed what the other targets would render: what stops them stops these too,
    // even when only this target is rendered.
    const errors = [...linuxMismatch(policy, o), ...siblingErrors(policy, o, (id) => siblingCheck(policy, id))];
    return errors.length > 0 ? errors : emptyGroupWarning(policy, o);
  },
  limits(policy, o) {
    return siblingErrors(policy, o, (id) => siblingLimits(policy, id));
  },
  view(policy, o, { scope }) {
    const p = parts(policy, o);
    const site = groupName(policy.profile.name);
    switch (scope.kind) {
      case 'inventory': {
        const groups = siteGroups(policy, o);
        return {
          header: header(policy, [
            `Holds: the inventory of site ${policy.profile.name}; put your hosts in its groups (targets.ansible.hosts in the profile).`,
            'Use: ansible-playbook -i inventory.yml site.yml (fwgen inventory writes one for many sites).',
            ...emptyGroupLines(emptyGroups(groups)),
          ]),
          yaml: varsYaml({ all: { children: { [groups.name]: inventoryYaml(groups) } } }),
        };
      }
      case 'requirements':
        return {
          header: header(policy, [`Holds: the Ansible collections this site's plays use. ${REQUIREMENTS_USE}.`]),
          yaml: requirementsYaml(siteCollections(policy, o)),
        };
      // A fixed file: nothing from the profile may reach Python source, not even a comment.
      case 'library':
        return { header: [], yaml: '' };
      case 'vars': {
        const id = scope.play;
        // The site folder is found from the play itself: a host variable could come from another
        // site's group, or from whichever inventory named the host first.
        const doc = { fwgen_dir: new OwnTemplate('{{ playbook_dir }}/..'), ...playVars(p, id) };
        return { header: header(policy, [`Holds: the ${id} variables ${id}.yml uses; paths are relative to the site folder (fwgen_dir, the folder above the playbook's).`]), yaml: varsYaml(doc) };
      }
      case 'tasks':
        return {
          header: header(policy, ['Holds: the tasks linux.yml imports: enable the boot unit, then apply the rules with a rollback guard.']),
          site: playbookWord(policy.profile.name),
          group: playbookWord(groupName(site, scope.play)),
          tags: flowList(tagsOf(scope.play)),
          imports: [],
        };
      case 'play': {
        const id = scope.play;
        const play = PLAYBOOKS[id];
        const settings = play.settings.length > 0 ? [`Settings (inventory, group_vars, host_vars or -e): ${play.settings.map((x) => `${x.name}: ${x.what}`).join('; ')}.`] : [];
        const needs = play.collections.length > 0 ? [`Needs ${play.collections.length === 1 ? 'the collection' : 'the collections'} ${play.collections.join(', ')} (requirements.yml).`] : [];
        return {
          header: header(policy, [`Holds: a playbook that ${play.what}.`, ...settings, ...needs, 'Dry run: ansible-playbook -i INVENTORY FILE --check --diff.']),
          site: playbookWord(policy.profile.name),
          group: playbookWord(groupName(site, id === 'aws-cloudformation' ? 'aws' : id)),
          tags: flowList(tagsOf(id)),
          imports: [],
        };
      }
      case 'site':
        return {
          header: header(policy, ['Holds: every play of this site. Dry run: ansible-playbook -i inventory.yml site.yml --check --diff.', 'Tags: fwgen, and fwgen_linux, fwgen_aws, fwgen_windows or fwgen_pfsense for one kind of play.']),
          site: playbookWord(policy.profile.name),
          group: playbookWord(site),
          tags: flowList(['fwgen']),
          imports: playsOf(p).map((x) => ({ file: `${x}.yml`, tags: flowList(tagsOf(x)) })),
        };
    }
  },
};

/** What a play's vars file holds, besides fwgen_dir. */
function playVars(p: Parts, play: PlayId): Record<string, unknown> {
  switch (play) {
    case 'linux':
      return { fwgen_linux_target: p.linux!.target, fwgen_linux: Object.fromEntries(p.linux!.hosts.map((h) => [linuxHostName(h), h.files])) };
    case 'windows':
      return p.windows!.vars;
    case 'aws':
    case 'pfsense':
      return p[play]!;
  }
}

/** A YAML flow list of fwgen's own words (tags), as a playbook prints it. */
function flowList(words: string[]): string {
  return `[${words.map(playbookWord).join(', ')}]`;
}
