import * as fs from 'node:fs';
import * as path from 'node:path';
import { answerQuery, type Result } from '../../src/commands/query';
import type { Policy } from '../../src/policy/types';
import type { LoadedFiles } from '../../src/query/file-sides';
import { loadFiles } from '../../src/query/load-files';
import { awsSpec, outDir, sitePolicy, sites, useMoto, windowsExport } from '../audit/helpers';
import { randomPlan } from './packets';

/**
 * query --file on fwgen's own pfSense, AWS and Windows output answers what query -p answers
 * from the policy, for a few hundred random packets per example (both families, addresses at
 * the edges of every network, ports at the edges of every range), in-process. pfSense is the
 * site's gateway; AWS groups and Windows hosts filter each class on its own host, so the file
 * answer (the sender's egress and the receiver's ingress) meets the policy's host mode.
 *
 * Compared where both answers are certain and the policy has an opinion (one end in a device
 * class): a packet between two addresses of no class is no site's traffic to the policy.
 */

const COUNT = Number(process.env.FWGEN_QUERY_PACKETS ?? 300);

type Probe = ReturnType<typeof randomPlan>['probes'][number];

function seedOf(text: string): number {
  return [...text].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);
}

function ask(policy: Policy, loaded: LoadedFiles, p: Probe, target: string, extra: Record<string, unknown>): Result {
  const a = { from: p.src, to: p.dst, protocol: p.proto, ...(p.proto === 'icmp' ? {} : { port: p.port }), target, ...extra };
  return answerQuery(a, policy, loaded);
}

function certain(r: Result): boolean {
  return r.policyAnswer!.uncertain.length === 0 && r.fileAnswer!.pairs.every((x) => x.decision.uncertain.length === 0);
}

interface Tally {
  compared: number;
  allowed: number;
  families: Set<number>;
  mismatches: string[];
}

function compare(policy: Policy, loaded: LoadedFiles, probes: Probe[], target: string, extra: Record<string, unknown> = {}): Tally {
  const t: Tally = { compared: 0, allowed: 0, families: new Set(), mismatches: [] };
  for (const p of probes) {
    const r = ask(policy, loaded, p, target, extra);
    if (!certain(r)) continue;
    if (r.policyAnswer!.pairs.every((x) => x.src.cls === undefined && x.dst.cls === undefined)) continue;
    t.compared++;
    t.families.add(p.src.includes(':') ? 6 : 4);
    if (r.fileAnswer!.verdict === 'allow') t.allowed++;
    if (r.fileAnswer!.verdict !== r.policyAnswer!.verdict) {
      const d = r.fileAnswer!.pairs.find((x) => x.decision.verdict === 'drop')?.decision ?? r.fileAnswer!.pairs[0]!.decision;
      t.mismatches.push(`${p.proto} ${p.src} -> ${p.dst} ${p.port}: policy ${r.policyAnswer!.verdict}, file ${r.fileAnswer!.verdict} (${d.source ? `${d.source.file}:${d.source.line} ${d.source.text}` : d.by})`);
    }
  }
  return t;
}

function expectAgreement(t: Tally, probes: number, v6: boolean): void {
  expect(t.mismatches).toEqual([]);
  // Most packets are answered with certainty, and both verdicts occur.
  expect(t.compared).toBeGreaterThan(probes / 3);
  expect(t.allowed).toBeGreaterThan(0);
  expect(t.compared - t.allowed).toBeGreaterThan(0);
  expect([...t.families].sort()).toEqual(v6 ? [4, 6] : [4]);
}

function read(file: string): { file: string; text: string } {
  return { file, text: fs.readFileSync(file, 'utf8') };
}

/** Whether the site has device addresses of both families (the shop has IPv4 only). */
function hasV6(policy: Policy): boolean {
  return policy.deviceClasses.some((c) => c.addresses.ipv6.length > 0);
}

