import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { XMLParser } from 'fast-xml-parser';

/**
 * The real tools that apply what fwgen writes. In CI (FWGEN_REQUIRE_VALIDATORS=1) a missing
 * tool fails the run; on a developer machine without it the test is skipped, saying why.
 */
export const required = process.env.FWGEN_REQUIRE_VALIDATORS === '1';

/** cfn-lint alone takes tens of seconds to start on a loaded two-core runner: the cap is for a hung tool, not a slow one. */
function sh(cmd: string, args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 240_000 });
}

function works(cmd: string, args: string[]): boolean {
  const r = sh(cmd, args);
  return r.error === undefined && r.status === 0;
}

/** Each answer is worked out when first asked, once per process: cfn-lint alone costs seconds to start. */
function once<T>(probe: () => T): () => T {
  let known: { value: T } | undefined;
  return () => (known ??= { value: probe() }).value;
}

/** Python with botocore: the machine's python3, else Debian's; '' when neither has it. */
export const botocorePython = once(() => ['python3', '/usr/bin/python3'].find((p) => works(p, ['-c', 'import botocore'])) ?? '');

const probes: Record<string, () => boolean> = {
  nft: () => works('unshare', ['-Urn', 'nft', '-c', '-f', '/dev/null']),
  iptables: () => works('unshare', ['-n', 'iptables-restore', '--version']) && works('unshare', ['-n', 'ipset', 'version']),
  xmllint: () => works('xmllint', ['--version']),
  botocore: () => botocorePython() !== '',
  'cfn-lint': () => works('cfn-lint', ['--version']),
  dnsmasq: () => works('dnsmasq', ['--version']),
  // GitHub's own Markdown renderer: what the pull-request comment of fwgen diff becomes.
  'cmark-gfm': () => works('cmark-gfm', ['--version']),
  // Capirca (Debian's python3-capirca): the benchmark's comparison runs its aclgen for real.
  capirca: () => works('/usr/bin/python3', ['-c', 'import capirca.aclgen']) && works('sh', ['-c', 'command -v aclgen']),
};

/**
 * Which validators this machine has, by name. A tool is probed the first time a test asks
 * for it, not when this module loads: most test files need one or two of them, or none.
 */
export const tools: Readonly<Record<string, boolean>> = Object.defineProperties(
  {},
  Object.fromEntries(Object.entries(probes).map(([name, probe]) => [name, { get: once(probe), enumerable: true }])),
);

/** test, or test.skip with a message; or a failing test in CI when the tool is missing. */
export function withTool(tool: keyof typeof tools): jest.It {
  if (tools[tool]) return test;
  if (required) {
    return ((name: string) =>
      test(name, () => {
        throw new Error(`validator '${tool}' is missing but FWGEN_REQUIRE_VALIDATORS=1: .ci/run must install it`);
      })) as unknown as jest.It;
  }
  // eslint-disable-next-line no-console
  console.warn(`skipping checks that need '${tool}': not installed on this machine`);
  return test.skip;
}

export interface Check {
  ok: boolean;
  output: string;
}

