import * as fs from 'node:fs';
import * as path from 'node:path';
import { git } from '../diff/fixture';
import { repoRoot, tempDir } from '../helpers';
import { npmOffline, sh } from './npm';

/**
 * The package as the README installs it from a tarball kept in the site repository: npm pack
 * into the repository's vendor/ folder, npm i -D ./vendor/fwgen-<version>.tgz, committed; a
 * fresh clone installs it with npm ci, as the CI recipes do.
 */
describe('a tarball kept in the repository installs as a dev dependency', () => {
  let project: string;
  let tarball: string;
  beforeAll(() => {
    const dir = tempDir('fwgen-pack-');
    project = path.join(dir, 'site-repo');
    fs.mkdirSync(path.join(project, 'vendor'), { recursive: true });
    // dist/ is built before the tests run; the scripts would rebuild it under the other tests.
    const packed = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', path.join(project, 'vendor')], repoRoot);
    expect(packed.status).toBe(0);
    tarball = `./vendor/${JSON.parse(packed.stdout)[0].filename}`;
    expect(sh('npm', ['init', '-y'], project).status).toBe(0);
    const install = npmOffline(['i', '-D', tarball], project);
    if (install.status !== 0) throw new Error(`npm i -D ${tarball} failed:\n${install.stderr}`);
  }, 300_000);

  test('package.json names the tarball by its place in the repository', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8'));
    expect(pkg.devDependencies.fwgen).toBe(`file:${tarball.slice(2)}`);
  });

  test('the tarball holds the catalog, schemas, templates and dist, and no tests', () => {
    const pkg = path.join(project, 'node_modules', 'fwgen');
    for (const f of ['dist/cli.js', 'bin/fwgen.js', 'catalog/vendors/paytronix.yaml', 'catalog/schema/workspace.schema.json', 'catalog/schema/diff.schema.json', 'templates/init/fwgen.yaml.hbs', 'templates/nftables/ruleset.nft.hbs']) {
      expect(fs.existsSync(path.join(pkg, f))).toBe(true);
    }
    expect(fs.existsSync(path.join(pkg, 'test'))).toBe(false);
    expect(fs.existsSync(path.join(pkg, 'src'))).toBe(false);
  });

  test('npx fwgen init, render, check and diff work in the project; schema lines point at the installed files', () => {
    const fwgen = (args: string[]) => sh('npx', ['--no-install', 'fwgen', ...args], project);
    expect(fwgen(['init']).status).toBe(0);
    for (const file of ['fwgen.yaml', 'sites/store-001.yaml']) {
      const line = fs.readFileSync(path.join(project, file), 'utf8').split('\n')[0]!;
      const schema = /\$schema=(.*)$/.exec(line)![1]!;
      expect(fs.existsSync(path.resolve(path.dirname(path.join(project, file)), schema))).toBe(true);
    }
    const render = fwgen(['render']);
    expect(render.status).toBe(0);
    // Every file under out/ was written by this render, for all six targets.
    const written = fs.readdirSync(path.join(project, 'out'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    expect(render.stderr).toMatch(new RegExp(`\\n${written} written, 0 unchanged, 0 removed\\n1 site, 6 targets\\n$`));
    expect(fs.readdirSync(path.join(project, 'out', 'store-001')).sort()).toEqual(['ansible', 'aws', 'inputs.json', 'iptables', 'nftables', 'pfsense', 'policy.json', 'windows']);
    expect(fwgen(['check'])).toMatchObject({ status: 0, stdout: 'out/ is current (1 profiles, 6 targets)\n' });
    git(project, ['init', '-q', '-b', 'main']);
    git(project, ['add', '-A']);
    git(project, ['commit', '-q', '-m', 'workspace']);
    expect(fwgen(['diff', '--base', 'HEAD'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^no policy change/) });
    // The base is the snapshot render committed: nothing listed, no file, no fallback.
    const itself = JSON.parse(fwgen(['diff', '--base', 'HEAD', '--format', 'json']).stdout);
    expect(itself.sites.map((s: any) => [s.status, s.files.length])).toEqual([['unchanged', 0]]);
    expect(itself.catalogNotCompared).toEqual([]);
    expect(fs.readFileSync(path.join(project, 'out', 'store-001', 'policy.json'), 'utf8')).toContain('"at": "fwgen/catalog/vendors/');
    const site = path.join(project, 'sites', 'store-001.yaml');
    fs.writeFileSync(site, fs.readFileSync(site, 'utf8').replace('198.51.100.0/24', '198.51.0.0/16'));
    const diff = fwgen(['diff', '--base', 'HEAD', '--format', 'json']);
    expect(diff.status).toBe(2);
    const cs = JSON.parse(diff.stdout);
    expect(cs.sites[0].flows.map((f: any) => [f.id, f.change, f.addresses.added.length > 0])).toEqual([
      ['back-office-pc/outbound/payment-gateway/back-office-access/tcp', 'widened', true],
    ]);
    expect(fwgen(['check']).status).toBe(2);
    // A fresh clone of the repository installs fwgen from the tarball it holds, as CI does.
    const clone = path.join(path.dirname(project), 'clone');
    git(path.dirname(project), ['clone', '-q', project, clone]);
    const ci = npmOffline(['ci'], clone);
    expect(ci.status).toBe(0);
    expect(sh('npx', ['--no-install', 'fwgen', 'check'], clone)).toMatchObject({ status: 0, stdout: 'out/ is current (1 profiles, 6 targets)\n' });
  }, 300_000);
});
