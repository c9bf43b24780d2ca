import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors';
import type { Policy } from '../policy/types';
import { readAwsGroups } from '../ruleset/readers/aws';
import { decodeText } from '../ruleset/readers/located-json';
import { readRulesets } from '../ruleset/readers';
import { readPfsense } from '../ruleset/readers/pfsense';
import { readWindowsProfiles, WINDOWS_PROFILES, type WindowsProfile } from '../ruleset/readers/windows';
import type { Ruleset } from '../ruleset/model';
import type { AuditScope } from './types';
import { append } from '../util/append';

/** A rule set read back is untrusted input: it is read whole, so its size is capped. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** `--file [CLASS=]PATH`: the class prefix says which device class a host's file protects. */
export interface FileArg {
  path: string;
  deviceClass?: string;
}

export function parseFileArg(arg: string, policy: Policy): FileArg {
  const eq = arg.indexOf('=');
  if (eq > 0) {
    const cls = arg.slice(0, eq);
    if (policy.deviceClasses.some((c) => c.id === cls)) return { path: arg.slice(eq + 1), deviceClass: cls };
  }
  return { path: arg };
}

function readText(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new FileError(file, 'cannot be read (no such file, or no permission)');
  }
  if (!st.isFile()) throw new FileError(file, 'is not a regular file');
  if (st.size > MAX_FILE_BYTES) throw new FileError(file, `is ${st.size} bytes, more than the ${MAX_FILE_BYTES} a rule set may be`);
  return decodeText(fs.readFileSync(file));
}

type Kind = 'pfsense' | 'aws' | 'windows' | 'other';

/**
 * Which of audit's own formats a file is, from its first characters and keys (never from its
 * name); 'other' goes to the registry of the query readers (nftables text and JSON, iptables-save,
 * ipset save), which tells those apart by content too.
 */
function sniff(text: string): Kind {
  const t = text.trimStart();
  if (t.startsWith('<')) return 'pfsense';
  if (t.startsWith('{') || t.startsWith('[')) {
    const head = t.slice(0, 1 << 16);
    if (/"nftables"\s*:/.test(head)) return 'other';
    if (/"(SecurityGroups|GroupId|IpPermissions)"\s*:/.test(head)) return 'aws';
    return 'windows';
  }
  return 'other';
}

/** The class a host's file protects: the --file prefix, else the file's name (fwgen names them after the class). */
function classFor(arg: FileArg, policy: Policy, what: string): string {
  if (arg.deviceClass) return arg.deviceClass;
  const stem = path.basename(arg.path).replace(/\.[^.]*$/, '').replace(/\.(ingress|egress|rules)$/, '');
  if (policy.deviceClasses.some((c) => c.id === stem)) return stem;
  throw new FileError(arg.path, `${what}; say which device class it protects: --file CLASS=${arg.path} (classes: ${policy.deviceClasses.map((c) => c.id).join(', ')})`);
}

function targetOption(policy: Policy, target: string, key: string): unknown {
  return policy.profile.targets?.[target]?.[key];
}

function windowsProfiles(policy: Policy): WindowsProfile[] {
  const given = targetOption(policy, 'windows', 'profiles');
  const list = Array.isArray(given) ? given.map(String) : ['Any'];
  return list.includes('Any') ? WINDOWS_PROFILES : WINDOWS_PROFILES.filter((p) => list.includes(p));
}

export interface ReadFiles {
  scopes: AuditScope[];
  rulesets: Ruleset[];
}

/** Reads every file and says what each audits: a gateway (every class) or one class's host. */
export function scopesFor(policy: Policy, args: FileArg[]): ReadFiles {
  const scopes: AuditScope[] = [];
  const rulesets: Ruleset[] = [];
  const others: Array<{ arg: FileArg; text: string }> = [];
  for (const arg of args) {
    const text = readText(arg.path);
    const kind = sniff(text);
    if (kind === 'pfsense') {
      const rs = readPfsense(arg.path, text);
      const lan = String(targetOption(policy, 'pfsense', 'interface') ?? 'lan');
      rulesets.push(rs);
      scopes.push({ label: arg.path, ruleset: rs, classInterface: () => lan, programs: false, notes: rs.notes });
    } else if (kind === 'aws') {
      append(scopes, awsScopes(policy, arg, text, rulesets));
    } else if (kind === 'windows') {
      const cls = classFor(arg, policy, 'a Windows export holds one host\'s rules');
      for (const p of readWindowsProfiles(arg.path, text)) {
        if (!windowsProfiles(policy).includes(p.profile)) continue;
        rulesets.push(p.ruleset);
        scopes.push({ label: `${arg.path} (${p.profile} profile)`, ruleset: p.ruleset, deviceClass: cls, classInterface: () => undefined, programs: true, notes: p.ruleset.notes });
      }
    } else others.push({ arg, text });
  }
  append(scopes, registryScopes(policy, others, rulesets));
  return { scopes, rulesets };
}

/**
 * The files the query readers read (nftables, iptables-save with ipset save). A file with a
 * forward chain filters the site as a gateway; others one host. The iptables files of one host
 * (or of the gateway), rules.v4 and rules.v6, are one scope, each chain meeting its own family.
 */