function result(r: SpawnSyncReturns<string>): Check {
  return { ok: r.status === 0 && !r.error, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export function nftCheck(file: string): Check {
  return result(sh('unshare', ['-Urn', 'nft', '-c', '-f', file]));
}

/**
 * Loads iptables files for real in a network namespace made for this check: ipsets first,
 * then both restore files with --noflush, then lists what the kernel holds.
 */
export function iptablesLoad(dir: string, prefix: string): Check {
  const q = (f: string) => `'${path.join(dir, f).replace(/'/g, `'\\''`)}'`;
  const steps: string[] = ['set -e'];
  if (fs.existsSync(path.join(dir, `${prefix}ipsets`))) steps.push(`ipset -exist restore < ${q(`${prefix}ipsets`)}`);
  steps.push(`iptables-restore -n < ${q(`${prefix}rules.v4`)}`, `ip6tables-restore -n < ${q(`${prefix}rules.v6`)}`);
  steps.push('iptables -S', 'ip6tables -S');
  return result(sh('unshare', ['-n', 'sh', '-c', steps.join('\n')]));
}

/** Markdown as GitHub renders a comment (raw HTML kept, as GitHub keeps <details> and <code>). */
export function cmarkGfm(markdown: string): Check {
  return result(sh('cmark-gfm', ['--unsafe', '-e', 'table', '-e', 'autolink', '-e', 'strikethrough', '-e', 'tagfilter'], markdown));
}

export function xmllint(file: string): Check {
  return result(sh('xmllint', ['--noout', file]));
}

export function awsValidate(kind: 'ec2-ingress' | 'ec2-egress' | 'network-firewall-rule-group', files: string[]): Check {
  return result(sh(botocorePython(), [path.join(__dirname, 'aws_validate.py'), kind, ...files]));
}

export function dnsmasqTest(file: string): Check {
  return result(sh('dnsmasq', ['--test', '-C', file]));
}

/** cfn-lint over templates in one run (it takes seconds to start); its lines name the file. */
export function cfnLintAll(files: string[]): Check {
  return result(sh('cfn-lint', ['--format', 'parseable', ...files]));
}

/** pfSense's rules for what it accepts, checked on the parsed XML. */
export function pfsenseStructure(text: string): string[] {
  const problems: string[] = [];
  const doc = new XMLParser({ isArray: (name) => ['alias', 'rule'].includes(name), parseTagValue: false }).parse(text);
  const aliases: Array<Record<string, string>> = doc.pfsense?.aliases?.alias ?? [];
  const rules: Array<Record<string, any>> = doc.pfsense?.filter?.rule ?? [];
  const byName = new Map<string, Record<string, string>>();
  const services = new Set(['http', 'https', 'ssh', 'ftp', 'smtp', 'domain', 'ntp', 'telnet', 'pop3', 'imap']);
  for (const a of aliases) {
    const name = String(a.name);
    if (!/^[A-Za-z0-9_]+$/.test(name)) problems.push(`alias ${name}: characters outside [A-Za-z0-9_]`);
    if (name.length >= 32) problems.push(`alias ${name}: 32 characters or more`);
    if (/^[0-9_]+$/.test(name)) problems.push(`alias ${name}: only digits and underscores`);
    if (name.startsWith('pkg_')) problems.push(`alias ${name}: starts with pkg_`);
    if (services.has(name.toLowerCase())) problems.push(`alias ${name}: a service name`);
    if (byName.has(name)) problems.push(`alias ${name}: defined twice`);
    byName.set(name, a);
    if (!['host', 'network', 'port'].includes(String(a.type))) problems.push(`alias ${name}: type ${a.type}`);
    const entries = String(a.address).split(' ');
    if (entries.some((e) => e.includes('*'))) problems.push(`alias ${name}: holds a wildcard`);
    if (entries.some((e) => e === '')) problems.push(`alias ${name}: empty entry`);
    if (String(a.detail ?? '').split('||').length !== entries.length) problems.push(`alias ${name}: detail entries do not match addresses`);
  }
  const trackers = new Set<string>();
  const descrs = new Set<string>();
  for (const r of rules) {
    const id = `rule ${r.tracker}`;
    if (trackers.has(String(r.tracker))) problems.push(`${id}: tracker not unique`);
    trackers.add(String(r.tracker));
    // pfsensible.core finds a rule by its description and interface: two alike would overwrite each other.
    if (descrs.has(`${r.interface}|${r.descr}`)) problems.push(`${id}: description not unique on ${r.interface}`);
    descrs.add(`${r.interface}|${r.descr}`);
    // fwgen passes, and blocks only what no class holds: a block rule is last, on any protocol and destination.
    const block = r.type === 'block';
    if (!['pass', 'block'].includes(r.type)) problems.push(`${id}: type ${r.type}`);
    if (!['inet', 'inet6', 'inet46'].includes(r.ipprotocol)) problems.push(`${id}: ipprotocol ${r.ipprotocol}`);
    if (block ? r.protocol !== undefined : !['tcp', 'udp', 'tcp/udp', 'icmp'].includes(r.protocol)) problems.push(`${id}: protocol ${r.protocol}`);
    if (!block && rules.slice(0, rules.indexOf(r)).some((x) => x.type === 'block' && x.interface === r.interface)) problems.push(`${id}: a pass rule after a block rule on ${r.interface}`);
    if (String(r.descr ?? '').includes('\\')) problems.push(`${id}: backslash in descr`);
    for (const side of ['source', 'destination']) {
      const end = r[side] ?? {};
      const keys = Object.keys(end).filter((k) => k !== 'port' && k !== 'not');
      if (end.not !== undefined && (!block || side !== 'source')) problems.push(`${id}: ${side} is negated`);
      if (block && side === 'source' && (end.not === undefined || end.address === undefined)) problems.push(`${id}: a block rule not for sources outside an alias`);
      if (keys.length !== 1 || !['any', 'address', 'network'].includes(keys[0]!)) problems.push(`${id}: ${side} must have one of any/address/network`);
      if (end.address !== undefined && !byName.has(String(end.address))) problems.push(`${id}: ${side} alias ${end.address} is not defined`);
      if (end.address !== undefined && byName.get(String(end.address))?.type === 'port') problems.push(`${id}: ${side} uses a port alias as address`);
      if (end.port !== undefined) {
        const p = String(end.port);
        if (!/^\d{1,5}(-\d{1,5})?$/.test(p) && byName.get(p)?.type !== 'port') problems.push(`${id}: ${side} port ${p}`);
      }
      if (end.any !== undefined && !(block && side === 'destination')) problems.push(`${id}: ${side} is any`);
    }
  }
  return problems;
}

/**
 * What botocore's model does not check in a Network Firewall rule group: variable names
 * (pattern and 32 characters), every $VARIABLE a rule uses defined, unique sids, and rules of
 * the one shape fwgen writes (action, app protocol, source, destination, port, options).
 */
export function networkFirewallProblems(group: any): string[] {
  const problems: string[] = [];
  const vars = Object.keys(group.RuleGroup?.RuleVariables?.IPSets ?? {});
  for (const v of vars) if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(v) || v.length > 32) problems.push(`variable ${v}: not a valid name`);
  const sids = new Set<string>();
  for (const line of String(group.RuleGroup?.RulesSource?.RulesString ?? '').split('\n')) {
    const m = /^(pass|drop) (tls|http) (\$[A-Za-z0-9_]+) any -> (\$[A-Za-z0-9_]+) (\d+) \((.*)\)$/.exec(line);
    if (!m) {
      problems.push(`rule not in fwgen's shape: ${line}`);
      continue;
    }
    for (const v of [m[3]!, m[4]!]) if (!['$HOME_NET', '$EXTERNAL_NET'].includes(v) && !vars.includes(v.slice(1))) problems.push(`${v} is not defined: ${line}`);
    const sid = /(?:^|; )sid:(\d+);/.exec(m[6]!)?.[1];
    if (!sid || sids.has(sid)) problems.push(`sid missing or not unique: ${line}`);
    if (sid) sids.add(sid);
    // Options are `key:value;` or `key;`, with no stray quote or semicolon inside a quoted value.
    if (!/^(?:[a-z_.]+(?::(?:"[^"\\;]*"|[^";]+))?; ?)+$/.test(`${m[6]!};`.replace(/;;$/, ';'))) problems.push(`options do not parse: ${line}`);
  }
  return problems;
}
