import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ipaddr from 'ipaddr.js';
import { parse } from 'yaml';
import { withTool } from '../conformance/validators';
import { repoRoot, runInProcess, tempDir } from '../helpers';

/** The bench's generator is plain JavaScript run by node; its shape, as the tests use it. */
interface Workload {
  profile: string;
  addresses: number;
  aerleonDir: string;
  aerleonPolicy(target: string): string;
  capircaDir: string;
  capircaPolicy(target: string): string;
}
const workloads = require(path.join(repoRoot, 'bench', 'workloads.js')) as {
  scatteredAddresses(count: number): string[];
  writeWorkload(root: string, shape: { name: string; terms: number; perTerm: number; note: string }): Workload;
  writeFleet(root: string, example: string, count: number): { dir: string; sites: string[] };
};

describe('bench workloads', () => {
  test('addresses are distinct public unicast IPv4, the same on every call', () => {
    const a = workloads.scatteredAddresses(5000);
    expect(new Set(a).size).toBe(5000);
    expect(workloads.scatteredAddresses(5000)).toEqual(a);
    for (const x of a) expect(ipaddr.IPv4.parse(x).range()).toBe('unicast');
  });

  test('one workload says the same in fwgen, Aerleon and Capirca form, and fwgen renders it', async () => {
    const root = tempDir();
    const w = workloads.writeWorkload(root, { name: 'tiny', terms: 3, perTerm: 4, note: '' });
    expect(w.addresses).toBe(12);

    const profile = parse(fs.readFileSync(w.profile, 'utf8')) as { flows: Array<{ protocol: string; ports: number[]; addresses: string[] }> };
    expect(profile.flows.map((f) => `${f.protocol} ${f.ports.join(',')}`)).toEqual(['tcp 80,443', 'udp 123', 'tcp 80,443', 'udp 123', 'tcp 80,443', 'udp 123']);
    const fwgenAddresses = [...new Set(profile.flows.flatMap((f) => f.addresses))].map((a) => `${a}/32`).sort();
    expect(fwgenAddresses).toHaveLength(12);

    const networks = parse(fs.readFileSync(path.join(w.aerleonDir, 'def', 'networks.yaml'), 'utf8')) as { networks: Record<string, { values: Array<{ address: string }> }> };
    expect(Object.values(networks.networks).flatMap((n) => n.values.map((v) => v.address)).sort()).toEqual(fwgenAddresses);
    const aerleon = parse(fs.readFileSync(w.aerleonPolicy('nftables'), 'utf8')) as { filters: Array<{ header: { targets: Record<string, string> }; terms: unknown[] }> };
    expect(aerleon.filters[0]!.header.targets).toEqual({ nftables: 'mixed OUTPUT' });
    expect(aerleon.filters[0]!.terms).toHaveLength(3);

    const net = fs.readFileSync(path.join(w.capircaDir, 'def', 'NETWORK.net'), 'utf8');
    expect([...net.matchAll(/(\d+\.\d+\.\d+\.\d+\/32)/g)].map((m) => m[1]).sort()).toEqual(fwgenAddresses);
    const pol = fs.readFileSync(w.capircaPolicy('iptables'), 'utf8');
    expect(pol).toContain('target:: ipset OUTPUT DROP');
    expect(pol.match(/^term /gm)).toHaveLength(3);
    expect(fs.readFileSync(path.join(w.capircaDir, 'def', 'SERVICES.svc'), 'utf8')).toBe('HTTP = 80/tcp\nHTTPS = 443/tcp\nNTP = 123/udp\n');

    const r = await runInProcess(['render', '-p', w.profile, '-t', 'nftables', '-o', '-']);
    expect(r.status).toBe(0);
    for (const a of fwgenAddresses) expect(r.stdout).toContain(a.replace('/32', ''));
  });

  test('a fleet is copies of a profile and its lock, each under its own name, and each renders', async () => {
    const example = path.join(repoRoot, 'examples', 'eu-restaurant-aloha.yaml');
    const fleet = workloads.writeFleet(tempDir(), example, 2);
    expect(fleet.sites.map((s) => path.basename(s))).toEqual(['site-0001.yaml', 'site-0002.yaml']);
    const r = await runInProcess(['render', '-p', fleet.sites[1]!, '-t', 'nftables', '-o', '-', '--only', 'fwgen.nft']);
    expect(r.status).toBe(0);
    // The copied lock still fits: renaming a site changes no name it selects.
    expect(r.stderr).not.toMatch(/stale|error/);
    expect(r.stdout).toContain('profile site-0002');
  });
});

