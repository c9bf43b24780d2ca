import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Policy } from '../../src/policy/types';
import { evaluate, type Packet } from '../../src/ruleset/evaluate';
import { readRulesets, type ReaderInput } from '../../src/ruleset/readers';
import { tempDir } from '../helpers';
import type { Layout, Place, Probe } from '../live/probes';
import { LiveSite } from '../live/site';
import { liveUnavailable, mismatches, nextTag, withLive } from '../live/suite';
import { seeded } from './packets';

/**
 * Rule sets fwgen did not write, read back and checked against the kernel: Capirca's iptables
 * and nftables output (Debian's python3-capirca renders a .pol written here), and hand-written
 * nftables and iptables-save files with what admins write (named sets, intervals,
 * concatenations, verdict maps, user chains with return and goto, ipsets with ports). Each is
 * loaded into a host's namespace; packets from the other side hit its input hook. query must
 * give the kernel's verdict from the file as written and from what the kernel lists back
 * (iptables-save, nft list ruleset, nft -j list ruleset).
 */

const live = withLive();
const liveCapirca = withLive(['capirca']);

const SERVER = { ipv4: ['10.9.0.0/24'], ipv6: ['2001:db8:9::/64'] };
const SERVER_ADDRS = ['10.9.0.1', '10.9.0.15', '10.9.0.16', '10.9.0.20', '10.9.0.31', '10.9.0.32', '10.9.0.200', '2001:db8:9::1', '2001:db8:9::10', '2001:db8:9::1f', '2001:db8:9::20', '2001:db8:9::ffff'];
const CLIENT_ADDRS = [
  '198.51.100.1', '198.51.100.31', '198.51.100.32', '198.51.100.39', '198.51.100.40', '198.51.100.63', '198.51.100.64', '203.0.113.7', '192.0.2.77',
  '2001:db8:aa::1', '2001:db8:aa:ffff::9', '2001:db8:ab::1', '2001:db8:77::5',
];
const PORTS = [21, 22, 23, 52, 53, 54, 79, 80, 81, 442, 443, 444, 3389, 8999, 9000, 9005, 9010, 9011, 12345];

let site: LiveSite | undefined;
let probes: Probe[] = [];

beforeAll(async () => {
  if (liveUnavailable() !== undefined) return;
  const policy = { profile: { name: 'foreign' }, deviceClasses: [{ id: 'server', name: 'server', os: 'linux', addresses: SERVER, interface: 'lan0' }], interfaces: [], rules: [], names: new Map() } as unknown as Policy;
  const layout: Layout = {
    places: new Map<string, Place>([...SERVER_ADDRS.map((a): [string, Place] => [a, { kind: 'class', id: 'server' }]), ...CLIENT_ADDRS.map((a): [string, Place] => [a, { kind: 'vendor' }])]),
    classAddresses: new Map([['server', [...SERVER_ADDRS]]]),
    vendorAddresses: [...CLIENT_ADDRS],
    lanOnly: new Set(),
    aliases: new Map(),
  };
  const rand = seeded(20261204);
  const seen = new Set<string>();
  for (let i = 0; probes.length < 700 && i < 20000; i++) {
    const src = CLIENT_ADDRS[Math.floor(rand() * CLIENT_ADDRS.length)]!;
    const dsts = SERVER_ADDRS.filter((a) => a.includes(':') === src.includes(':'));
    const dst = dsts[Math.floor(rand() * dsts.length)]!;
    const proto: Probe['proto'] = rand() < 0.03 ? 'icmp' : rand() < 0.5 ? 'tcp' : 'udp';
    const port = proto === 'icmp' ? 0 : PORTS[Math.floor(rand() * PORTS.length)]!;
    const key = `${proto} ${src} ${dst} ${port}`;
    if (seen.has(key) || (proto === 'icmp' && probes.filter((p) => p.proto === 'icmp').length >= 12)) continue;
    seen.add(key);
    probes.push({ proto, src, dst, port, expect: 'pass', why: 'random' });
  }
  site = LiveSite.build(nextTag('qf'), policy, layout);
  staticNeighbours(site);
  await site.listen(probes);
}, 300_000);
afterAll(() => site?.destroy());

/**
 * IPv6 neighbours written in, both ways between the host and the router: a rule set with an
 * input policy of drop that does not open neighbour discovery (Capirca's does not) would
 * otherwise cut the host off for IPv6 altogether, which is not what these tests are about.
 */
function staticNeighbours(s: LiveSite): void {
  const host = s.classNs.get('server')!;
  const mac = (ns: string, dev: string) => (JSON.parse(s.exec(ns, 'ip', ['-j', 'link', 'show', dev]).stdout) as Array<{ address: string }>)[0]!.address;
  const hostMac = mac(host, 'eth0');
  const routerMac = mac(s.router, 'lan0');
  s.exec(host, 'ip', ['-6', 'neigh', 'replace', 'fe80::1', 'lladdr', routerMac, 'dev', 'eth0', 'nud', 'permanent']);
  for (const a of SERVER_ADDRS.filter((x) => x.includes(':'))) s.exec(s.router, 'ip', ['-6', 'neigh', 'replace', a, 'lladdr', hostMac, 'dev', 'lan0', 'nud', 'permanent']);
}

