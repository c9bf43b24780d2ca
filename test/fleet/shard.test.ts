import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initFiles } from '../../src/workspace/init';
import { parseShard, shardOf } from '../../src/workspace/shard';
import { repoRoot, runBinary, runInProcess, tempDir, type RunResult } from '../helpers';

/** A workspace of `count` copies of fwgen init's starter site, named store-001 … */
function starterFleet(count: number): string {
  const root = tempDir('fwgen-shard-');
  const files = initFiles({ site: 'store-001', defaultBranch: 'main', schemaDir: 'x' });
  const site = files.find((f) => f.path === 'sites/store-001.yaml')!.content;
  fs.mkdirSync(path.join(root, 'sites'));
  fs.writeFileSync(path.join(root, 'fwgen.yaml'), 'sites: [sites/*.yaml]\noutput: out\n');
  for (let i = 1; i <= count; i++) addSite(root, site, `store-${String(i).padStart(3, '0')}`);
  return root;
}

/** A copy of the starter site; its hosts are named per store, as a chain's inventory names them (one host serves one site). */
function addSite(root: string, starter: string, name: string): void {
  fs.writeFileSync(path.join(root, 'sites', `${name}.yaml`), storeCopy(starter, name));
}

function storeCopy(starter: string, name: string): string {
  const hosts = `targets:\n  ansible:\n    hosts:\n      back-office-pc: [bo.${name}.example]\n      dns-resolver: [dns.${name}.example]\n`;
  return `${starter.replace('name: store-001', `name: ${name}`)}${hosts}`;
}

function starterSite(): string {
  return initFiles({ site: 'store-001', defaultBranch: 'main', schemaDir: 'x' }).find((f) => f.path === 'sites/store-001.yaml')!.content;
}

/** Every file under `dir` with its bytes, by relative path; fwgen's bookkeeping would be a failure to clean up, so it is kept. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = fs.readFileSync(full, 'latin1');
    }
  };
  walk(dir);
  return out;
}

/** The built binary as a separate process, not waited for: shards run side by side, as on a CI matrix. */
function binary(args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

describe('--shard K/N', () => {
  test('K/N is read strictly; anything else is a usage error naming --shard, and nothing is written', async () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/4', '5/4', '4', 'a/b', '2/0', '-1/3', '1/4/2', '', '1/100000']) {
      expect(parseShard(bad)).toEqual({ problem: expect.stringMatching(/^--shard (K\/N|takes K\/N)/) });
    }
    const root = starterFleet(2);
    for (const args of [['render', '--shard', '5/4'], ['check', '--shard', 'x'], ['render', 'store-001', '--shard', '1/2'], ['render', '--shard', '1/2', '--merge-shards']]) {
      const r = await runInProcess(args, root);
      expect({ args, status: r.status }).toEqual({ args, status: 1 });
      expect(r.stderr).toMatch(/shard/);
    }
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });

  test("a site's part depends on its name alone: every site is in one part, and adding sites moves none", () => {
    const names = Array.from({ length: 400 }, (_, i) => `store-${i}`);
    for (const n of [1, 2, 3, 7]) {
      const parts = names.map((s) => shardOf(s, n));
      expect(parts.every((k) => k >= 1 && k <= n)).toBe(true);
      // Each part gets a share: none is empty, none holds more than twice its due.
      for (let k = 1; k <= n; k++) {
        const size = parts.filter((p) => p === k).length;
        expect(size).toBeGreaterThan(0);
        expect(size).toBeLessThan((2 * names.length) / n);
      }
      const more = [...names, 'new-store-a', 'new-store-b'].map((s) => shardOf(s, n));
      expect(more.slice(0, names.length)).toEqual(parts);
    }
  });

  test('N shards run as separate processes, then --merge-shards, give the same out/ as one run; check agrees part by part', async () => {
    const count = 12;
    const one = starterFleet(count);
    const sharded = starterFleet(count);
    // A folder left by a site that is gone: one run removes it, and so does the part its name falls in.
    for (const root of [one, sharded]) {
      fs.mkdirSync(path.join(root, 'out/store-gone/nftables'), { recursive: true });
      fs.writeFileSync(path.join(root, 'out/store-gone/nftables/fwgen.nft'), 'old\n');
    }
    expect(runBinary(['render'], one).status).toBe(0);
    const n = 3;
    const parts = await Promise.all(Array.from({ length: n }, (_, i) => binary(['render', '--shard', `${i + 1}/${n}`, '--wait', '120'], sharded)));
    for (const r of parts) expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    const rendered = parts.map((r) => Number(/(\d+) sites?, 6 targets, shard/.exec(r.stderr)?.[1]));
    expect(rendered.reduce((a, b) => a + b, 0)).toBe(count);
    // No part wrote the fleet's inventory: it needs every site.
    expect(fs.existsSync(path.join(sharded, 'out/inventory.yml'))).toBe(false);
    expect(runBinary(['render', '--merge-shards'], sharded).status).toBe(0);
    expect(tree(path.join(sharded, 'out'))).toEqual(tree(path.join(one, 'out')));
    expect(fs.existsSync(path.join(one, 'out/store-gone/nftables'))).toBe(false);

    for (let k = 1; k <= n; k++) {
      expect(runBinary(['check', '--shard', `${k}/${n}`], one)).toMatchObject({ status: 0, stdout: expect.stringContaining(`shard ${k}/${n}`) });
    }
    expect(runBinary(['check', '--merge-shards'], one).status).toBe(0);

    // A hand edit is found by the part that holds the site, and only by it.
    const edited = 'store-007';
    const nft = fs.readdirSync(path.join(one, `out/${edited}/nftables`))[0]!;
    fs.appendFileSync(path.join(one, `out/${edited}/nftables/${nft}`), '# edit\n');
    for (let k = 1; k <= n; k++) {
      const r = runBinary(['check', '--shard', `${k}/${n}`], one);
      expect(r.status).toBe(k === shardOf(edited, n) ? 2 : 0);
      if (r.status === 2) expect(r.stderr).toContain(`${edited}/nftables/${nft} (differs)`);
    }
    // A site added later lands in one part; the others still pass, unchanged.
    addSite(one, starterSite(), 'store-new');
    fs.rmSync(path.join(one, `out/${edited}`), { recursive: true });
    expect(runBinary(['render', edited], one).status).toBe(0);
    for (let k = 1; k <= n; k++) expect(runBinary(['check', '--shard', `${k}/${n}`], one).status).toBe(k === shardOf('store-new', n) ? 2 : 0);
  });

  test("--merge-shards reads the sites' inventories as untrusted input: a template planted in one is refused with its place", () => {
    const root = starterFleet(2);
    expect(runBinary(['render'], root).status).toBe(0);
    const inv = path.join(root, 'out/store-002/ansible/inventory.yml');
    fs.writeFileSync(inv, fs.readFileSync(inv, 'utf8').replace('fwgen_site: !unsafe store-002', 'fwgen_site: "{{ lookup(\'pipe\', \'id\') }}"'));
    const before = fs.readFileSync(path.join(root, 'out/inventory.yml'), 'utf8');
    const r = runBinary(['render', '--merge-shards'], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^out\/store-002\/ansible\/inventory\.yml:\d+:\d+: all\.children\.store_002\.vars\.fwgen_site: a string Ansible would template/m);
    expect(fs.readFileSync(path.join(root, 'out/inventory.yml'), 'utf8')).toBe(before);
    fs.rmSync(inv);
    const missing = runBinary(['check', '--merge-shards'], root);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/out\/store-002\/ansible\/inventory\.yml:1:1: .*missing: render site 'store-002'/);
  });
});

