import * as path from 'node:path';
import { distinctCount, type Family } from '../net/addresses';
import type { Policy, Rule } from '../policy/types';
import { awsDescription } from './escape';
import { Diagnostics } from './diagnostics';
import { allowEmptyOption, refuseEmpty, refuseNoFiles } from './empty-output';
import { ruleSummary } from './header';
import { RULE_GROUP_FILE } from './network-firewall';
import { FAMILIES, ipRemote } from './remote-addresses';
import { classesWithRules, programOnly } from './rule-selection';
import { sharedBuild } from './shared-build';
import type { OutputFile, Target } from './types';

export interface AwsOptions {
  groupName: string;
  vpcId: string;
  maxRules: number;
  allowEmpty: boolean;
}

/** One protocol and port range of a group, with every CIDR it allows and why. */
export interface Permission {
  IpProtocol: string;
  FromPort: number;
  ToPort: number;
  IpRanges: Array<{ CidrIp: string; Description: string }>;
  Ipv6Ranges: Array<{ CidrIpv6: string; Description: string }>;
}

interface ClassRules {
  ingress: Permission[];
  egress: Permission[];
}

/** Which part of the policy an aws file holds: one direction of a class's group, or the CloudFormation template of all. */
export type AwsScope = { kind: 'group'; deviceClass: string; direction: 'ingress' | 'egress' } | { kind: 'cfn' };

/** JSON is the format: the view is the document, serialised once in the template. */
export interface AwsView {
  json: string;
}

const NATIVE_HINT = `${RULE_GROUP_FILE} matches it by name (TLS SNI on 443, HTTP Host on 80) in an AWS Network Firewall beside the security group.`;

/** The CloudFormation template of every group. */
const CFN_FILE = 'security-groups.cfn.json';

const DIRECTION = { inbound: 'ingress', outbound: 'egress' } as const;

/** One rule's CIDRs of one family on one port range: what it puts into its class's group. */
interface PermissionInput {
  rule: Rule;
  protocol: string;
  from: number;
  to: number;
  family: Family;
  cidrs: readonly string[];
}

/** Each rule of a class, as the inputs its permissions take, in the policy's order. */
function eachInput(policy: Policy, deviceClass: string, diags: Diagnostics, visit: (input: PermissionInput) => void): void {
  for (const rule of policy.rules) {
    if (rule.deviceClass !== deviceClass) continue;
    if (programOnly(rule)) {
      diags.programsLeftOut(policy, rule);
      continue;
    }
    const remote = ipRemote(policy, rule, diags, NATIVE_HINT);
    const ranges = rule.protocol === 'icmp' ? [{ from: -1, to: -1 }] : rule.ports;
    for (const r of ranges) {
      for (const family of FAMILIES) {
        const cidrs = remote.addresses[family];
        if (cidrs.length === 0) continue;
        // ICMP for IPv6 is its own protocol (58) in a security group; "icmp" with IPv6 ranges means nothing.
        const protocol = rule.protocol === 'icmp' && family === 'ipv6' ? 'icmpv6' : rule.protocol!;
        visit({ rule, protocol, from: r.from, to: r.to, family, cidrs });
      }
    }
  }
}

function permissionsOnce(policy: Policy, deviceClass: string, diags: Diagnostics): ClassRules {
  const out: ClassRules = { ingress: [], egress: [] };
  const index = new Map<string, Permission>();
  // The CIDRs each permission already holds: a linear scan per CIDR made large groups quadratic.
  const seen = new Map<Permission, Set<string>>();
  eachInput(policy, deviceClass, diags, ({ rule, protocol, from, to, family, cidrs }) => {
    const key = `${rule.direction}|${protocol}|${from}|${to}`;
    let perm = index.get(key);
    if (!perm) {
      perm = { IpProtocol: protocol, FromPort: from, ToPort: to, IpRanges: [], Ipv6Ranges: [] };
      index.set(key, perm);
      seen.set(perm, new Set());
      out[DIRECTION[rule.direction]].push(perm);
    }
    const description = awsDescription(ruleSummary(rule));
    const held = seen.get(perm)!;
    for (const c of cidrs) {
      if (held.has(c)) continue;
      held.add(c);
      if (family === 'ipv4') perm.IpRanges.push({ CidrIp: c, Description: description });
      else perm.Ipv6Ranges.push({ CidrIpv6: c, Description: description });
    }
  });
  for (const list of [out.ingress, out.egress]) {
    list.sort((a, b) => a.IpProtocol.localeCompare(b.IpProtocol) || a.FromPort - b.FromPort || a.ToPort - b.ToPort);
    for (const p of list) {
      p.IpRanges.sort((a, b) => a.CidrIp.localeCompare(b.CidrIp));
      p.Ipv6Ranges.sort((a, b) => a.CidrIpv6.localeCompare(b.CidrIpv6));
    }
  }
  return out;
}

