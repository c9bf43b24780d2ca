import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateFleet } from '../../src/workspace/fleet';
import { catalogRoot, repoRoot, runBinary, runInProcess, tempDir } from '../helpers';
import { listText, lockText, siteText, vendorText, writeTree } from '../diff/fixture';

const workspace = (files: Record<string, string>) => writeTree(files);
/** The per-site folders of an output folder (fleet-wide files beside them are not sites). */
const siteFolders = (dir: string) => fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

const base = {
  'fwgen.yaml': 'sites: [sites/**/*.yaml, "!sites/drafts/*.yaml"]\ncatalog: [own]\noutput: rendered\n',
  'own/vendors/acme.yaml': vendorText,
  'own/lists/acme-edge.yaml': listText,
  'sites/eu/store-1.yaml': siteText,
  'sites/eu/store-1.lock.yaml': lockText('203.0.113.10'),
  'sites/us/store-2.yaml': siteText.replace('name: store-1', 'name: store-2'),
  'sites/us/store-2.lock.yaml': lockText('203.0.113.11'),
  'sites/drafts/store-3.yaml': 'not: a profile\n',
};

describe('a workspace of sites', () => {
  test('render writes every site found by the globs (lock files and excluded files are not sites); check guards them', async () => {
    const root = workspace(base);
    const r = await runInProcess(['render'], path.join(root, 'sites'));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/2 sites, 6 targets\n$/);
    expect(siteFolders(path.join(root, 'rendered'))).toEqual(['store-1', 'store-2']);
    // Headers name files from the workspace root, wherever fwgen runs.
    const nft = fs.readFileSync(path.join(root, 'rendered/store-1/nftables/pos-terminal.nft'), 'utf8');
    expect(nft).toContain('(sites/eu/store-1.yaml)');
    expect(nft).toContain('own/vendors/acme.yaml:');
    expect(await runInProcess(['check'], root)).toEqual({ status: 0, stdout: 'rendered/ is current (2 profiles, 6 targets)\n', stderr: '' });
    expect((await runInProcess(['check', '--workspace', root], tempDir())).status).toBe(0);
    expect(runBinary(['check', '-w', path.join(root, 'fwgen.yaml')], '/').status).toBe(0);
  });

  test('a site that is gone leaves stale files that check reports and render removes', async () => {
    const root = workspace(base);
    expect((await runInProcess(['render'], root)).status).toBe(0);
    const store2 = fs.readdirSync(path.join(root, 'rendered/store-2'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    expect(store2).toBeGreaterThan(0);
    fs.rmSync(path.join(root, 'sites/us/store-2.yaml'));
    const stale = await runInProcess(['check'], root);
    expect(stale.status).toBe(2);
    expect(stale.stderr).toContain('  store-2/aws/security-groups.cfn.json (no longer produced)\n');
    const again = await runInProcess(['render'], root);
    expect(again.stderr).toContain(` ${store2} removed\n`);
    expect((await runInProcess(['check'], root)).status).toBe(0);
  });

  test('render names sites; a name that is no site is one line and exit 1', async () => {
    const root = workspace(base);
    const one = await runInProcess(['render', 'store-2', '-t', 'nftables'], root);
    expect(one.status).toBe(0);
    expect(fs.readdirSync(path.join(root, 'rendered'))).toEqual(['store-2']);
    const bad = await runInProcess(['render', 'store-9'], root);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^store-9: not a site of the workspace .*\(sites: store-1, store-2\)\n$/);
    const stdout = await runInProcess(['render', 'store-1', '-t', 'pfsense', '-o', '-'], root);
    expect(stdout.stdout).toMatch(/^<\?xml/);
  });

  test('a local vendor file replaces the shipped one of the same name, reported on stderr', async () => {
    const shipped = fs.readFileSync(path.join(catalogRoot, 'vendors', 'payxpert.yaml'), 'utf8');
    const root = workspace({
      ...base,
      'own/vendors/payxpert.yaml': shipped.replace('name: PayXpert', 'name: PayXpert (local copy)'),
    });
    const r = await runInProcess(['validate'], root);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('fwgen: catalog override: own/vendors/payxpert.yaml replaces fwgen/catalog/vendors/payxpert.yaml\n');
    // The shipped vendors and lists, and the workspace's own acme vendor and list; the override replaces one.
    const shippedCount = (dir: string) => fs.readdirSync(path.join(catalogRoot, dir)).filter((f) => f.endsWith('.yaml')).length;
    expect(r.stdout).toBe(`ok: ${shippedCount('vendors') + 1} vendors, ${shippedCount('lists') + 1} address lists, 9 device classes, 2 profiles\n`);
  });

  test('two sites with one name, a missing layer and a bad workspace file are located errors', async () => {
    const dup = workspace({ ...base, 'sites/us/store-2.yaml': siteText });
    const r = await runInProcess(['render'], dup);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^sites\/us\/store-2\.yaml:2:9: profile\.name: site name 'store-1' is also used by sites\/eu\/store-1\.yaml/);
    expect(fs.existsSync(path.join(dup, 'rendered'))).toBe(false);
    const layer = workspace({ 'fwgen.yaml': 'sites: [s/*.yaml]\ncatalog: [nowhere]\n' });
    expect((await runInProcess(['check'], layer)).stderr).toMatch(/^fwgen\.yaml:2:11: catalog\[0\]: catalog folder 'nowhere' does not exist\n/);
    const bad = workspace({ 'fwgen.yaml': 'sites: [s/*.yaml]\noutput: ../elsewhere\nextra: 1\n' });
    const b = await runInProcess(['check'], bad);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/^fwgen\.yaml:3:1: extra: /m);
  });

  test('output is the same bytes whatever the working folder', () => {
    const fromRoot = runBinary(['render', '-p', 'examples/eu-restaurant-aloha.yaml', '-t', 'nftables', '-o', '-', '--only', 'fwgen.nft']);
    const fromTmp = runBinary(['render', '-p', path.join(repoRoot, 'examples/eu-restaurant-aloha.yaml'), '-t', 'nftables', '-o', '-', '--only', 'fwgen.nft'], tempDir());
    expect(fromTmp.stdout).toBe(fromRoot.stdout);
    expect(fromRoot.stdout).toBe(fs.readFileSync(path.join(repoRoot, 'out/eu-restaurant-aloha/nftables/fwgen.nft'), 'utf8'));
    const checkTmp = runBinary(['check'], tempDir());
    expect({ status: checkTmp.status, stdout: checkTmp.stdout }).toEqual({ status: 0, stdout: 'out/ is current (3 profiles, 6 targets)\n' });
    // The explicit any the shipped ecommerce-web example allows on purpose is acknowledged there: nothing to say, from anywhere.
    expect(checkTmp.stderr).toBe('');
    expect(checkTmp.stderr).toBe(runBinary(['check']).stderr);
  });

  test('a generated fleet renders in one run, each site into its own folder', async () => {
    const root = tempDir('fwgen-fleet-');
    generateFleet(path.join(repoRoot, 'examples/eu-restaurant-aloha.yaml'), path.join(root, 'sites'), 12);
    fs.writeFileSync(path.join(root, 'fwgen.yaml'), 'sites: [sites/*.yaml]\n');
    const r = await runInProcess(['render', '-t', 'nftables'], root);
    expect(r.status).toBe(0);
    expect(siteFolders(path.join(root, 'out')).length).toBe(12);
    expect(siteFolders(path.join(root, 'out'))[0]).toBe('eu-restaurant-aloha-01');
  });
});

