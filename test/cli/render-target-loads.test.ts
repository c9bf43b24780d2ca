/**
 * `fwgen render --target T` in a workspace must know, before it writes anything, whether any
 * site uses T; it must not load every site profile for that and then again to render it.
 * Counted in the process: calls of the site loader and reads of each site's file.
 */
import * as path from 'node:path';
import { runInProcess } from '../helpers';
import { listText, lockText, siteText, vendorText, writeTree } from '../diff/fixture';

// The modules themselves, not the import namespaces over them: those are read-only views,
// and the code under test calls through the modules.
const fs = require('node:fs') as typeof import('node:fs');
const profileModule = require('../../src/catalog/profile') as typeof import('../../src/catalog/profile');

const SITES = ['store-1', 'store-2', 'store-3'];

function workspace(): string {
  const files: Record<string, string> = {
    'fwgen.yaml': 'sites: [sites/*.yaml]\ncatalog: [own]\noutput: out\ntargets: [nftables, ansible]\n',
    'own/vendors/acme.yaml': vendorText,
    'own/lists/acme-edge.yaml': listText,
  };
  for (const s of SITES) {
    files[`sites/${s}.yaml`] = siteText.replace('name: store-1', `name: ${s}`);
    files[`sites/${s}.lock.yaml`] = lockText('203.0.113.10');
  }
  return writeTree(files);
}

/** Runs fwgen and counts the site loader's calls and the reads of each site profile. */
async function counted(args: string[], root: string) {
  const load = jest.spyOn(profileModule, 'loadProfile');
  const read = jest.spyOn(fs, 'readFileSync');
  try {
    const r = await runInProcess(args, root);
    const siteFiles = new Set(SITES.map((s) => fs.realpathSync(path.join(root, 'sites', `${s}.yaml`))));
    const reads = new Map<string, number>();
    for (const [file] of read.mock.calls) {
      if (typeof file !== 'string' || !fs.existsSync(file) || !siteFiles.has(fs.realpathSync(file))) continue;
      const name = path.basename(file, '.yaml');
      reads.set(name, (reads.get(name) ?? 0) + 1);
    }
    return { r, loads: load.mock.calls.map(([file]) => path.basename(file, '.yaml')).sort(), reads: Object.fromEntries([...reads].sort()) };
  } finally {
    load.mockRestore();
    read.mockRestore();
  }
}

describe('render --target in a workspace loads each site profile once', () => {
  test('a target the sites use: each profile is loaded once, by its render; only the first is looked at before', async () => {
    const root = workspace();
    const { r, loads, reads } = await counted(['render', '--target', 'nftables'], root);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('3 sites, 1 target\n');
    expect(loads).toEqual(SITES);
    // Every site: its name is read before the render (two sites of one name are refused) and
    // the render loads it. The first site's list of targets is read first: it uses nftables.
    expect(reads).toEqual({ 'store-1': 3, 'store-2': 2, 'store-3': 2 });
    for (const s of SITES) expect(fs.existsSync(path.join(root, 'out', s, 'nftables'))).toBe(true);
  });

  test('a target no site uses: refused before any profile is loaded, and nothing is written', async () => {
    const root = workspace();
    const { r, loads, reads } = await counted(['render', '--target', 'pfsense'], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no site of the workspace uses --target pfsense');
    expect(loads).toEqual([]);
    expect(reads).toEqual({ 'store-1': 1, 'store-2': 1, 'store-3': 1 });
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });

  test("one site named: the refusal still says where the site's list is", async () => {
    const root = workspace();
    const { r, loads } = await counted(['render', 'store-2', '--target', 'windows'], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('fwgen: site store-2 does not use --target windows: its targets are nftables, ansible (fwgen.yaml:4:10)\n');
    expect(loads).toEqual([]);
  });

  test('a profile whose list is broken is left to the render, which reports it at its place', async () => {
    const root = workspace();
    fs.writeFileSync(path.join(root, 'sites', 'store-1.yaml'), siteText.replace('name: store-1', 'name: store-1\n  targets: nftables'));
    const { r } = await counted(['render', '--target', 'pfsense'], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('sites/store-1.yaml:3:12: profile.targets:');
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });
});
