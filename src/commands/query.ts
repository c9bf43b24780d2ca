import * as fs from 'node:fs';
import type { Argv } from 'yargs';
import { escapeUnsafe } from '../util/unsafe-chars';
import { FileError, formatLocation } from '../errors';
import { hostOrCidr, isCidrError, networkEnds, parseCidr } from '../net/addresses';
import { formatPorts } from '../net/ports';
import { buildPolicy } from '../policy/build';
import type { Policy, Protocol, Rule } from '../policy/types';
import { addressBookFor } from '../resolve/address-book';
import { evaluate, EvaluationError, prepare, type Decision, type EvaluationContext, type Packet, type Path } from '../ruleset/evaluate';
import { answerFromPolicy, preparePolicy, QueryInputError, resolveEnd, type Endpoint, type Mode, type PolicyAnswer, type ResolvedEnd } from '../ruleset/policy-answer';
import { decodeText } from '../ruleset/readers/located-json';
import { WINDOWS_PROFILES, type WindowsProfile } from '../ruleset/readers/windows';
import { plannerFor, rulesetsOf, type LoadedFiles } from '../query/file-sides';
import { loadFiles } from '../query/load-files';
import { targetById } from '../targets/registry';
import { loadSite } from '../site/load';
import { UsageError } from '../errors';
import type { Args, Io } from './command';
import { withCatalog, withWorkspace } from './options';
import { siteOf } from './workspace-of';

/**
 * fwgen query: is this connection allowed, and by which rule. From the policy of a site (its
 * rules with their vendor page and catalog line), and/or from rule set files as deployed or
 * rendered (the deciding rule's file:line). Exit 0 allowed, 3 dropped, 1 bad input.
 */

export const QUERY_EXIT = { allowed: 0, error: 1, dropped: 3 } as const;

/** The largest rule set file read (a deployed iptables-save of a big router is a few MB). */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

export function queryOptions<T>(y: Argv<T>) {
  return y
    .positional('site', { type: 'string', describe: 'a workspace site (file name without .yaml)' })
    .option('profile', { alias: 'p', type: 'string', describe: 'a site profile (outside a workspace, or one file of it)' })
    .option('from', { type: 'string', demandOption: true, describe: 'source: an address, a network, a device class of the site, or a host name' })
    .option('to', { type: 'string', demandOption: true, describe: 'destination: an address, a network, a device class, or a host name (the lock\'s addresses)' })
    .option('port', { type: 'number', describe: 'destination port (tcp and udp)' })
    .option('protocol', { choices: ['tcp', 'udp', 'icmp'] as const, default: 'tcp' as const, describe: 'icmp asks about an echo request' })
    .option('target', { alias: 't', type: 'string', describe: 'whose mode (host or gateway) the policy is enforced in; default: the file\'s format, else nftables' })
    .option('file', {
      alias: 'f',
      type: 'string',
      array: true,
      describe: 'answer from rule set files: nft list ruleset or an nft -f file, nft -j JSON, iptables-save (with ipset save output as another --file), pfSense config.xml, AWS describe-security-groups JSON (or CLASS.ingress.json / CLASS.egress.json), Windows Get-NetFirewallRule JSON',
    })
    .option('hook', { choices: ['forward', 'input', 'output'] as const, describe: 'with --file: the packet crosses the firewall (forward) or is to (input) or from (output) the host or instance holding the file' })
    .option('iif', { type: 'string', describe: 'with --file: the interface the packet arrives on (pfSense: lan, opt1, or the device igb1)' })
    .option('oif', { type: 'string', describe: 'with --file: the interface the packet leaves on' })
    .option('group', { type: 'string', array: true, describe: 'with AWS files: the security group (name or id) the instance is in; repeat for several' })
    .option('windows-profile', { choices: WINDOWS_PROFILES, array: true, describe: 'with a Windows export: the profile(s) the host may be in (default: the site\'s, else all three)' })
    .option('program', { type: 'string', describe: 'with a Windows export: the program (full path) that sends or receives the packet' })
    .option('json', { type: 'boolean', default: false, describe: 'one JSON object' })
    .example('$0 query -p examples/eu-restaurant-aloha.yaml --from order-entry-terminal --to boh-server --port 9054', 'from the policy: the rule and its vendor page')
    .example('$0 query --file out/site/nftables/fwgen.nft --from 10.20.0.10 --to 104.16.0.1 --port 443 --iif lan0 --oif wan0', 'from a rendered or deployed file')
    .example('$0 query --file config.xml --from 10.20.0.10 --to 104.16.0.1 --port 443', 'from a pfSense configuration: the rules of the interface the packet arrives on')
    .example('$0 query --file sg.json --group web --hook input --from 203.0.113.7 --to 10.0.1.5 --port 443', 'from aws ec2 describe-security-groups output');
}

