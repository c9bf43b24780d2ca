import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { auditFiles, type AuditReport } from '../../src/audit';
import { buildPolicy } from '../../src/policy/build';
import type { Policy } from '../../src/policy/types';
import { addressBookFor } from '../../src/resolve/address-book';
import { loadSite } from '../../src/site/load';
import { psCommands } from '../conformance/powershell';
import { repoRoot, tempDir } from '../helpers';
import { awsPython, unlessMissing } from '../ansible/harness';

export const sites = ['ecommerce-web', 'eu-restaurant-aloha', 'shop-payxpert-sunmi'];
export const outDir = path.join(repoRoot, 'out');

const policies = new Map<string, Policy>();

/** An example site's policy, as `fwgen audit` builds it (the lock pins names; none is looked up). */
export function sitePolicy(site: string): Policy {
  let p = policies.get(site);
  if (!p) {
    const profileFile = path.join('examples', `${site}.yaml`);
    const cwd = process.cwd();
    process.chdir(repoRoot);
    try {
      const { catalog, profile } = loadSite(path.join(repoRoot, 'fwgen.yaml'), profileFile);
      p = buildPolicy(catalog, profile, addressBookFor(profileFile), true);
    } finally {
      process.chdir(cwd);
    }
    policies.set(site, p);
  }
  return p;
}

export function audit(site: string, files: string[]): AuditReport {
  return auditFiles(sitePolicy(site), files);
}

/** A temporary copy of a file with `edit` applied (asserting it changed something). */
export function planted(file: string, edit: (text: string) => string, name = path.basename(file)): string {
  const text = fs.readFileSync(file, 'utf8');
  const changed = edit(text);
  if (changed === text) throw new Error(`the planted edit changed nothing in ${file}`);
  const out = path.join(tempDir('fwgen-audit-'), name);
  fs.writeFileSync(out, changed);
  return out;
}

export function write(name: string, text: string): string {
  const out = path.join(tempDir('fwgen-audit-'), name);
  fs.writeFileSync(out, text);
  return out;
}

/** What the report says is wrong, in short: for assertions that name the cause. */
export function findings(r: AuditReport): { flows: string[]; openings: string[]; uncertain: string[] } {
  return {
    flows: r.flows.filter((f) => f.status === 'partial' || f.status === 'missing').map((f) => `${f.status} ${f.vendor}/${f.service} ${f.deviceClass} ${f.direction} ${f.protocol}`),
    openings: r.openings.map((o) => `${o.by.rule ? o.by.rule.line : o.by.chain}`),
    uncertain: r.uncertain.map((u) => `${u.rule.line}`),
  };
}

const ENUM = { Inbound: 1, Outbound: 2, Allow: 2, Block: 4 } as const;

/**
 * What Windows would report after running one of fwgen's scripts, in the shape the README's
 * export command writes (Windows PowerShell 5.1: enums as numbers, one item as itself, not a
 * list): each New-NetFirewallRule as a rule with its address, port and application filters,
 * each dynamic keyword address, and the profiles with the default actions Set-NetFirewallProfile set.
 */
export async function windowsExport(script: string): Promise<unknown> {
  const commands = await psCommands(script);
  const one = (v: string[] | undefined): string | string[] => (v === undefined ? 'Any' : v.length === 1 ? v[0]! : v);
  const rules = commands.filter((c) => c.name === 'New-NetFirewallRule').map((c) => ({
    Name: c.params.Name![0],
    DisplayName: c.params.DisplayName![0],
    Group: c.params.Group![0],
    Enabled: 1,
    Direction: ENUM[c.params.Direction![0] as 'Inbound'],
    Action: ENUM[c.params.Action![0] as 'Allow'],
    Profile: profileFlags(c.params.Profile![0]!),
    AddressFilter: {
      LocalAddress: 'Any',
      RemoteAddress: one(c.params.RemoteAddress),
      ...(c.params.RemoteDynamicKeywordAddresses ? { RemoteDynamicKeywordAddresses: one(c.params.RemoteDynamicKeywordAddresses) } : {}),
    },
    PortFilter: { Protocol: c.params.Protocol?.[0] ?? 'Any', LocalPort: one(c.params.LocalPort), RemotePort: one(c.params.RemotePort), IcmpType: 'Any' },
    ApplicationFilter: { Program: c.params.Program?.[0] ?? 'Any' },
  }));
  const keywords = commands.filter((c) => c.name === 'New-NetFirewallDynamicKeywordAddress').map((c) => ({ Id: c.params.Id![0], Keyword: c.params.Keyword![0], Addresses: null, AutoResolve: true }));
  const set = commands.find((c) => c.name === 'Set-NetFirewallProfile');
  const blocked = (set?.params.Profile ?? []).flatMap((p) => p.split(','));
  const profiles = ['Domain', 'Private', 'Public'].map((name) => ({
    Name: name,
    Enabled: 1,
    DefaultInboundAction: blocked.includes(name) ? 4 : 0,
    DefaultOutboundAction: blocked.includes(name) ? 4 : 0,
  }));
  return { Profiles: profiles, DynamicKeywordAddresses: keywords, Rules: rules };
}