// files(), check(), view() and the CloudFormation template all ask for the same class's
// permissions; the options do not change them. Callers only read what comes back.
const sharedPermissions = sharedBuild('aws', (policy, _o: null, c: string, diags) => permissionsOnce(policy, c, diags));

function permissionsFor(policy: Policy, deviceClass: string, diags: Diagnostics): ClassRules {
  return sharedPermissions(policy, null, deviceClass, diags);
}

type RuleCounts = Record<'ingress' | 'egress', Record<Family, number>>;

/**
 * How many rules each direction and family of a class's group needs, from the rules' sets
 * alone: what permissionsOnce would hold, without building a permission per CIDR. A group
 * over the quota is refused from these counts, before anything as large as its input is made.
 */
function countRulesOnce(policy: Policy, deviceClass: string, diags: Diagnostics): RuleCounts {
  // The CIDR lists each permission would take in; most permissions take one list, which needs no count.
  const lists = new Map<string, { dir: 'ingress' | 'egress'; family: Family; lists: Array<readonly string[]> }>();
  eachInput(policy, deviceClass, diags, ({ rule, protocol, from, to, family, cidrs }) => {
    const key = `${rule.direction}|${protocol}|${from}|${to}|${family}`;
    const entry = lists.get(key);
    if (entry) entry.lists.push(cidrs);
    else lists.set(key, { dir: DIRECTION[rule.direction], family, lists: [cidrs] });
  });
  const counts: RuleCounts = { ingress: { ipv4: 0, ipv6: 0 }, egress: { ipv4: 0, ipv6: 0 } };
  const count = distinctCounter();
  // A rule's networks are aggregated (distinct already); only several lists can share one.
  for (const { dir, family, lists: l } of lists.values()) counts[dir][family] += l.length === 1 ? l[0]!.length : count(l, family);
  return counts;
}

/**
 * distinctCount, once per family and set of lists: the ports of one set of rules (tcp 80 and
 * 443 of the same terms) take the very same lists, and a count of a million networks sorts
 * them all. Lists are told apart by identity: AddressSets gives equal sets one list.
 */
function distinctCounter(): (lists: ReadonlyArray<readonly string[]>, family: Family) => number {
  const ids = new Map<readonly string[], number>();
  const known = new Map<string, number>();
  return (lists, family) => {
    const own = [...new Set(lists.map((l) => ids.get(l) ?? ids.set(l, ids.size).size - 1))].sort((a, b) => a - b);
    const key = `${family}|${own.join(',')}`;
    let n = known.get(key);
    if (n === undefined) known.set(key, (n = distinctCount(lists, family)));
    return n;
  };
}

// check() and limits() count the same class, and the ansible target's limits() asks aws's again.
const sharedCounts = sharedBuild('aws', (policy, _o: null, c: string, diags) => countRulesOnce(policy, c, diags));

function countRules(policy: Policy, deviceClass: string, diags: Diagnostics): RuleCounts {
  return sharedCounts(policy, null, deviceClass, diags);
}

