import * as path from 'node:path';
import type { Family } from '../policy/addresses';
import type { Policy, Rule } from '../policy/types';
import { awsDescription } from './escape';
import { classesWithRules, Diagnostics, ipRemote, isEmpty, programOnly, ruleSummary } from './common';
import type { Target } from './types';

export interface AwsOptions {
  groupName: string;
  vpcId: string;
  maxRules: number;
}

interface Permission {
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

/** JSON is the format: the view is the document, serialised once in the template. */
export interface AwsView {
  json: string;
}

const NATIVE_HINT = 'network-firewall.rule-group.json matches it by name (TLS SNI, HTTP Host) in an AWS Network Firewall beside the security group.';
const SNI_PORTS = [80, 443];

/**
 * The names outbound TCP rules to ports 80 or 443 go to: what a Network Firewall domain list
 * can see (TLS SNI, HTTP Host). Other names (NTP over UDP, say) need pinned addresses.
 */
function domainTargets(policy: Policy, diags: Diagnostics): string[] {
  const targets = new Set<string>();
  for (const rule of policy.rules) {
    if (rule.direction !== 'outbound' || rule.remote.names.length === 0) continue;
    const web = rule.protocol === 'tcp' && rule.ports.some((p) => SNI_PORTS.some((w) => p.from <= w && w <= p.to));
    if (!web) {
      diags.add('warning', `${rule.id}: a Network Firewall domain list sees only TLS SNI and HTTP Host, so ${rule.remote.names.join(', ')} on ${rule.protocol} stay matched by pinned addresses only`, rule);
      continue;
    }
    for (const n of rule.remote.names) targets.add(n.startsWith('*.') ? n.slice(1) : n);
  }
  return [...targets].sort();
}

function ruleGroup(policy: Policy, targets: string[]): unknown {
  return {
    RuleGroupName: `fwgen-${policy.profile.name}-domains`,
    Type: 'STATEFUL',
    // Each domain is one rule per target type.
    Capacity: Math.max(100, targets.length * 2),
    Description: `fwgen: the host names profile ${policy.profile.name} allows out, for TLS SNI and HTTP Host. Generated from ${policy.profile.file}.`.slice(0, 512),
    RuleGroup: {
      RulesSource: {
        RulesSourceList: { Targets: targets, TargetTypes: ['TLS_SNI', 'HTTP_HOST'], GeneratedRulesType: 'ALLOWLIST' },
      },
    },
  };
}
const DIRECTION = { inbound: 'ingress', outbound: 'egress' } as const;

function permissionsFor(policy: Policy, deviceClass: string, diags: Diagnostics): ClassRules {
  const out: ClassRules = { ingress: [], egress: [] };
  const index = new Map<string, Permission>();
  // The CIDRs each permission already holds: a linear scan per CIDR made large groups quadratic.
  const seen = new Map<Permission, Set<string>>();
  for (const rule of policy.rules.filter((r) => r.deviceClass === deviceClass)) {
    if (programOnly(rule)) {
      diags.add('warning', `${rule.vendor}/${rule.service}: security groups cannot allow programs (${rule.programs.join(', ')}); left out, rendered for Windows`, rule);
      continue;
    }
    const remote = ipRemote(policy, rule, diags, NATIVE_HINT);
    if (isEmpty(remote.addresses)) continue;
    const description = awsDescription(ruleSummary(rule));
    const ranges = rule.protocol === 'icmp' ? [{ from: -1, to: -1 }] : rule.ports;
    for (const r of ranges) {
      const key = `${rule.direction}|${rule.protocol}|${r.from}|${r.to}`;
      let perm = index.get(key);
      if (!perm) {
        perm = { IpProtocol: rule.protocol!, FromPort: r.from, ToPort: r.to, IpRanges: [], Ipv6Ranges: [] };
        index.set(key, perm);
        seen.set(perm, new Set());
        out[DIRECTION[rule.direction]].push(perm);
      }
      const held = seen.get(perm)!;
      const fresh = (c: string) => !held.has(c) && held.add(c) !== undefined;
      for (const c of remote.addresses.ipv4.filter(fresh)) perm.IpRanges.push({ CidrIp: c, Description: description });
      for (const c of remote.addresses.ipv6.filter(fresh)) perm.Ipv6Ranges.push({ CidrIpv6: c, Description: description });
    }
  }
  for (const list of [out.ingress, out.egress]) {
    list.sort((a, b) => a.IpProtocol.localeCompare(b.IpProtocol) || a.FromPort - b.FromPort || a.ToPort - b.ToPort);
    for (const p of list) {
      p.IpRanges.sort((a, b) => a.CidrIp.localeCompare(b.CidrIp));
      p.Ipv6Ranges.sort((a, b) => a.CidrIpv6.localeCompare(b.CidrIpv6));
    }
  }
  return out;
}

/** Every CIDR on every port range is one rule; IPv4 and IPv6 are counted apart, per direction. */
function checkQuota(policy: Policy, deviceClass: string, rules: ClassRules, o: AwsOptions, diags: Diagnostics): void {
  for (const dir of ['ingress', 'egress'] as const) {
    for (const family of ['ipv4', 'ipv6'] as Family[]) {
      const count = rules[dir].reduce((n, p) => n + (family === 'ipv4' ? p.IpRanges.length : p.Ipv6Ranges.length), 0);
      if (count <= o.maxRules) continue;
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
    for (const r of p.Ipv6Ranges) entries.push({ IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort, CidrIpv6: r.CidrIpv6, Description: r.Description });
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

function template(policy: Policy, o: AwsOptions): unknown {
  const resources: Record<string, unknown> = {};
  const outputs: Record<string, unknown> = {};
  for (const c of classesWithRules(policy)) {
    const rules = permissionsFor(policy, c, new Diagnostics(aws.id));
    const cls = policy.deviceClasses.find((d) => d.id === c)!;
    const id = logicalId(c);
    resources[id] = {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: awsDescription(`fwgen ${policy.profile.name}: ${cls.name}`),
        VpcId: { Ref: 'VpcId' },
        SecurityGroupIngress: cfnEntries(rules.ingress, 'ingress'),
        SecurityGroupEgress: cfnEntries(rules.egress, 'egress'),
        Tags: [
          { Key: 'Name', Value: `${o.groupName}-${c}` },
          { Key: 'fwgen:profile', Value: policy.profile.name },
          { Key: 'fwgen:device-class', Value: c },
        ],
      },
    };
    outputs[`${id}Id`] = { Description: awsDescription(`Security group for ${cls.name}`), Value: { 'Fn::GetAtt': [id, 'GroupId'] } };
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

export const aws: Target<AwsOptions, AwsView> = {
  id: 'aws',
  describe: 'IpPermissions JSON per device class for the AWS CLI, and a CloudFormation template with one security group each',
  apply:
    'aws ec2 authorize-security-group-ingress --group-id sg-... --ip-permissions file://CLASS.ingress.json (likewise egress); or deploy security-groups.cfn.json; ' +
    'aws network-firewall create-rule-group --cli-input-json file://network-firewall.rule-group.json',
  options: {
    groupName: { describe: 'name prefix (Name tag) of the security groups', default: (p: Policy) => `fwgen-${p.profile.name}` },
    vpcId: { describe: 'default of the template\'s VpcId parameter (empty: asked at deploy time)', default: '' },
    maxRules: { describe: 'rules allowed per group, direction and family (AWS default quota: 60)', default: 60 },
  },
  files(policy) {
    const files = classesWithRules(policy).flatMap((c) => [
      { path: `${c}.ingress.json`, template: 'document.json.hbs', scope: `${c}|ingress` },
      { path: `${c}.egress.json`, template: 'document.json.hbs', scope: `${c}|egress` },
    ]);
    files.push({ path: 'security-groups.cfn.json', template: 'document.json.hbs', scope: 'cfn' });
    if (domainTargets(policy, new Diagnostics(aws.id)).length > 0) {
      files.push({ path: 'network-firewall.rule-group.json', template: 'document.json.hbs', scope: 'network-firewall' });
    }
    return files;
  },
  check(policy, o) {
    const diags = new Diagnostics(aws.id);
    for (const c of classesWithRules(policy)) checkQuota(policy, c, permissionsFor(policy, c, diags), o, diags);
    domainTargets(policy, diags);
    return diags.list();
  },
  view(policy, o, file) {
    if (file.scope === 'cfn') return { json: JSON.stringify(template(policy, o), null, 2) };
    if (file.scope === 'network-firewall') return { json: JSON.stringify(ruleGroup(policy, domainTargets(policy, new Diagnostics(aws.id))), null, 2) };
    const [c, dir] = file.scope.split('|') as [string, 'ingress' | 'egress'];
    return { json: JSON.stringify(stripEmpty(permissionsFor(policy, c, new Diagnostics(aws.id))[dir]), null, 2) };
  },
};