function registryScopes(policy: Policy, files: Array<{ arg: FileArg; text: string }>, rulesets: Ruleset[]): AuditScope[] {
  if (files.length === 0) return [];
  const read = readRulesets(files.map((f) => ({ file: f.arg.path, text: f.text })));
  const argOf = new Map(files.map((f) => [f.arg.path, f.arg]));
  const classIf = (id: string): string | undefined => policy.deviceClasses.find((c) => c.id === id)?.interface;
  const groups = new Map<string, { deviceClass?: string; rulesets: Ruleset[] }>();
  for (const rs of read) {
    const gateway = rs.chains.some((c) => c.hook === 'forward' && (c.rules.length > 0 || c.policy === 'drop'));
    const deviceClass = gateway ? undefined : classFor(argOf.get(rs.file) ?? { path: rs.file }, policy, 'its chains filter one host (input, output)');
    // nftables files stand alone; iptables files of the same host (or the gateway) join.
    const k = rs.format === 'iptables-save' ? `iptables|${deviceClass ?? ''}` : `file|${rs.file}`;
    const g = groups.get(k) ?? { ...(deviceClass ? { deviceClass } : {}), rulesets: [] };
    g.rulesets.push(rs);
    groups.set(k, g);
  }
  return [...groups.values()].map((g) => {
    const ruleset = g.rulesets.length === 1 ? g.rulesets[0]! : joinFamilies(g.rulesets);
    rulesets.push(ruleset);
    return {
      label: g.rulesets.map((r) => r.file).join(' + '),
      ruleset,
      ...(g.deviceClass ? { deviceClass: g.deviceClass } : {}),
      classInterface: classIf,
      programs: false,
      notes: g.rulesets.flatMap((r) => r.notes),
    };
  });
}

/** iptables and ip6tables files as one rule set: each file's chains renamed apart, their jumps too. */
function joinFamilies(list: Ruleset[]): Ruleset {
  return {
    format: list[0]!.format,
    file: list.map((r) => r.file).join(' + '),
    notes: list.flatMap((r) => r.notes),
    chains: list.flatMap((rs, i) => rs.chains.map((c) => ({
      ...c,
      name: `${i + 1}:${c.name}`,
      rules: c.rules.map((r) => (r.verdict.kind === 'jump' || r.verdict.kind === 'goto' ? { ...r, verdict: { ...r.verdict, chain: `${i + 1}:${r.verdict.chain}` } } : r)),
    }))),
  };
}

/**
 * Each security group of the file that protects a device class: tagged fwgen:device-class, or
 * named as fwgen names it (<groupName>-<class>) or after the class; or the one group of a file
 * named with --file CLASS=PATH. A rule that references another group of the file that protects
 * a class admits that class's addresses.
 */
function awsScopes(policy: Policy, arg: FileArg, text: string, allRulesets: Ruleset[]): AuditScope[] {
  const groups = readAwsGroups(arg.path, text);
  const prefix = String(targetOption(policy, 'aws', 'groupName') ?? `fwgen-${policy.profile.name}`);
  const classOf = new Map<string, string>();
  for (const g of groups) {
    const byTag = g.tags['fwgen:device-class'];
    const byName = policy.deviceClasses.find((c) => g.name === `${prefix}-${c.id}` || g.name === c.id)?.id;
    const cls = byTag && policy.deviceClasses.some((c) => c.id === byTag) ? byTag : byName ?? (groups.length === 1 ? arg.deviceClass : undefined);
    if (cls) classOf.set(g.id, cls);
  }
  if (classOf.size === 0) {
    throw new FileError(arg.path, `no security group in it protects a device class of the site: tag a group fwgen:device-class, name it ${prefix}-CLASS, or name the class of a one-group file with --file CLASS=${arg.path}`);
  }
  // The groups of one class are one scope: an instance in several groups is allowed what any allows.
  const scopes: AuditScope[] = [];
  const others = groups.filter((x) => !classOf.has(x.id)).map((x) => `${x.id} (${x.name})`);
  for (const cls of [...new Set(classOf.values())]) {
    const mine = groups.filter((g) => classOf.get(g.id) === cls);
    const rulesets = mine.map((g) => withGroupReferences(g.ruleset, policy, classOf));
    const ruleset: Ruleset = {
      format: 'aws',
      file: arg.path,
      chains: (['input', 'output'] as const).map((hook) => {
        const parts = rulesets.map((rs) => rs.chains.find((c) => c.hook === hook)!);
        return { ...parts[0]!, name: `${mine.map((g) => g.id).join('+')} ${hook === 'input' ? 'ingress' : 'egress'}`, rules: parts.flatMap((c) => c.rules) };
      }),
      notes: [],
    };
    allRulesets.push(ruleset);
    scopes.push({
      label: `${arg.path}: ${mine.map((g) => `${g.id} (${g.name})`).join(', ')}`,
      ruleset,
      deviceClass: cls,
      classInterface: () => undefined,
      programs: false,
      notes: others.length ? [`not audited (no device class): ${others.join(', ')}`] : [],
    });
  }
  return scopes;
}

function withGroupReferences(rs: Ruleset, policy: Policy, classOf: Map<string, string>): Ruleset {
  const addressesOf = (id: string): string[] | undefined => {
    const cls = policy.deviceClasses.find((c) => c.id === classOf.get(id));
    return cls && [...cls.addresses.ipv4, ...cls.addresses.ipv6];
  };
  return {
    ...rs,
    chains: rs.chains.map((c) => ({
      ...c,
      rules: c.rules.map((r) => {
        const end = r.match.src?.name !== undefined && r.match.src.cidrs.length === 0 ? 'src' : r.match.dst?.name !== undefined && r.match.dst.cidrs.length === 0 ? 'dst' : undefined;
        const cidrs = end && addressesOf(r.match[end]!.name!);
        if (!end || !cidrs) return r;
        const { unsupported: _gone, ...rest } = r;
        return { ...rest, match: { ...r.match, [end]: { cidrs, name: r.match[end]!.name } } };
      }),
    })),
  };
}