function profileFlags(text: string): number {
  const names = text.split(',').map((s) => s.trim());
  if (names.includes('Any')) return 0;
  return names.reduce((n, p) => n | ({ Domain: 1, Private: 2, Public: 4 } as Record<string, number>)[p]!, 0);
}

/** Whether a loopback HTTP server answers the URL with a success status. */
async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** moto's EC2 API on a free loopback port, for the life of a test file. */
export class Moto {
  private server?: ChildProcess;
  endpoint = '';

  static available(): boolean {
    return awsPython !== undefined;
  }

  async start(): Promise<void> {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    this.endpoint = `http://127.0.0.1:${port}`;
    this.server = spawn(awsPython!, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    // Asked from here, not by a Python started for each try: moto takes seconds to come up.
    for (let i = 0; i < 300; i++) {
      if (await answers(`${this.endpoint}/moto-api/`)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`moto did not start on ${this.endpoint}`);
  }

  stop(): void {
    this.server?.kill('SIGKILL');
    this.server?.unref();
  }

  /** Creates the groups and returns the DescribeSecurityGroups JSON the API gives back. */
  describe(spec: unknown): string {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const r = spawnSync(awsPython!, [path.join(__dirname, 'sg_describe.py'), this.endpoint], { input: JSON.stringify(spec), encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`sg_describe.py: ${r.stderr}`);
    return r.stdout;
  }
}

type Perm = { IpRanges?: unknown[]; Ipv6Ranges?: unknown[] };
type GroupSpec = { name: string; tags: Record<string, string>; ingress: Perm[]; egress: Perm[] };

const MOTO_RULES = 60;

/**
 * fwgen's security groups for a site as a spec for Moto.describe: one group per class, named
 * and tagged as fwgen does. moto counts both families against one quota of 60 where AWS counts
 * each apart, so a class over 60 gets its IPv6 rules in a second group of the same class (an
 * instance in both is allowed what either allows, and audit reads them so).
 */
export function awsSpec(site: string): GroupSpec[] {
  const dir = path.join(outDir, site, 'aws');
  const groupName = String(sitePolicy(site).profile.targets?.aws?.groupName ?? `fwgen-${site}`);
  const size = (perms: Perm[]): number => perms.reduce((n, p) => n + (p.IpRanges?.length ?? 0) + (p.Ipv6Ranges?.length ?? 0), 0);
  const only = (perms: Perm[], key: 'IpRanges' | 'Ipv6Ranges'): Perm[] =>
    perms.filter((p) => (p[key]?.length ?? 0) > 0).map((p) => {
      const { IpRanges: _4, Ipv6Ranges: _6, ...rest } = p;
      return { ...rest, [key]: p[key] };
    });
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ingress.json'))
    .sort()
    .flatMap((f) => {
      const cls = f.replace(/\.ingress\.json$/, '');
      const read = (d: string): Perm[] => JSON.parse(fs.readFileSync(path.join(dir, `${cls}.${d}.json`), 'utf8')) as Perm[];
      const g = { name: `${groupName}-${cls}`, tags: { 'fwgen:device-class': cls }, ingress: read('ingress'), egress: read('egress') };
      if (size(g.ingress) <= MOTO_RULES && size(g.egress) <= MOTO_RULES) return [g];
      return [
        { ...g, ingress: only(g.ingress, 'IpRanges'), egress: only(g.egress, 'IpRanges') },
        { ...g, name: `${g.name}-ipv6`, ingress: only(g.ingress, 'Ipv6Ranges'), egress: only(g.egress, 'Ipv6Ranges') },
      ];
    });
}

/** moto started for the tests of a describe block (stopped after), and the test function that skips, or fails in CI, without it. */
export function useMoto(): { moto: Moto; it: jest.It } {
  const moto = new Moto();
  beforeAll(async () => {
    if (Moto.available()) await moto.start();
  }, 60_000);
  afterAll(() => moto.stop());
  return { moto, it: unlessMissing(Moto.available() ? [] : ['python3 with boto3 and moto']) };
}

/** What the kernel holds once `nft -f` loaded a file, as `nft -j list ruleset` prints it (in a namespace of its own). */
export function nftJsonFromKernel(file: string): string {
  const r = spawnSync('unshare', ['-Urn', 'sh', '-c', 'nft -f "$1" && nft -j list ruleset', 'sh', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft: ${r.stderr}`);
  return r.stdout;
}

/** fwgen's iptables files of a site, per scope: the gateway's rules.v4, rules.v6 (and ipsets), or each host's pair. */
export function iptablesSets(site: string): string[][] {
  const dir = path.join(outDir, site, 'iptables');
  const names = fs.readdirSync(dir).sort();
  const stems = [...new Set(names.filter((f) => /\.v[46]$/.test(f)).map((f) => f.replace(/(^|\.)rules\.v[46]$/, '')))];
  return stems.map((stem) => [
    ...names.filter((f) => f === `${stem ? `${stem}.` : ''}rules.v4` || f === `${stem ? `${stem}.` : ''}rules.v6`),
    ...(names.includes('ipsets') && !stem ? ['ipsets'] : []),
  ].map((f) => path.join(dir, f)));
}
