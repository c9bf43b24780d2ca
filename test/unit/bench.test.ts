import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ipaddr from 'ipaddr.js';
import { parse } from 'yaml';
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
