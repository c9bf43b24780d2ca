import * as fs from 'node:fs';
import * as path from 'node:path';
import { minimalProfile, minimalVendor, repoRoot, runBinary, tempCatalog } from '../helpers';

/** The real executable, as a user runs it: status, stdout and stderr. */
describe('fwgen binary', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) {
      throw new Error('dist/ is missing: run `npm run build` (npm ci runs it through prepare)');
    }
  });

  test('--help lists the commands', () => {
    const r = runBinary(['--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    for (const c of ['validate', 'list', 'explain']) expect(r.stdout).toContain(`fwgen ${c}`);
  });

  test('--version prints the package version and exits 0', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(runBinary(['--version'])).toEqual({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  test('--version alone (answered before the parser loads) says what the parser says for it', () => {
    const parsed = runBinary(['--version=true']);
    expect(parsed.status).toBe(0);
    expect(runBinary(['--version'])).toEqual(parsed);
    expect(runBinary(['render', '--version'])).toEqual(parsed);
  });

  test('validate passes on the shipped catalog and examples', () => {
    const r = runBinary(['validate']);
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: 'ok: 6 vendors, 2 address lists, 9 device classes, 3 profiles\n' });
    // The e-commerce example opens HTTPS and upstream DNS to any address on purpose, and says so
    // with a reason in its acknowledge: list: nothing left to warn about.
    expect(r.stderr).toBe('');
  });

  test('validate reports a broken profile on stderr with its location and exits 1', () => {
    const root = tempCatalog({ 'acme.yaml': minimalVendor });
    fs.writeFileSync(path.join(root, 'site.yaml'), minimalProfile.replace('region: eu', 'region: mars'));
    const r = runBinary(['validate', '--catalog', root, 'site.yaml'], root);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'site.yaml:3:9: region: "mars" is not one of: north-america, latin-america, eu, europe-other, middle-east-africa, asia-pacific, china\nfwgen: 1 problem; nothing was written\n',
    );
  });

  test('an unknown command is a usage error', () => {
    const r = runBinary(['frobnicate']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Unknown argument: frobnicate/);
  });

  test('list --json prints one object per flow of the catalog on stdout', () => {
    const r = runBinary(['list', '--json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    const keys = ['vendor', 'service', 'requirement', 'deviceClasses', 'regions', 'environments', 'direction', 'protocol', 'ports', 'domains', 'addresses', 'lists', 'programs', 'source'];
    for (const row of rows) for (const k of keys) expect(row).toHaveProperty(k);
    expect(new Set(rows.map((r) => r.vendor))).toEqual(new Set(['excoinz', 'microsoft-365', 'payment-gateway', 'paytronix', 'payxpert', 'secure-trading']));
  });

  test('list prints a table for people', () => {
    const r = runBinary(['list', '--profile', 'examples/shop-payxpert-sunmi.yaml']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^VENDOR\s+SERVICE\s+REQUIREMENT\s+DEVICE CLASSES\s+DIRECTION\s+PROTOCOL\s+PORTS\s+OTHER END$/);
    expect(r.stdout).toContain('*.central.payxpert.com');
  });

  test('explain says what is selected and what is left out, and why', () => {
    const r = runBinary(['explain', '--profile', 'examples/eu-restaurant-aloha.yaml']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('paytronix/aloha: Paytronix for Aloha POS [conditional, included by the profile');
    expect(r.stdout).toMatch(/paytronix\/na-pos-transactional: for region north-america; the site is in eu \(fwgen\/catalog\/vendors\/paytronix\.yaml:\d+:\d+\)/);
    expect(r.stdout).toMatch(/paytronix\/eu-merchant-portal flow 1: incomplete in the catalog: The URL cell of this row is empty on the page\./);
  });

  test('explain without --profile is a usage error', () => {
    const r = runBinary(['explain']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Missing required argument: profile/);
  });
});