describe.each(sites)('query --file on fwgen\'s own output answers as the policy: %s', (site) => {
  const policy = sitePolicy(site);

  test('pfSense config.xml, gateway mode', () => {
    const probes = randomPlan(policy, 'gateway', seedOf(`${site} pfsense`), COUNT).probes;
    const loaded = loadFiles([read(path.join(outDir, site, 'pfsense', 'config.xml'))], undefined);
    expectAgreement(compare(policy, loaded, probes, 'pfsense'), probes.length, hasV6(policy));
  }, 120_000);

  test('AWS CLASS.ingress.json and CLASS.egress.json, every class', () => {
    const probes = randomPlan(policy, 'host', seedOf(`${site} aws`), COUNT).probes;
    const dir = path.join(outDir, site, 'aws');
    const files = fs.readdirSync(dir).filter((f) => /\.(ingress|egress)\.json$/.test(f)).sort().map((f) => read(path.join(dir, f)));
    const loaded = loadFiles(files, undefined);
    expectAgreement(compare(policy, loaded, probes, 'aws'), probes.length, hasV6(policy));
  }, 120_000);

  test('Windows exports of the hosts fwgen\'s scripts set up', async () => {
    const dir = path.join(outDir, site, 'windows');
    const scripts = fs.readdirSync(dir).filter((f) => f.endsWith('.ps1')).sort();
    // Each export named after its class (CLASS.json), as query tells hosts apart.
    const exports = await Promise.all(scripts.map(async (f) => ({ file: path.join(dir, f.replace(/\.ps1$/, '.json')), text: JSON.stringify(await windowsExport(fs.readFileSync(path.join(dir, f), 'utf8')), null, 2) })));
    const hosts = new Set(scripts.map((f) => f.replace(/\.ps1$/, '')));
    const loaded = loadFiles(exports, undefined);
    // Only packets whose every end in a class is a Windows host: the policy asks each class's own rules.
    const probes = randomPlan(policy, 'host', seedOf(`${site} windows`), COUNT).probes.filter((p) => {
      const ends = [p.src, p.dst].map((a) => policy.deviceClasses.find((c) => answerClassOf(policy, a) === c.id)?.id);
      return ends.some((c) => c !== undefined) && ends.every((c) => c === undefined || hosts.has(c));
    });
    expect(probes.length).toBeGreaterThan(20);
    // Sent by a program no rule names: a rule for one program does not match it (the policy's
    // port rules are what decides), where an unknown program leaves such rules uncertain.
    expectAgreement(compare(policy, loaded, probes, 'windows', { program: 'C:\\Windows\\System32\\curl.exe' }), probes.length, hasV6(policy) && [...hosts].some((h) => policy.deviceClasses.find((c) => c.id === h)!.addresses.ipv6.length > 0));
  }, 120_000);
});

describe('query --file on security groups as the EC2 API returns them (moto) answers as the policy', () => {
  const { moto, it } = useMoto();

  it.each(sites)('%s: describe-security-groups after the groups were created from fwgen\'s rules', (site) => {
    const policy = sitePolicy(site);
    const described = moto.describe(awsSpec(site));
    const loaded = loadFiles([{ file: 'describe-security-groups.json', text: described }], undefined);
    expect(loaded.kind === 'aws' && loaded.groups.every((g) => /^sg-/.test(g.id) && g.tags['fwgen:device-class'])).toBe(true);
    const probes = randomPlan(policy, 'host', seedOf(`${site} moto`), Math.ceil(COUNT / 2)).probes;
    expectAgreement(compare(policy, loaded, probes, 'aws'), probes.length, hasV6(policy));
  }, 120_000);
});

/** The device class an address is in, as query resolves it (the policy's own lookup). */
function answerClassOf(policy: Policy, addr: string): string | undefined {
  return answerQuery({ from: addr, to: addr, protocol: 'icmp' }, policy, undefined).from.endpoints[0]!.cls;
}