/** Every CIDR on every port range is one rule; IPv4 and IPv6 are counted apart, per direction. Whether all fit. */
function checkQuota(policy: Policy, deviceClass: string, counts: RuleCounts, o: AwsOptions, diags: Diagnostics): boolean {
  let fits = true;
  for (const dir of ['ingress', 'egress'] as const) {
    for (const family of ['ipv4', 'ipv6'] as Family[]) {
      const count = counts[dir][family];
      if (count <= o.maxRules) continue;
      fits = false;
      const biggest = largestRule(policy, deviceClass, dir, family);
      diags.add(
        'error',
        `security group for ${deviceClass}: ${dir} needs ${count} ${family === 'ipv4' ? 'IPv4' : 'IPv6'} rules, ${count - o.maxRules} over the limit of ${o.maxRules} ` +
          `(AWS counts every CIDR on every port range as a rule). Put large groups${biggest ? ` such as ${biggest.id}` : ''} in a managed prefix list, ` +
          `split the device class across more security groups, or raise the quota with AWS and set targets.aws.maxRules.`,
        biggest,
      );
    }
  }
  return fits;
}

function largestRule(policy: Policy, deviceClass: string, dir: 'ingress' | 'egress', family: Family): Rule | undefined {
  const rules = policy.rules.filter((r) => r.deviceClass === deviceClass && DIRECTION[r.direction] === dir);
  return rules.sort((a, b) => b.remote.addresses[family].length * b.ports.length - a.remote.addresses[family].length * a.ports.length)[0];
}

function logicalId(classId: string): string {
  return `Sg${classId.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase())}`;
}

/** CloudFormation writes one entry per CIDR; an empty egress list would keep the default allow-all. */
function cfnEntries(perms: Permission[], dir: 'ingress' | 'egress'): unknown[] {
  const entries: unknown[] = [];
  for (const p of perms) {
    for (const r of p.IpRanges) entries.push({ IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort, CidrIp: r.CidrIp, Description: r.Description });
    // ICMPv6 has no ports and CloudFormation warns when the template gives some.
    const ports = p.IpProtocol === 'icmpv6' ? {} : { FromPort: p.FromPort, ToPort: p.ToPort };
    for (const r of p.Ipv6Ranges) entries.push({ IpProtocol: p.IpProtocol, ...ports, CidrIpv6: r.CidrIpv6, Description: r.Description });
  }
  if (dir === 'egress' && entries.length === 0) {
    entries.push({ IpProtocol: '-1', CidrIp: '127.0.0.1/32', Description: 'fwgen: no egress is allowed; this replaces the default allow-all rule' });
  }
  return entries;
}

function stripEmpty(perms: Permission[]): unknown[] {
  return perms.map((p) => ({
    IpProtocol: p.IpProtocol,
    FromPort: p.FromPort,
    ToPort: p.ToPort,
    ...(p.IpRanges.length ? { IpRanges: p.IpRanges } : {}),
    ...(p.Ipv6Ranges.length ? { Ipv6Ranges: p.Ipv6Ranges } : {}),
  }));
}

/** A device class's security group as data: the template, the IpPermissions files and the Ansible vars are made from it. */
export interface SecurityGroup {
  deviceClass: string;
  /** The Name tag, and the group name the Ansible play gives it. */
  name: string;
  /** Within AWS's 255 characters and character set. */
  description: string;
  /** The class's own name, for texts that say what the group is for. */
  className: string;
  ingress: Permission[];
  egress: Permission[];
}

/** One group per device class that has rules, in the policy's class order. */
export function securityGroups(policy: Policy, o: AwsOptions): SecurityGroup[] {
  return classesWithRules(policy).map((c) => {
    const rules = permissionsFor(policy, c, new Diagnostics(aws.id));
    const className = policy.deviceClasses.find((d) => d.id === c)!.name;
    return {
      deviceClass: c,
      name: `${o.groupName}-${c}`,
      description: awsDescription(`fwgen ${policy.profile.name}: ${className}`),
      className,
      ingress: rules.ingress,
      egress: rules.egress,
    };
  });
}