describe('a fleet rendered by worker threads', () => {
  test('gives the same files as one thread, and still refuses two sites with one name', () => {
    const root = tempDir('fwgen-fleet-');
    const sites = generateFleet(path.join(repoRoot, 'examples/eu-restaurant-aloha.yaml'), path.join(root, 'sites'), 90);
    fs.writeFileSync(path.join(root, 'fwgen.yaml'), 'sites: [sites/*.yaml]\n');
    // The binary runs dist/, where workers are used for fleets of 80 sites and more on 2+ cores.
    const r = runBinary(['render', '-t', 'nftables', 'aws'], root);
    expect(r.status).toBe(0);
    // Per site: nftables fwgen.nft (exact names only, so no dnsmasq companion); aws four rule
    // files, the CloudFormation template and the Network Firewall rule group for the names.
    expect(r.stderr).toMatch(/\n720 written, 0 unchanged, 0 removed\n90 sites, 2 targets\n$/);
    const first = fs.readFileSync(path.join(root, 'out/eu-restaurant-aloha-01/nftables/fwgen.nft'), 'utf8');
    expect(first).toContain('eu-restaurant-aloha-01');
    const one = runBinary(['render', 'eu-restaurant-aloha-77', '-t', 'nftables', '-o', '-', '--only', 'fwgen.nft'], root);
    expect(one.stdout).toBe(fs.readFileSync(path.join(root, 'out/eu-restaurant-aloha-77/nftables/fwgen.nft'), 'utf8'));
    expect(runBinary(['check'], root).status).toBe(2); // three targets were never rendered
    fs.writeFileSync(sites[80]!, fs.readFileSync(sites[80]!, 'utf8').replace('eu-restaurant-aloha-81', 'eu-restaurant-aloha-02'));
    const dup = runBinary(['render', '-t', 'nftables'], root);
    expect(dup.status).toBe(1);
    expect(dup.stderr).toMatch(/^sites\/eu-restaurant-aloha-81\.yaml:\d+:\d+: profile\.name: site name 'eu-restaurant-aloha-02' is also used by sites\/eu-restaurant-aloha-02\.yaml/);
  });
});

describe('one profile of a workspace', () => {
  test('list, explain and render -p read the workspace catalog layers', async () => {
    const root = workspace(base);
    const list = await runInProcess(['list', '--json'], root);
    expect(JSON.parse(list.stdout).some((r: { vendor: string }) => r.vendor === 'acme')).toBe(true);
    const explain = await runInProcess(['explain', '-p', 'sites/eu/store-1.yaml'], root);
    expect(explain.status).toBe(0);
    const r = await runInProcess(['render', '-p', path.join(root, 'sites/eu/store-1.yaml'), '-t', 'nftables', '-o', '-', '--only', 'pos-terminal.nft'], tempDir());
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('own/vendors/acme.yaml:');
  });
});

describe('validate on a workspace', () => {
  test("reads every site's lock file, with locations", async () => {
    const root = workspace({ ...base, 'sites/us/store-2.lock.yaml': lockText('203.0.113.300') });
    const r = await runInProcess(['validate'], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^sites\/us\/store-2\.lock\.yaml:\d+:\d+: names\.api\.acme\.example\.ipv4\[0\]: /);
  });
});