function sh(ns: string, cmd: string, args: string[], input?: string): string {
  return site!.exec(ns, cmd, args, input).stdout;
}

/** The verdicts query gives for every probe from these files, against what the kernel did with the rules loaded. */
async function compare(label: string, inputs: ReaderInput[]): Promise<void> {
  const s = site!;
  const host = s.classNs.get('server')!;
  const sets = readRulesets(inputs);
  const planned = probes.map((p) => {
    const packet: Packet = { family: p.src.includes(':') ? 6 : 4, protocol: p.proto, src: p.src, dst: p.dst, dport: p.proto === 'icmp' ? undefined : p.port, iif: { is: 'eth0' } };
    const d = evaluate(sets, packet, 'input');
    expect({ label, packet, uncertain: d.uncertain }).toEqual({ label, packet, uncertain: [] });
    return { ...p, expect: d.verdict === 'accept' ? ('pass' as const) : ('drop' as const) };
  });
  const outcomes = await s.run(planned);
  expect({ label, mismatches: mismatches(outcomes) }).toEqual({ label, mismatches: [] });
  const allowed = planned.filter((p) => p.expect === 'pass').length;
  expect(allowed).toBeGreaterThan(0);
  expect(allowed).toBeLessThan(planned.length);
  // What the kernel lists back reads the same.
  const dumps: ReaderInput[] = [];
  const v4 = sh(host, 'iptables-save', []);
  if (/^-A /m.test(v4)) dumps.push({ file: `${label}: iptables-save`, text: v4 });
  const v6 = sh(host, 'ip6tables-save', []);
  if (/^-A /m.test(v6)) dumps.push({ file: `${label}: ip6tables-save`, text: v6 });
  const ipsets = sh(host, 'ipset', ['save']);
  if (ipsets.trim() !== '') dumps.push({ file: `${label}: ipset save`, text: ipsets });
  const nftText = dumps.length === 0 ? sh(host, 'nft', ['list', 'ruleset']) : '';
  for (const dump of nftText ? [[{ file: `${label}: nft list ruleset`, text: nftText }], [{ file: `${label}: nft -j list ruleset`, text: sh(host, 'nft', ['-j', 'list', 'ruleset']) }]] : [dumps]) {
    const back = readRulesets(dump);
    const verdicts = probes.map((p) => evaluate(back, { family: p.src.includes(':') ? 6 : 4, protocol: p.proto, src: p.src, dst: p.dst, dport: p.proto === 'icmp' ? undefined : p.port, iif: { is: 'eth0' } }, 'input').verdict);
    expect({ from: dump[0]!.file, differ: verdicts.map((v, i) => [v, planned[i]!]).filter(([v, p]) => (v === 'accept') !== ((p as Probe).expect === 'pass')).length }).toEqual({ from: dump[0]!.file, differ: 0 });
  }
}

function loadIptablesLines(ns: string, tool: string, text: string): void {
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    site!.exec(ns, tool, line.trim().split(/\s+/));
  }
}

const POLICY = `header {
  target:: TARGET
}
term deny-blocked {
  source-address:: BLOCKED
  action:: deny
}
term web {
  destination-address:: WEB
  destination-port:: HTTP HTTPS
  protocol:: tcp
  action:: accept
}
term admin {
  source-address:: ADMIN
  source-exclude:: BLOCKED
  destination-address:: SERVERS
  destination-port:: SSH APP DNS
  protocol:: tcp udp
  action:: accept
}
PING
term deny-rest {
  action:: deny
}
`;
const NETWORKS = `SERVERS =
  10.9.0.0/24
  2001:db8:9::/64

WEB = 10.9.0.16/28
  2001:db8:9::10/124

ADMIN = 198.51.100.0/26
  2001:db8:aa::/48

BLOCKED = 198.51.100.32/29
`;
const SERVICES = `HTTP = 80/tcp
HTTPS = 443/tcp
SSH = 22/tcp
DNS = 53/udp
  53/tcp
APP = 9000-9010/tcp
  9000-9010/udp
`;
const PING = `term ping {
  protocol:: icmp
  icmp-type:: echo-request
  action:: accept
}`;