function template(policy: Policy, o: AwsOptions): unknown {
  const resources: Record<string, unknown> = {};
  const outputs: Record<string, unknown> = {};
  for (const g of securityGroups(policy, o)) {
    const id = logicalId(g.deviceClass);
    resources[id] = {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: g.description,
        VpcId: { Ref: 'VpcId' },
        SecurityGroupIngress: cfnEntries(g.ingress, 'ingress'),
        SecurityGroupEgress: cfnEntries(g.egress, 'egress'),
        Tags: [
          { Key: 'Name', Value: g.name },
          { Key: 'fwgen:profile', Value: policy.profile.name },
          { Key: 'fwgen:device-class', Value: g.deviceClass },
        ],
      },
    };
    outputs[`${id}Id`] = { Description: awsDescription(`Security group for ${g.className}`), Value: { 'Fn::GetAtt': [id, 'GroupId'] } };
  }
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: awsDescription(
      `fwgen security groups for profile ${policy.profile.name}. Generated from ${policy.profile.file}; do not edit, render again.`,
      1024,
    ),
    Metadata: {
      fwgen: {
        profile: policy.profile.name,
        profileFile: policy.profile.file,
        vendors: policy.vendors.map((v) => `${v.id}: ${v.citation}`),
        addressesForNames: policy.lockFile ? `pinned in ${path.basename(policy.lockFile)}` : 'none pinned (no lock file); rules that need them are left out',
      },
    },
    Parameters: {
      VpcId: { Type: 'AWS::EC2::VPC::Id', Description: 'The VPC the security groups belong to', ...(o.vpcId ? { Default: o.vpcId } : {}) },
    },
    Resources: resources,
    Outputs: outputs,
  };
}

export const aws: Target<AwsOptions, AwsView, AwsScope> = {
  id: 'aws',
  describe: 'IpPermissions JSON per device class for the AWS CLI, and a CloudFormation template with one security group each',
  apply:
    'aws ec2 authorize-security-group-ingress --group-id sg-... --ip-permissions file://CLASS.ingress.json (likewise egress); or deploy security-groups.cfn.json',
  options: {
    groupName: { describe: 'name prefix (Name tag) of the security groups', default: (p: Policy) => `fwgen-${p.profile.name}` },
    vpcId: { describe: 'default of the template\'s VpcId parameter (empty: asked at deploy time)', default: '' },
    maxRules: { describe: 'rules allowed per group, direction and family (AWS default quota: 60)', default: 60 },
    allowEmpty: allowEmptyOption,
  },
  files(policy) {
    const files: Array<OutputFile<AwsScope>> = classesWithRules(policy).flatMap((deviceClass) =>
      (['ingress', 'egress'] as const).map((direction) => ({
        path: `${deviceClass}.${direction}.json`,
        template: 'document.json.hbs',
        scope: { kind: 'group' as const, deviceClass, direction },
      })),
    );
    files.push({ path: CFN_FILE, template: 'document.json.hbs', scope: { kind: 'cfn' } });
    return files;
  },
  check(policy, o) {
    const diags = new Diagnostics(aws.id);
    const classes = classesWithRules(policy);
    let total = 0;
    for (const c of classes) {
      // Over the quota, the group is never built: the error says all there is to say (and it has rules, so the output is not empty).
      if (!checkQuota(policy, c, countRules(policy, c, diags), o, diags)) {
        total++;
        continue;
      }
      const perms = permissionsFor(policy, c, diags);
      const count = perms.ingress.length + perms.egress.length;
      total += count;
      // One group left empty (its names go to the Network Firewall, say) is a choice to see, not an error.
      if (count === 0 && !o.allowEmpty) diags.add('warning', `the security group of ${c} allows nothing (every rule of it was left out): it denies all the traffic of its instances`);
    }
    if (classes.length === 0) refuseNoFiles(diags, policy, aws.id, o.allowEmpty, 'no device class has rules');
    else refuseEmpty(diags, aws.id, o.allowEmpty, 'the aws output', total, 'deny all traffic of every security group');
    return diags.list();
  },
  limits(policy, o) {
    // check()'s quota errors alone, from the counts: what counting says besides is check()'s to say.
    const quota = new Diagnostics(aws.id);
    for (const c of classesWithRules(policy)) checkQuota(policy, c, countRules(policy, c, new Diagnostics(aws.id)), o, quota);
    return quota.list();
  },
  view(policy, o, { scope }) {
    if (scope.kind === 'cfn') return { json: JSON.stringify(template(policy, o), null, 2) };
    return { json: JSON.stringify(stripEmpty(permissionsFor(policy, scope.deviceClass, new Diagnostics(aws.id))[scope.direction]), null, 2) };
  },
};
