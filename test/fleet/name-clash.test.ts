/**
 * Two sites of one name are refused however the sites are rendered: site names are read as the
 * renderers take the sites (not all before the first render), and the later site of a name is
 * never rendered over the earlier one's folder. Each clash is said at the later site's name,
 * before any other problem, and nothing is written.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initFiles } from '../../src/workspace/init';
import { repoRoot, runInProcess, tempDir, type RunResult } from '../helpers';

const starter = initFiles({ site: 'store-001', defaultBranch: 'main', schemaDir: 'x' }).find((f) => f.path === 'sites/store-001.yaml')!.content;

/** Sites store-001 … with the given names in their profiles (a file's name and its profile's may differ). */
function fleet(names: string[]): string {
  const root = tempDir('fwgen-clash-');
  fs.mkdirSync(path.join(root, 'sites'));
  fs.writeFileSync(path.join(root, 'fwgen.yaml'), 'sites: [sites/*.yaml]\noutput: out\n');
  names.forEach((name, i) => {
    const file = `store-${String(i + 1).padStart(3, '0')}.yaml`;
    fs.writeFileSync(path.join(root, 'sites', file), starter.replace('name: store-001', `name: ${name}`));
  });
  return root;
}

/** The built CLI with the render queue tuned to a worker per site, one site per message. */
function renderByWorkers(root: string, args: string[] = []): Promise<RunResult> {
  const env = { ...process.env, FWGEN_FLEET_MIN_PER_WORKER: '1', FWGEN_FLEET_CHUNK: '1' };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), 'render', ...args], { cwd: root, env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (s) => resolve({ status: s ?? -1, stdout: '', stderr }));
  });
}

describe('two sites of one name', () => {
  const names = ['store-001', 'store-002', 'store-003', 'store-001', 'store-005', 'store-006', 'store-002', 'store-008'];
  const expected =
    "sites/store-004.yaml:6:9: profile.name: site name 'store-001' is also used by sites/store-001.yaml; each site needs its own output folder\n" +
    "sites/store-007.yaml:6:9: profile.name: site name 'store-002' is also used by sites/store-002.yaml; each site needs its own output folder\n" +
    'fwgen: 2 problems; nothing was written\n';

  test('by worker threads and by one thread: every clash, located, first; nothing written', async () => {
    for (const render of [(root: string) => renderByWorkers(root), (root: string) => runInProcess(['render'], root)]) {
      const root = fleet(names);
      // A broken profile too: the clashes are said, not it (a renamed site may be the fix).
      fs.writeFileSync(path.join(root, 'sites', 'store-006.yaml'), starter.replace('name: store-001', 'name: store-006').replace('region: eu', 'region: 7'));
      const r = await render(root);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(expected);
      expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
    }
  });

  test('once renamed, the same fleet renders by worker threads', async () => {
    const root = fleet(names.map((_, i) => `store-${String(i + 1).padStart(3, '0')}`));
    const r = await renderByWorkers(root);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(path.join(root, 'out')).filter((f) => f.startsWith('store-')).length).toBe(8);
  });
});