/** Runs Capirca's aclgen on one policy and returns what it wrote. */
function aclgen(name: string, target: string, ping: boolean): string {
  const dir = tempDir('fwgen-capirca-');
  fs.mkdirSync(path.join(dir, 'policies'));
  fs.mkdirSync(path.join(dir, 'def'));
  fs.mkdirSync(path.join(dir, 'out'));
  fs.writeFileSync(path.join(dir, 'def', 'NETWORK.net'), NETWORKS);
  fs.writeFileSync(path.join(dir, 'def', 'SERVICES.svc'), SERVICES);
  const pol = path.join(dir, 'policies', `${name}.pol`);
  fs.writeFileSync(pol, POLICY.replace('TARGET', target).replace('PING', ping ? PING : ''));
  const r = spawnSync('aclgen', [`--base_directory=${path.join(dir, 'policies')}`, `--definitions_directory=${path.join(dir, 'def')}`, `--policy_file=${pol}`, `--output_directory=${path.join(dir, 'out')}`], { encoding: 'utf8' });
  const written = fs.readdirSync(path.join(dir, 'out'));
  if (written.length !== 1) throw new Error(`aclgen wrote ${written.join(', ') || 'nothing'}: ${r.stderr.slice(-2000)}`);
  const text = fs.readFileSync(path.join(dir, 'out', written[0]!), 'utf8');
  fs.rmSync(dir, { recursive: true, force: true });
  return text;
}

describe('rule sets other tools wrote, read back and checked against the kernel', () => {
  liveCapirca('Capirca iptables (IPv4 and IPv6 policies), applied line by line with iptables', async () => {
    const v4 = aclgen('filter4', 'iptables INPUT DROP', true);
    const v6 = aclgen('filter6', 'iptables INPUT DROP inet6', false);
    site!.reset();
    const host = site!.classNs.get('server')!;
    for (const t of ['iptables', 'ip6tables']) sh(host, t, ['-F']), sh(host, t, ['-X']), sh(host, t, ['-P', 'INPUT', 'ACCEPT']);
    loadIptablesLines(host, 'iptables', v4);
    loadIptablesLines(host, 'ip6tables', v6);
    await compare('capirca-iptables', [
      { file: 'filter4', text: v4 },
      { file: 'filter6', text: v6 },
    ]);
    for (const t of ['iptables', 'ip6tables']) sh(host, t, ['-P', 'INPUT', 'ACCEPT']), sh(host, t, ['-F']), sh(host, t, ['-X']);
  }, 600_000);

  liveCapirca('Capirca nftables (one file per family), applied with nft -f', async () => {
    const v4 = aclgen('filter4', 'nftables inet INPUT', false);
    const v6 = aclgen('filter6', 'nftables inet6 INPUT', false);
    site!.reset();
    for (const text of [v4, v6]) site!.exec(site!.classNs.get('server')!, 'nft', ['-f', '-'], text);
    await compare('capirca-nftables', [
      { file: 'filter4.nft', text: v4 },
      { file: 'filter6.nft', text: v6 },
    ]);
  }, 600_000);

  liveCapirca("Capirca's mixed-family nftables output, which nft refuses, is refused with the line nft names", () => {
    const text = aclgen('mixed', 'nftables mixed INPUT', false);
    const nft = spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input: text, encoding: 'utf8' });
    expect(nft.status).not.toBe(0);
    const line = Number(/:(\d+):\d+-\d+: Error: conflicting protocols/.exec(nft.stderr)![1]);
    expect(() => readRulesets([{ file: 'mixed.nft', text }])).toThrow(new RegExp(`^mixed\\.nft:${line}:\\d+: family: an IPv4 match after an IPv6 one`));
  }, 600_000);

  live('hand-written nftables: sets, intervals, concatenations, verdict maps, jumps, goto and return', async () => {
    const text = fs.readFileSync(path.join(__dirname, 'fixtures', 'hand-written.nft'), 'utf8');
    site!.reset();
    site!.exec(site!.classNs.get('server')!, 'nft', ['-f', '-'], text);
    await compare('hand-written.nft', [{ file: 'hand-written.nft', text }]);
  }, 600_000);

  live('hand-written iptables-save and ipset save: user chains, RETURN, goto, negations, sets with ports', async () => {
    const rules4 = fs.readFileSync(path.join(__dirname, 'fixtures', 'hand-written.rules.v4'), 'utf8');
    const rules6 = fs.readFileSync(path.join(__dirname, 'fixtures', 'hand-written.rules.v6'), 'utf8');
    const ipsets = fs.readFileSync(path.join(__dirname, 'fixtures', 'hand-written.ipsets'), 'utf8');
    site!.reset();
    const host = site!.classNs.get('server')!;
    site!.exec(host, 'ipset', ['restore'], ipsets);
    site!.exec(host, 'iptables-restore', [], rules4);
    site!.exec(host, 'ip6tables-restore', [], rules6);
    await compare('hand-written iptables', [
      { file: 'hand-written.rules.v4', text: rules4 },
      { file: 'hand-written.ipsets', text: ipsets },
      { file: 'hand-written.rules.v6', text: rules6 },
    ]);
    for (const t of ['iptables', 'ip6tables']) sh(host, t, ['-P', 'INPUT', 'ACCEPT']), sh(host, t, ['-F']), sh(host, t, ['-X']);
    sh(host, 'ipset', ['destroy']);
  }, 600_000);
});
