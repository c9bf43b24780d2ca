import { IssueList } from '../../errors';
import type { AddressMatch, Chain, IpFamily, RuleMatch, Ruleset, RulesetRule } from '../model';
import { cidrRange } from '../ranges';
import { parseLocatedJson, shortJson, type LocatedJson } from './located-json';

/**
 * EC2 security groups as DescribeSecurityGroups returns them (`aws ec2 describe-security-groups
 * --output json`, boto3's describe_security_groups): `{"SecurityGroups": [...]}` or the bare list.
 * A group is allow-only: each IpPermissions entry allows, what none allows is denied. Ingress is
 * the group's input chain, egress its output chain. A reference to another security group or to
 * a managed prefix list names addresses the file does not hold: the rule says so (unsupported,
 * with the id as the address match's name) instead of matching anything.
 */

export interface SecurityGroupRules {
  id: string;
  name: string;
  tags: Record<string, string>;
  /** The group's ingress (input) and egress (output) chains, alone in a rule set. */
  ruleset: Ruleset;
}

type Json = Record<string, unknown>;

/** "tcp 443", "udp 1000-2000", "icmp", "all": how the console shows a permission. */
function permissionText(proto: unknown, from: unknown, to: unknown): string {
  const p = String(proto).toLowerCase();
  if (p === '-1') return 'all';
  if (typeof from !== 'number' || from === -1 || p.startsWith('icmp')) return p;
  return `${p} ${from === to ? from : `${from}-${String(to)}`}`;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Reader {
  readonly issues = new IssueList();

  constructor(
    private readonly doc: LocatedJson,
    private readonly file: string,
  ) {}

  at(node: object, field: string, message: string): void {
    this.issues.add({ file: this.file, ...this.doc.where(node) }, field, message);
  }

  list(owner: Json, key: string, field: string): Json[] {
    const v = owner[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.at(owner, `${field}.${key}`, 'must be a list');
      return [];
    }
    return v.filter((e, i) => {
      if (isObject(e)) return true;
      this.at(v, `${field}.${key}[${i}]`, 'must be an object');
      return false;
    }) as Json[];
  }

  text(owner: Json, key: string, field: string, required = true): string | undefined {
    const v = owner[key];
    if (typeof v === 'string') return v;
    if (v !== undefined || required) this.at(owner, `${field}.${key}`, v === undefined ? 'is missing' : 'must be a string');
    return undefined;
  }

  /** One IpPermissions entry as the rules it makes (one per address source, per family). */
  permission(p: Json, field: string, group: string, dir: 'ingress' | 'egress'): RulesetRule[] {
    const proto = p.IpProtocol;
    if (typeof proto !== 'string' && typeof proto !== 'number') {
      this.at(p, `${field}.IpProtocol`, 'is missing or not a protocol');
      return [];
    }
    const name = String(proto).toLowerCase();
    const numbers: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 };
    const n = name === '-1' || name === 'all' ? -1 : numbers[name] ?? (/^[0-9]{1,3}$/.test(name) && Number(name) <= 255 ? Number(name) : undefined);
    if (n === undefined) {
      this.at(p, `${field}.IpProtocol`, `'${String(proto)}' is not a protocol (tcp, udp, icmp, icmpv6, -1 or a number 0-255)`);
      return [];
    }
    const from = p.FromPort;
    const to = p.ToPort;
    for (const [k, v] of [['FromPort', from], ['ToPort', to]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < -1 || (v as number) > 65535)) this.at(p, `${field}.${k}`, 'must be a whole number from -1 to 65535');
    }
    const base: RuleMatch = {};
    let unsupported: string | undefined;
    if (n === 6 || n === 17) {
      base.protocol = n === 6 ? 'tcp' : 'udp';
      const lo = typeof from === 'number' && from >= 0 ? from : 0;
      const hi = typeof to === 'number' && to >= 0 ? to : 65535;
      if (lo > hi) this.at(p, `${field}.FromPort`, `${lo} is above ToPort ${hi}`);
      if (!(lo === 0 && hi === 65535)) base.dport = { ranges: [[lo, hi]] };
    } else if (n === 1 || n === 58) {
      base.protocol = 'icmp';
      // ICMP: FromPort is the type, ToPort the code; -1 is every one.
      if (typeof from === 'number' && from !== -1) unsupported = `ICMP type ${from}${typeof to === 'number' && to !== -1 ? ` code ${to}` : ''} only`;
    } else if (n !== -1) base.protocol = n;
    const rules: RulesetRule[] = [];
    const add = (entry: Json, family: IpFamily | undefined, address: AddressMatch, why?: string): void => {
      const match: RuleMatch = { ...base, ...(family ? { family } : {}), [dir === 'ingress' ? 'src' : 'dst']: address };
      if (n === 1 && family === 6) return; // icmp (v4) from an IPv6 range matches nothing
      if (n === 58 && family === 4) return;
      const reason = why ?? unsupported;
      rules.push({
        match,
        verdict: { kind: 'accept' },
        source: { file: this.file, line: this.doc.where(entry).line, text: `${group} ${dir} ${permissionText(proto, from, to)} ${dir === 'ingress' ? 'from' : 'to'} ${address.cidrs[0] ?? address.name ?? ''} ${shortJson(entry)}` },
        ...(reason ? { unsupported: reason } : {}),
      });
    };
    for (const [key, cidrKey, family] of [['IpRanges', 'CidrIp', 4], ['Ipv6Ranges', 'CidrIpv6', 6]] as const) {
      for (const [i, r] of this.list(p, key, field).entries()) {
        const f = `${field}.${key}[${i}].${cidrKey}`;
        const text = this.text(r, cidrKey, `${field}.${key}[${i}]`);
        if (text === undefined) continue;
        const c = cidrRange(text);
        if ('error' in c) this.at(r, f, c.error);
        else if (c.family !== family) this.at(r, f, `'${text}' is not an IPv${family} network`);
        else add(r, family, { cidrs: [text.trim()] });
      }
    }
    for (const [i, g] of this.list(p, 'UserIdGroupPairs', field).entries()) {
      const id = this.text(g, 'GroupId', `${field}.UserIdGroupPairs[${i}]`);
      if (id === undefined) continue;
      add(g, undefined, { cidrs: [], name: id }, `security group reference ${id}: the instances in that group, whose addresses the file does not hold`);
    }
    for (const [i, pl] of this.list(p, 'PrefixListIds', field).entries()) {
      const id = this.text(pl, 'PrefixListId', `${field}.PrefixListIds[${i}]`);
      if (id === undefined) continue;
      add(pl, undefined, { cidrs: [], name: id }, `managed prefix list ${id}: its entries are not in the file`);
    }
    return rules;
  }

  /** One direction of a group: its permissions allow, what none allows is denied. */
  chain(id: string, name: string, dir: 'ingress' | 'egress', at: object, permissions: Json[], field: string): Chain {
    return {
      name: `${id} ${dir}`,
      hook: dir === 'ingress' ? 'input' : 'output',
      families: [4, 6],
      policy: 'drop',
      policySource: { file: this.file, line: this.doc.where(at).line, text: `${id} (${name}): what no ${dir} rule allows is denied` },
      rules: permissions.flatMap((p, i) => this.permission(p, `${field}[${i}]`, id, dir)),
    };
  }

  group(g: Json, field: string): SecurityGroupRules | undefined {
    const id = this.text(g, 'GroupId', field);
    if (id === undefined) return undefined;
    const name = this.text(g, 'GroupName', field, false) ?? id;
    const tags: Record<string, string> = {};
    for (const [i, t] of this.list(g, 'Tags', field).entries()) {
      const k = this.text(t, 'Key', `${field}.Tags[${i}]`);
      const v = this.text(t, 'Value', `${field}.Tags[${i}]`, false);
      if (k !== undefined) tags[k] = v ?? '';
    }
    const chain = (dir: 'ingress' | 'egress', key: string): Chain => this.chain(id, name, dir, g, this.list(g, key, field), `${field}.${key}`);
    return {
      id,
      name,
      tags,
      ruleset: { format: 'aws', file: this.file, chains: [chain('ingress', 'IpPermissions'), chain('egress', 'IpPermissionsEgress')], notes: [] },
    };
  }
}

