/**
 * Which regional services a site gets: PayXpert's "Europe Instance" reaches every European
 * site, Paytronix's server tables follow their headings, and no catalog region limit is silent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalog } from '../../src/catalog/load-catalog';
import { catalogRoot, runInProcess, tempDir } from '../helpers';

const catalog = loadCatalog(catalogRoot);

function profileFile(name: string, body: string): { dir: string; file: string } {
  const dir = tempDir('fwgen-regions-');
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, `profile:\n  name: ${name}\n${body}`);
  return { dir, file };
}

async function selected(file: string, cwd: string): Promise<string[]> {
  const r = await runInProcess(['list', '--json', '-p', file], cwd);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return [...new Set((JSON.parse(r.stdout) as Array<{ vendor: string; service: string }>).map((row) => `${row.vendor}/${row.service}`))];
}

const sunmiSite = (region: string) => `region: ${region}
environment: production
vendors:
  payxpert: {}
deviceClasses:
  sunmi-device: { addresses: [192.168.50.16/28] }
resolvers: [192.0.2.53]
`;

describe('PayXpert row 5, "Europe Instance"', () => {
  test.each(['eu', 'europe-other'])('a SUNMI site in %s gets SUNMI TMS/MDM', async (region) => {
    const { dir, file } = profileFile(`sunmi-${region}`, sunmiSite(region));
    expect(await selected(file, dir)).toContain('payxpert/sunmi-tms-mdm');
  });

  test('a SUNMI site outside Europe does not, and explain says which regions it is for', async () => {
    const { dir, file } = profileFile('sunmi-apac', sunmiSite('asia-pacific'));
    expect(await selected(file, dir)).not.toContain('payxpert/sunmi-tms-mdm');
    const r = await runInProcess(['explain', '-p', file], dir);
    expect(r.stdout).toMatch(/payxpert\/sunmi-tms-mdm: for region eu, europe-other; the site is in asia-pacific/);
  });

  test('the service says how "Europe Instance" is read and what a site elsewhere does', () => {
    const svc = catalog.vendors.get('payxpert')!.services.find((s) => s.id === 'sunmi-tms-mdm')!;
    expect(svc.regions).toEqual(['eu', 'europe-other']);
    const notes = svc.notes.join(' ');
    expect(notes).toMatch(/"Europe Instance", not "European Union"/);
    expect(notes).toMatch(/United Kingdom/);
    expect(notes).toMatch(/outside Europe/);
  });
});

const paytronixSite = (region: string) => `region: ${region}
environment: [production, test]
vendors:
  paytronix:
    variables: { mid: "1234", client: bistro }
deviceClasses:
  boh-server: { addresses: [10.0.0.10] }
resolvers: [10.0.0.53]
`;

describe('Paytronix server tables, read as the site region', () => {
  const servers = (rows: string[]) => rows.filter((s) => /^paytronix\/(na|eu)-/.test(s));

  test('north-america gets the North America rows only, eu the European Union rows only', async () => {
    const na = profileFile('px-na', paytronixSite('north-america'));
    const eu = profileFile('px-eu', paytronixSite('eu'));
    const naRows = servers(await selected(na.file, na.dir));
    const euRows = servers(await selected(eu.file, eu.dir));
    expect(naRows.length).toBeGreaterThan(0);
    expect(naRows.every((s) => s.startsWith('paytronix/na-'))).toBe(true);
    expect(euRows.length).toBeGreaterThan(0);
    expect(euRows.every((s) => s.startsWith('paytronix/eu-'))).toBe(true);
  });

  test.each(['europe-other', 'asia-pacific'])('a site in %s gets neither table, only the region-free services, and explain lists every server row', async (region) => {
    const { dir, file } = profileFile(`px-${region}`, paytronixSite(region));
    expect(await selected(file, dir)).toEqual(['paytronix/cloudflare', 'paytronix/controller-applications', 'site/resolvers']);
    const explain = (await runInProcess(['explain', '-p', file], dir)).stdout;
    const regional = catalog.vendors.get('paytronix')!.services.filter((s) => s.regions);
    expect(regional).toHaveLength(14);
    for (const s of regional) {
      expect(explain).toContain(`paytronix/${s.id}: for region ${s.regions!.join(', ')}; the site is in ${region}`);
    }
  });

  test('the vendor notes say how the headings are read and what a site elsewhere gets', () => {
    const notes = catalog.vendors.get('paytronix')!.notes.join(' ');
    expect(notes).toMatch(/"North America Servers" and "European Union Servers"/);
    expect(notes).toMatch(/reads each heading as the region of the site/);
    expect(notes).toMatch(/gets neither table: only the Cloudflare ranges, the Controller applications and the POS-specific ports/);
    expect(notes).toMatch(/asks Paytronix which servers its merchant account uses/);
  });
});

describe('every region limit in the catalog', () => {
  // The region a page names is its own word; that a site's region maps to it is fwgen's reading,
  // so no service may be limited to regions without a note that says how it was read.
  const regional = [...catalog.vendors.values()].flatMap((v) => v.services.filter((s) => s.regions).map((s) => ({ v, s })));

  test('is explained on the service, naming what the page calls the region', () => {
    expect(regional.length).toBeGreaterThan(0);
    for (const { v, s } of regional) {
      const notes = s.notes.join(' ');
      expect({ service: `${v.id}/${s.id}`, explained: /Read as|is read as/.test(notes) }).toEqual({ service: `${v.id}/${s.id}`, explained: true });
      expect(notes).toMatch(/"(Europe Instance|North America Servers|European Union Servers)"/);
    }
  });

  test('limits to eu alone only where the page says "European Union"; "Europe" covers europe-other too', () => {
    for (const { v, s } of regional) {
      const notes = s.notes.join(' ');
      if (s.regions!.includes('eu') && !s.regions!.includes('europe-other')) expect(`${v.id}/${s.id}: ${notes}`).toMatch(/European Union/);
      if (/"Europe Instance"/.test(notes)) expect(s.regions).toEqual(expect.arrayContaining(['eu', 'europe-other']));
    }
  });
});