export class QueryUsageError extends Error {}

export function builder(y: Argv) {
  return queryOptions(withWorkspace(withCatalog(y)));
}

export function handler(a: Args, io: Io): number {
  try {
    return runQuery(a, io, siteOf(a, io));
  } catch (err) {
    throw err instanceof QueryUsageError ? new UsageError(err.message) : err;
  }
}

interface SiteSource {
  profileFile: string;
  catalog: string;
}

interface Output {
  out(text: string): void;
  err(text: string): void;
}

export function runQuery(a: Record<string, unknown>, io: Output, site: SiteSource | undefined): number {
  const protocol = a.protocol as Protocol;
  const port = a.port as number | undefined;
  if (protocol === 'icmp' && port !== undefined) throw new QueryUsageError('--port does not go with --protocol icmp');
  if (protocol !== 'icmp' && port === undefined) throw new QueryUsageError(`--port is needed for ${protocol}`);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new QueryUsageError(`--port takes a port number 0-65535${Number.isFinite(port) ? ` (got ${port})` : ''}`);
  const files = ((a.file as string[] | undefined) ?? []).map(String);
  if (!site && files.length === 0) throw new QueryUsageError('name a site (-p PROFILE, or a site of the workspace) or give --file');
  try {
    const policy = site ? policyOf(site) : undefined;
    const loaded = files.length > 0 ? loadFiles(files.map((f) => ({ file: f, text: readBounded(f) })), a.hook as Path | undefined) : undefined;
    const result = answerQuery(a, policy, loaded);
    io.out(a.json ? JSON.stringify(toJson(result), null, 2) + '\n' : formatText(result));
    return result.verdict === 'allow' ? QUERY_EXIT.allowed : QUERY_EXIT.dropped;
  } catch (e) {
    if (e instanceof QueryInputError || e instanceof EvaluationError) throw new QueryUsageError(e.message);
    throw e;
  }
}

/**
 * The answer of the policy and/or the files read, for the query's options (`a`, as the command
 * line gives them): what runQuery prints, and what tests ask in-process for many packets.
 */
export function answerQuery(a: Record<string, unknown>, policy: Policy | undefined, loaded: LoadedFiles | undefined): Result {
  const protocol = a.protocol as Protocol;
  const port = a.port as number | undefined;
  const rulesets = loaded ? rulesetsOf(loaded) : [];
  if (policy) preparePolicy(policy);
  prepare(rulesets);
  const from = endOf(policy, String(a.from), '--from');
  const to = endOf(policy, String(a.to), '--to');
  const mode = policy ? modeOf(policy, targetFor(a.target as string | undefined, loaded)) : undefined;
  const policyAnswer = policy && mode ? answerFromPolicy(policy, from, to, protocol, port, mode) : undefined;
  const fileAnswer = loaded ? answerFromFiles(loaded, from, to, protocol, port, a, policy, mode) : undefined;
  const verdict = fileAnswer ? fileAnswer.verdict : policyAnswer!.verdict;
  return { policy, from, to, protocol, port, mode, policyAnswer, fileAnswer, verdict };
}

function policyOf(site: SiteSource): Policy {
  const { catalog, profile } = loadSite(site.catalog, site.profileFile);
  return buildPolicy(catalog, profile, addressBookFor(site.profileFile), true);
}

