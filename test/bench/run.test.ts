import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { withTool } from '../conformance/validators';
import { repoRoot, tempDir } from '../helpers';

/**
 * npm run bench: its table, its time cap and its comparison with Capirca. What it times is
 * fwgen's render of the workloads test/unit/bench.test.ts checks; these tests check the bench's
 * own report, so they stay out of the reference YAML pass of .ci/run (which repeats test/unit).
 */
const workloads = require(path.join(repoRoot, 'bench', 'workloads.js')) as {
  writeWorkload(root: string, shape: { name: string; terms: number; perTerm: number; note: string }): { profile: string; capircaDir: string; capircaPolicy(target: string): string };
};

describe('npm run bench', () => {
  test('prints a table with the ratio to node -e 0 and writes the results as JSON', () => {
    const json = path.join(tempDir(), 'bench.json');
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bench', 'run.js'), 'cli-version', 'small/nftables', '--runs', '1', '--json', json], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^case\s+runs\s+median\s+CPU\s+peak RSS\s+output\s+node -e 0\s+× node -e 0\s+CPU × node\s+× baseline \(time, RSS\)$/m);
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
    expect(fast.stdout).toMatch(/^small\/nftables cold\s+1\s+\S+ m?s\s+\S+ m?s\s.*\d×\s+-$/m);
  });

  withTool('capirca')('--vs capirca runs Capirca on the same workload, for the targets it has a counterpart of', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bench', 'run.js'), 'small/nftables', 'small/pfsense', '--runs', '1', '--vs', 'capirca'], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/vs: exit/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^small\/nftables\s.*\s[\d.]+ m?s\s+[\d.]+ m?s\s+\d+ MB\s+\d+\.\d\d×\s+\d+\.\d\d×$/m);
    // pfSense has no Capirca counterpart: nothing is compared, nothing failed.
    expect(r.stdout).toMatch(/^small\/pfsense\s.*\s-\s+-\s+-\s+-\s+-$/m);
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