export function readAwsGroups(file: string, text: string): SecurityGroupRules[] {
  const doc = parseLocatedJson(text, file);
  const r = new Reader(doc, file);
  const root = doc.value;
  let groups: unknown[] | undefined;
  if (Array.isArray(root)) groups = root;
  else if (isObject(root) && Array.isArray(root.SecurityGroups)) groups = root.SecurityGroups;
  if (!groups) {
    r.issues.add({ file, line: 1, col: 1 }, 'SecurityGroups', 'expected the output of describe-security-groups: {"SecurityGroups": [...]} or a list of groups');
    r.issues.throwIfAny();
  }
  const out: SecurityGroupRules[] = [];
  for (const [i, g] of groups!.entries()) {
    if (!isObject(g)) {
      r.at(groups!, `SecurityGroups[${i}]`, 'must be an object');
      continue;
    }
    const got = r.group(g, `SecurityGroups[${i}]`);
    if (got) out.push(got);
  }
  r.issues.throwIfAny();
  return out;
}

/** Every group of the file in one rule set (its chains named "<group id> ingress|egress"). */
export function readAws(file: string, text: string): Ruleset {
  const groups = readAwsGroups(file, text);
  return { format: 'aws', file, chains: groups.flatMap((g) => g.ruleset.chains), notes: [] };
}

/**
 * A bare IpPermissions list (fwgen's own <class>.ingress.json and .egress.json, or what
 * `aws ec2 describe-security-groups --query 'SecurityGroups[0].IpPermissions'` prints): one
 * direction of one group, which the caller names (the file says neither).
 */
export function isPermissionList(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith('[') && /^\[\s*(\]|\{\s*"(IpProtocol|FromPort|ToPort|IpRanges|Ipv6Ranges|UserIdGroupPairs|PrefixListIds)"\s*:)/.test(t);
}

export function readAwsPermissions(file: string, text: string, group: string, dir: 'ingress' | 'egress'): Chain {
  const doc = parseLocatedJson(text, file);
  const r = new Reader(doc, file);
  const root = doc.value;
  if (!Array.isArray(root)) {
    r.issues.add({ file, line: 1, col: 1 }, '(document)', 'expected a list of IpPermissions');
    r.issues.throwIfAny();
  }
  const list = root as unknown[];
  const perms = list.filter((p, i) => {
    if (isObject(p)) return true;
    r.at(list, `[${i}]`, 'must be an object');
    return false;
  }) as Json[];
  const chain = r.chain(group, group, dir, list, perms, '');
  r.issues.throwIfAny();
  return chain;
}