function readBounded(file: string): string {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (e) {
    throw new FileError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
  if (size > MAX_FILE_BYTES) throw new FileError(file, `larger than ${MAX_FILE_BYTES / 1024 / 1024} MB; not read`);
  // Windows PowerShell writes its exports in UTF-16 with a byte-order mark.
  return decodeText(fs.readFileSync(file));
}

/** Without a site, an end must be an address or network: classes and names need the policy and its lock. */
function endOf(policy: Policy | undefined, given: string, option: string): ResolvedEnd {
  if (policy) return resolveEnd(policy, given);
  const c = parseCidr(given);
  if (isCidrError(c)) throw new QueryUsageError(`${option} '${given}': without a site (-p) only addresses are known (${c.error})`);
  return { given, kind: 'address', endpoints: [{ cidr: c.text }] };
}

/** The target whose mode applies: --target, else the one that writes the files' format, else nftables. */
function targetFor(given: string | undefined, loaded: LoadedFiles | undefined): string {
  if (given !== undefined) {
    if (!targetById(given)) throw new QueryUsageError(`unknown target '${given}'`);
    return given;
  }
  if (loaded && loaded.kind !== 'linux') return loaded.kind;
  return loaded?.rulesets[0]?.format === 'iptables-save' ? 'iptables' : 'nftables';
}

function modeOf(policy: Policy, target: string): Mode {
  const given = policy.profile.targets?.[target]?.mode;
  if (given === 'host' || given === 'gateway') return given;
  const spec = (targetById(target)!.options as Record<string, { default: unknown }>).mode;
  if (spec) return spec.default === 'gateway' ? 'gateway' : 'host';
  return target === 'pfsense' ? 'gateway' : 'host';
}

interface FilePair {
  src: string;
  dst: string;
  path: Path;
  decision: Decision;
}

interface FileAnswer {
  verdict: 'allow' | 'drop';
  pairs: FilePair[];
  notes: string[];
  /** How the path and interfaces were chosen, when they were not given. */
  assumptions: string[];
}

/** The first and last address of a network: a rule that treats its addresses alike answers the same for both. */
function addressesOf(e: Endpoint): string[] {
  const c = parseCidr(e.cidr!);
  if (isCidrError(c)) throw new QueryInputError(c.error);
  return [...new Set(networkEnds(c))];
}

/**
 * Host names in the files' rules (a pfSense FQDN alias, a Windows dynamic keyword) stand for the
 * addresses the site's lock pins for them; the box resolves them itself, so the answer says so.
 */
function lockLookup(policy: Policy | undefined): EvaluationContext {
  if (!policy) return {};
  return {
    nameAddresses(name) {
      const info = policy.names.get(name.toLowerCase().replace(/\.$/, ''));
      if (!info || info.wildcard || !info.addresses) return undefined;
      return [...info.addresses.ipv4, ...info.addresses.ipv6];
    },
  };
}

/** Whether a rule that led to the decision matched on host names (so on the lock's addresses for them). */
function byNames(d: Decision): boolean {
  return d.trail.some((s) => (s.rule.match.src?.names?.length ?? 0) > 0 || (s.rule.match.dst?.names?.length ?? 0) > 0);
}

function notCrossing(reason: string): Decision {
  return { verdict: 'accept', by: 'not-crossing', reason: `allowed: ${reason}`, trail: [], passed: [], uncertain: [] };
}

function answerFromFiles(loaded: LoadedFiles, from: ResolvedEnd, to: ResolvedEnd, protocol: Protocol, port: number | undefined, a: Record<string, unknown>, policy: Policy | undefined, mode: Mode | undefined): FileAnswer {
  const planner = plannerFor(loaded, {
    policy,
    mode,
    hook: a.hook as Path | undefined,
    iif: a.iif as string | undefined,
    oif: a.oif as string | undefined,
    groups: (a.group as string[] | undefined)?.map(String),
    profiles: a['windows-profile'] as WindowsProfile[] | undefined,
  });
  const extra: string[] = [];
  const context = lockLookup(policy);
  const pairs: FilePair[] = [];
  for (const s of from.endpoints) {
    for (const d of to.endpoints) {
      if (s.cidr === undefined || d.cidr === undefined || s.cidr.includes(':') !== d.cidr.includes(':')) continue;
      for (const src of addressesOf(s)) {
        for (const dst of addressesOf(d)) {
          const plan = planner.plan(s, d, src, dst);
          if ('notCrossing' in plan) {
            pairs.push({ src, dst, path: 'forward', decision: notCrossing(plan.notCrossing) });
            continue;
          }
          for (const side of plan.sides) {
            const packet: Packet = {
              family: src.includes(':') ? 6 : 4,
              protocol,
              src,
              dst,
              dport: port,
              ...(side.iif ? { iif: side.iif } : {}),
              ...(side.oif ? { oif: side.oif } : {}),
              ...(typeof a.program === 'string' ? { program: a.program } : {}),
            };
            const decision = evaluate(side.rulesets, packet, side.path, context);
            if (policy && byNames(decision)) extra.push(`the deciding rule names hosts: matched by the addresses ${policy.lockFile ?? 'the lock'} pins for them (the firewall looks them up itself)`);
            pairs.push({ src, dst, path: side.path, decision });
          }
        }
      }
    }
  }
  if (pairs.length === 0) throw new QueryUsageError(`${from.given} and ${to.given} have no addresses of the same family to send a packet between`);
  return {
    verdict: pairs.every((p) => p.decision.verdict === 'accept') ? 'allow' : 'drop',
    pairs,
    notes: [...new Set(rulesetsOf(loaded).flatMap((r) => r.notes))],
    assumptions: [...new Set([...planner.assumptions, ...extra])],
  };
}

export interface Result {
  policy?: Policy;
  from: ResolvedEnd;
  to: ResolvedEnd;
  protocol: Protocol;
  port?: number;
  mode?: Mode;
  policyAnswer?: PolicyAnswer;
  fileAnswer?: FileAnswer;
  verdict: 'allow' | 'drop';
}

function endText(e: ResolvedEnd): string {
  if (e.kind === 'class') return `${e.given} (device class: ${e.endpoints.map((x) => hostOrCidr(x.cidr!)).join(', ')})`;
  if (e.kind === 'address') return `${hostOrCidr(e.endpoints[0]!.cidr!)}${e.endpoints[0]!.cls ? ` (in ${e.endpoints[0]!.cls})` : ''}`;
  return e.given;
}

function ruleJson(policy: Policy, r: Rule) {
  const vendor = policy.vendors.find((v) => v.id === r.vendor);
  return {
    id: r.id,
    vendor: r.vendor,
    vendorName: r.vendorName,
    service: r.service,
    serviceName: r.serviceName,
    deviceClass: r.deviceClass,
    direction: r.direction,
    protocol: r.protocol,
    ports: formatPorts(r.ports),
    page: vendor?.citation,
    origins: r.origins.map((o) => ({ file: o.loc.file, line: o.loc.line, col: o.loc.col, flow: o.flow, cite: o.cite })),
  };
}

function nameJson(e: ResolvedEnd) {
  if (e.kind !== 'name') return undefined;
  const l = e.lock;
  return {
    name: e.given,
    addresses: l?.addresses ? [...l.addresses.ipv4, ...l.addresses.ipv6].map(hostOrCidr) : [],
    wildcard: l?.wildcard ?? e.given.startsWith('*.'),
    ttl: l?.ttl,
    stale: l?.stale,
    inLock: l?.addresses !== undefined,
  };
}

function decisionJson(d: Decision) {
  const ref = (s: { file: string; line: number; text: string } | undefined) => (s ? { file: s.file, line: s.line, text: s.text } : undefined);
  return {
    verdict: d.verdict === 'accept' ? 'allow' : 'drop',
    by: d.by,
    action: d.action,
    chain: d.chain,
    rule: ref(d.source),
    ...(d.reason ? { reason: d.reason } : {}),
    via: d.trail.slice(0, -1).map((s) => ({ chain: s.chain, ...ref(s.rule.source)! })),
    passed: d.passed.map((p) => ({ chain: p.chain, by: p.by, ...ref(p.source) })),
    certain: d.uncertain.length === 0,
    uncertain: d.uncertain,
  };
}

function toJson(r: Result) {
  const pa = r.policyAnswer;
  const fa = r.fileAnswer;
  return {
    verdict: r.verdict,
    certain: (pa?.uncertain.length ?? 0) === 0 && (fa?.pairs.every((p) => p.decision.uncertain.length === 0) ?? true),
    site: r.policy?.profile.name ?? null,
    mode: r.mode ?? null,
    protocol: r.protocol,
    port: r.port ?? null,
    from: { given: r.from.given, kind: r.from.kind, addresses: r.from.endpoints.flatMap((e) => (e.cidr ? [hostOrCidr(e.cidr)] : [])) },
    to: { given: r.to.given, kind: r.to.kind, addresses: r.to.endpoints.flatMap((e) => (e.cidr ? [hostOrCidr(e.cidr)] : [])) },
    names: [nameJson(r.from), nameJson(r.to)].filter((n) => n !== undefined),
    policy: pa
      ? {
          verdict: pa.verdict,
          rules: pa.rules.map((x) => ruleJson(r.policy!, x)),
          pairs: pa.pairs.map((p) => ({ from: p.src.cidr ? hostOrCidr(p.src.cidr) : p.src.name, to: p.dst.cidr ? hostOrCidr(p.dst.cidr) : p.dst.name, allowed: p.allowed, reason: p.reason, rules: p.rules.map((x) => x.id) })),
          uncertain: pa.uncertain,
        }
      : null,
    files: fa
      ? { verdict: fa.verdict, pairs: fa.pairs.map((p) => ({ from: p.src, to: p.dst, hook: p.path, ...decisionJson(p.decision) })), notes: fa.notes, assumptions: fa.assumptions }
      : null,
  };
}

function formatText(r: Result): string {
  const out: string[] = [];
  const what = `${r.protocol}${r.port !== undefined ? ` port ${r.port}` : ' echo request'}`;
  out.push(`${r.verdict === 'allow' ? 'ALLOWED' : 'DROPPED'}: ${what} from ${endText(r.from)} to ${endText(r.to)}`);
  if (r.policy) out.push(`site ${r.policy.profile.name} (${r.policy.profile.file}), ${r.mode} mode`);
  for (const e of [r.from, r.to]) {
    const n = nameJson(e);
    if (!n) continue;
    const addrs = n.addresses.length > 0 ? n.addresses.join(', ') : n.wildcard ? 'a wildcard: no addresses (the lock pins none)' : 'no addresses in the lock (run fwgen resolve)';
    out.push(`name ${n.name}: ${addrs}${n.ttl !== undefined ? ` (ttl ${n.ttl}s)` : ''}${n.stale ? ` [STALE: ${n.stale}]` : ''}${r.policy?.lockFile ? `, from ${r.policy.lockFile}` : ''}`);
  }
  const pa = r.policyAnswer;
  if (pa) {
    out.push('');
    out.push(`Policy: ${pa.verdict === 'allow' ? 'allowed' : 'dropped'}`);
    for (const rule of pa.rules) {
      const j = ruleJson(r.policy!, rule);
      out.push(`  rule ${j.id}: ${j.vendorName}, ${j.serviceName}: ${j.deviceClass} ${j.direction} ${j.protocol}${j.protocol === 'icmp' ? '' : ` ${j.ports}`}`);
      for (const o of rule.origins) out.push(`    from ${formatLocation(o.loc)}${o.cite ? `, page: ${o.cite}` : ''}`);
      if (rule.vendor !== 'site' && j.page) out.push(`    source: ${j.page}`);
      else if (rule.vendor === 'site') out.push("    the profile's own flow");
    }
    const denied = pa.pairs.filter((p) => !p.allowed);
    for (const p of denied.slice(0, 8)) out.push(`  ${pairText(p.src, p.dst)}: ${p.reason}`);
    if (denied.length > 8) out.push(`  ... and ${denied.length - 8} more pairs of addresses`);
    if (pa.verdict === 'allow' && pa.rules.length === 0) out.push(`  ${pa.pairs[0]!.reason}`);
    for (const u of pa.uncertain) out.push(`  uncertain: ${u}`);
  }
  const fa = r.fileAnswer;
  if (fa) {
    out.push('');
    out.push(`Files: ${fa.verdict === 'allow' ? 'allowed' : 'dropped'}`);
    const groups = new Map<string, FilePair[]>();
    for (const p of fa.pairs) {
      const key = decisionKey(p.decision);
      groups.set(key, [...(groups.get(key) ?? []), p]);
    }
    for (const ps of groups.values()) {
      const d = ps[0]!.decision;
      out.push(`  ${ps.map((p) => `${p.src} -> ${p.dst}`).join(', ')} (${ps[0]!.path}): ${d.verdict === 'accept' ? 'accepted' : 'dropped'}`);
      for (const s of d.passed) out.push(`    first accepted by chain ${s.chain}${s.source ? ` at ${s.source.file}:${s.source.line}` : ''}`);
      for (const s of d.trail.slice(0, -1)) out.push(`    via ${s.rule.source.file}:${s.rule.source.line} (chain ${s.chain}): ${s.rule.source.text}`);
      if (d.by === 'rule') out.push(`    by ${d.source!.file}:${d.source!.line} (chain ${d.chain}): ${d.source!.text}`);
      else if (d.by === 'policy') out.push(`    by the policy of chain ${d.chain}${d.source ? `, ${d.source.file}:${d.source.line}: ${d.source.text}` : ''}`);
      else if (d.by === 'not-crossing') out.push(`    ${d.reason}`);
      else out.push('    no chain of the files filters this packet');
      for (const u of d.uncertain) out.push(`    uncertain: ${u}`);
    }
    for (const n of fa.assumptions) out.push(`  assumed: ${n}`);
    for (const n of fa.notes) out.push(`  note: ${n}`);
    if (pa && pa.verdict !== fa.verdict) out.push(`  the files ${fa.verdict === 'allow' ? 'allow' : 'drop'} what the policy ${pa.verdict === 'allow' ? 'allows' : 'drops'}: they differ`);
  }
  return out.map((l) => escapeUnsafe(l)).join('\n') + '\n';
}

function pairText(s: Endpoint, d: Endpoint): string {
  return `${s.cidr ? hostOrCidr(s.cidr) : s.name} -> ${d.cidr ? hostOrCidr(d.cidr) : d.name}`;
}

function decisionKey(d: Decision): string {
  return JSON.stringify([d.verdict, d.by, d.reason, d.source?.file, d.source?.line, d.chain, d.trail.map((s) => s.rule.source.line), d.uncertain, d.passed.map((p) => p.chain)]);
}