describe('the render queue', () => {
  test('workers fed one site at a time give the same files as one thread, and the same errors', async () => {
    const threads = starterFleet(9);
    const one = starterFleet(9);
    const env = { ...process.env, FWGEN_FLEET_MIN_PER_WORKER: '1', FWGEN_FLEET_CHUNK: '1' };
    const viaWorkers = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), 'render'], { cwd: threads, env, stdio: 'ignore' });
      child.on('close', (s) => resolve(s ?? -1));
    });
    expect(viaWorkers).toBe(0);
    expect((await runInProcess(['render'], one)).status).toBe(0);
    expect(tree(path.join(threads, 'out'))).toEqual(tree(path.join(one, 'out')));

    // Two broken profiles: both are reported, located, in the order of the sites; nothing is written.
    for (const root of [threads, one]) {
      fs.writeFileSync(path.join(root, 'sites/store-002.yaml'), storeCopy(starterSite(), 'store-002').replace('region: eu', 'region: 7'));
      fs.writeFileSync(path.join(root, 'sites/store-008.yaml'), storeCopy(starterSite(), 'store-008').replace('region: eu', 'region: [eu]'));
      fs.writeFileSync(path.join(root, 'out/store-001/policy.json'), 'edited\n');
    }
    const broken = await new Promise<RunResult>((resolve) => {
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), 'render'], { cwd: threads, env });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (s) => resolve({ status: s ?? -1, stdout: '', stderr }));
    });
    const inProcess = await runInProcess(['render'], one);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toBe(inProcess.stderr);
    expect(broken.stderr).toMatch(/^sites\/store-002\.yaml:\d+:\d+: region[^\n]*\n(?:.*\n)*sites\/store-008\.yaml:\d+:\d+: region/);
    expect(fs.readFileSync(path.join(threads, 'out/store-001/policy.json'), 'utf8')).toBe('edited\n');
    expect(fs.readdirSync(path.join(threads, 'out')).filter((f) => f.startsWith('.fwgen'))).toEqual([]);
  });
});