describe('npm run bench', () => {
  test('prints a table with the ratio to node -e 0 and writes the results as JSON', () => {
    const json = path.join(tempDir(), 'bench.json');
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bench', 'run.js'), 'cli-version', 'small/nftables', '--runs', '1', '--json', json], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^case\s+runs\s+median\s+peak RSS\s+output\s+node -e 0\s+× node -e 0\s+× baseline \(time, RSS\)$/m);
    expect(r.stdout).toMatch(/^small\/nftables cold\s+1\s+\d/m);
    expect(r.stdout).toMatch(/^small\/nftables warm\s+1\s+\d/m);
    const written = JSON.parse(fs.readFileSync(json, 'utf8')) as { baseline: { status: string }; results: Array<{ case: string; status: string; outputBytes: number }> };
    expect(written.baseline.status).toBe('ok');
    expect(written.results.map((x) => [x.case, x.status])).toEqual([['cli-version', 'ok'], ['small/nftables cold', 'ok'], ['small/nftables warm', 'ok']]);
    expect(written.results[1]!.outputBytes).toBeGreaterThan(0);
  });

  test('a case over the time cap is reported as timeout, and --vs substitutes the workload paths', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'bench', 'run.js'), 'small/nftables', '--runs', '1', '--timeout', '0.001', '--vs', 'test -f {capirca_policy} && test -d {aerleon_dir}/def'],
      { encoding: 'utf8' },
    );
    expect(r.stdout).toMatch(/^small\/nftables cold\s+1\s+timeout\s/m);
    const fast = spawnSync(process.execPath, [path.join(repoRoot, 'bench', 'run.js'), 'small/nftables', '--runs', '1', '--vs', 'test -f {capirca_policy} && test -d {aerleon_dir}/def'], {
      encoding: 'utf8',
    });
    expect(fast.status).toBe(0);
    expect(fast.stdout).toMatch(/vs ÷ fwgen/);
    expect(fast.stdout).toMatch(/^small\/nftables cold\s+1\s+\S+ m?s\s.*\d×$/m);
  });

  withTool('capirca')('--vs capirca runs Capirca on the same workload, for the targets it has a counterpart of', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bench', 'run.js'), 'small/nftables', 'small/pfsense', '--runs', '1', '--vs', 'capirca'], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/vs: exit/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^small\/nftables\s.*\s[\d.]+ m?s\s+\d+ MB\s+\d+\.\d\d×$/m);
    // pfSense has no Capirca counterpart: nothing is compared, nothing failed.
    expect(r.stdout).toMatch(/^small\/pfsense\s.*\s-\s+-\s+-$/m);
  });

  withTool('capirca')("Capirca's output for a workload allows the same addresses as fwgen's", () => {
    const w = workloads.writeWorkload(tempDir(), { name: 'tiny', terms: 3, perTerm: 4, note: '' });
    const out = tempDir();
    const policy = w.capircaPolicy('nftables');
    const run = spawnSync('aclgen', [`--base_directory=${w.capircaDir}/policies`, `--definitions_directory=${w.capircaDir}/def`, `--policy_file=${policy}`, `--output_directory=${out}`], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const text = fs.readFileSync(path.join(out, 'tiny-nftables.nft'), 'utf8');
    const addresses = parse(fs.readFileSync(w.profile, 'utf8')).flows.flatMap((f: { addresses: string[] }) => f.addresses) as string[];
    for (const a of new Set(addresses)) expect(text).toContain(a);
  });
});
