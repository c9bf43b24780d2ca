import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listFiles } from '../../src/output';
import { repoRoot, tempDir } from '../helpers';
import { installCopy } from '../package/install-copy';
import { git } from './fixture';

/** The flow whose ports the upgraded catalog widens. */
const FLOW = 'ecommerce-web-server/outbound/payment-gateway/back-office-access/tcp';
const VENDOR = 'catalog/vendors/payment-gateway.yaml';

/** The vendor file as the next fwgen version ships it: back-office-access opens 443 and 8443. */
const widenBackOffice = (text: string) =>
  text.replace(/(  - id: back-office-access\n[\s\S]*?        ports: )\[443\]/, '$1[443, 8443]');

function fwgen(bin: string, args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under a folder, by relative path, as bytes. */
function tree(dir: string): Record<string, string> {
  return Object.fromEntries(listFiles(dir).map((f) => [path.relative(dir, f), fs.readFileSync(f).toString('base64')]));
}

/**
 * fwgen upgraded on a branch: the installed catalog changed, the profiles did not. The base
 * commit's out/ was rendered by the installed version; diff must show what the new
 * catalog opens, from the snapshot the base committed.
 */
describe('an fwgen upgrade that changes the shipped catalog', () => {
  let root: string;
  let ws: string;
  let current: string;
  let upgraded: string;
  beforeAll(() => {
    root = tempDir('fwgen-upgrade-');
    current = installCopy(path.join(root, 'installs', 'current', 'fwgen'));
    upgraded = installCopy(path.join(root, 'installs', 'upgraded', 'fwgen'), { [VENDOR]: widenBackOffice });
    ws = path.join(root, 'shop');
    fs.mkdirSync(path.join(ws, 'sites'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'fwgen.yaml'), 'sites: [sites/*.yaml]\n');
    fs.writeFileSync(path.join(ws, '.gitignore'), 'node_modules/\n');
    for (const f of ['ecommerce-web.yaml', 'ecommerce-web.lock.yaml']) fs.copyFileSync(path.join(repoRoot, 'examples', f), path.join(ws, 'sites', f));
    git(ws, ['init', '-q', '-b', 'main']);
    expect(fwgen(current, ['render'], ws).status).toBe(0);
    git(ws, ['add', '-A']);
    git(ws, ['commit', '-q', '-m', 'sites rendered by the installed fwgen']);
  }, 120_000);

  test('diff --base main reports 8443 opened and exits 2; the profiles are untouched', () => {
    git(ws, ['checkout', '-q', '-b', 'upgrade', 'main']);
    try {
      // The branch renders with the upgrade, as check requires, and commits out/ only.
      expect(fwgen(upgraded, ['check'], ws).status).toBe(2);
      expect(fwgen(upgraded, ['render'], ws).status).toBe(0);
      git(ws, ['add', '-A']);
      git(ws, ['commit', '-q', '-m', 'fwgen upgraded']);
      const changed = git(ws, ['diff', '--name-only', 'main', 'HEAD']).trim().split('\n');
      expect(changed.every((f) => f.startsWith('out/'))).toBe(true);
      expect(changed).toContain('out/ecommerce-web/policy.json');

      const r = fwgen(upgraded, ['diff', '--base', 'main', '--format', 'json'], ws);
      // Another build: the base's records do not stand for the site, which is rendered again.
      expect(r.stderr).toBe('fwgen: 0 sites unchanged since main (same inputs, same committed files), 1 rendered (1: inputs changed)\n');
      expect(r.status).toBe(2);
      const cs = JSON.parse(r.stdout);
      expect(cs.policyChanged).toBe(true);
      expect(cs.catalogNotCompared).toEqual([]);
      const flows = cs.sites.flatMap((s: any) => s.flows);
      expect(flows.map((f: any) => [f.id, f.change, f.ports])).toEqual([[FLOW, 'widened', { added: ['8443'], removed: [] }]]);
      expect(flows[0].origins.some((o: string) => /^fwgen\/catalog\/vendors\/payment-gateway\.yaml:\d+$/.test(o))).toBe(true);
      // The files table: what the merge changes under out/, policy.json aside.
      const files = cs.sites.flatMap((s: any) => s.files.map((f: any) => f.path)).sort();
      // The policy snapshot and the render record (which names the build) are fwgen's bookkeeping, not rule files.
      const bookkeeping = ['out/ecommerce-web/policy.json', 'out/ecommerce-web/inputs.json'];
      const committed = changed.filter((f) => !bookkeeping.includes(f)).map((f) => f.slice('out/'.length)).sort();
      expect(files).toEqual(committed);

      const text = fwgen(upgraded, ['diff', '--base', 'main'], ws);
      expect(text.status).toBe(2);
      expect(text.stdout).toMatch(/^policy changes in 1 of 1 sites/);
      expect(text.stdout).toContain('    ports: +8443');
    } finally {
      git(ws, ['checkout', '-q', 'main']);
    }
  });

  test('a base rendered before policy snapshots falls back and says that catalog changes are not compared', () => {
    git(ws, ['checkout', '-q', '-b', 'older', 'main']);
    try {
      fs.rmSync(path.join(ws, 'out', 'ecommerce-web', 'policy.json'));
      git(ws, ['commit', '-q', '-am', 'as an fwgen without snapshots left it']);
      const r = fwgen(upgraded, ['diff', '--base', 'older', '--format', 'json'], ws);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('fwgen: catalog changes are not compared for ecommerce-web: the base has no policy snapshot for it');
      const cs = JSON.parse(r.stdout);
      expect(cs.catalogNotCompared).toEqual(['ecommerce-web']);
      expect(cs.sites.flatMap((s: any) => s.flows)).toEqual([]);
    } finally {
      git(ws, ['checkout', '-q', '-f', 'main']);
    }
  });

  test('a revision against itself lists nothing and exits 0', () => {
    const r = fwgen(current, ['diff', '--base', 'main', '--format', 'json'], ws);
    expect(r.status).toBe(0);
    const cs = JSON.parse(r.stdout);
    expect(cs.policyChanged).toBe(false);
    expect(cs.sites.map((s: any) => [s.status, s.flows.length, s.files.length])).toEqual([['unchanged', 0, 0]]);
  });

  test('installs at other paths (one inside the workspace) render the same bytes and find out/ current', () => {
    const elsewhere = installCopy(path.join(root, 'installs', 'elsewhere', 'lib', 'fwgen'));
    const local = installCopy(path.join(ws, 'node_modules', 'fwgen'));
    const before = tree(path.join(ws, 'out'));
    for (const bin of [elsewhere, local]) {
      expect(fwgen(bin, ['check'], ws)).toMatchObject({ status: 0, stdout: 'out/ is current (1 profiles, 6 targets)\n' });
      fs.rmSync(path.join(ws, 'out'), { recursive: true });
      expect(fwgen(bin, ['render'], ws).status).toBe(0);
      expect(tree(path.join(ws, 'out'))).toEqual(before);
    }
    expect(fwgen(local, ['diff', '--base', 'main'], ws)).toMatchObject({ status: 0, stdout: expect.stringMatching(/^no policy change/) });
  });
});
