import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalog } from '../../src/catalog/load-catalog';
import { catalogRows } from '../../src/report/flows';
import { validatePaths } from '../../src/workspace';
import { catalogRoot } from '../helpers';

const seedsDir = path.resolve(__dirname, '../../../shared/seeds');

/** Transcribed from the seed pages by hand, independently of the catalog files. */
const pages: Record<string, { domains?: string[]; addresses?: string[]; ports?: string[]; programs?: string[]; lists?: string[] }> = {
  '000_62677d581ad1fa4c.txt': { ports: ['443', '53'] },
  '001_5b5e904befadf642.txt': {
    domains: [
      'api-pos-default-v4.payxpert.com', 'api-prox-default-v4.payxpert.com', 'payxpress-soft-mpos.firebaseio.com', 'dns.google',
      'connect2.payxpert.com', 'stats.payxpert.com', 'payxpress-apm.appspot.com', 'payxpress-soft-mpos.appspot.com',
      '*.central.payxpert.com', 'central.payxpert.com', 'api.eu.sunmi.com', 'apk.cdn.eu.sunmi.com', 'ota.cdn.eu.sunmi.com', 'file.cdn.eu.sunmi.com',
      'pic.cdn.eu.sunmi.com', 'iot-mqtts.eu.sunmi.com', 'api.sunmi.com', 'pool.ntp.org', 'europe.pool.ntp.org', 'uk.pool.ntp.org',
      'fr.pool.ntp.org', 'it.pool.ntp.org', 'de.pool.ntp.org', 'at.pool.ntp.org', 'pl.pool.ntp.org', 'ntp1.inrim.it',
      'ntp.obspm.fr', 'ptbtime1.ptb.de', 'gstatic.com', 'www.qualcomm.cn', 'www.google.com', 'connectivitycheck.gstatic.com',
    ],
    ports: ['443', '123', '80'],
  },
  '002_2d59dc6c4ab5f76a.txt': {
    domains: [
      'm{mid}.oltp.pxsplatform.com', 'm{mid}.merchant.pxservice.com', 'api.pxsweb.com', 'm{mid}.api.pxsplatform.com',
      'm{mid}.api.pxslab.com', 'm{mid}.eu.oltp.pxsplatform.com', 'm{mid}.eu.api.pxsplatform.com', '{client}.eu.myguestaccount.com',
      'm{mid}.eu.myguestaccout.com', 'm{mid}.train.eu.oltp.pxsplatform.com', 'm{mid}.train.eu.api.pxsplatform.com',
    ],
    programs: [
      'C:\\Paytronix\\jre\\bin\\java.exe', 'C:\\Paytronix\\PxDaemonService.exe', 'C:\\Paytronix\\PxUpgraderService.exe',
      'C:\\Paytronix\\pxalohaui.exe',
    ],
    ports: ['443', '1275', '9055', '9090', '9054', '5022', '5023', '5024', '9000', '22280'],
    lists: ['cloudflare'],
  },
  '003_6ace6ab07ba4d7ec.txt': { ports: ['53'] },
  '004_2894f15a41086648.txt': { addresses: ['13.229.255.195/32'], ports: ['443'] },
};

describe('the shipped catalog', () => {
  const catalog = loadCatalog(catalogRoot);
  const rows = catalogRows(catalog);

  test('validates with the shipped examples', () => {
    const report = validatePaths(catalogRoot, []);
    expect({ ...report, warnings: [] }).toEqual({ vendors: 6, lists: 2, deviceClasses: 9, profiles: 3, warnings: [] });
    // The e-commerce site's deliberate any (customers' HTTPS, the resolver's upstream queries) is acknowledged in the profile.
    expect(report.warnings).toEqual([]);
  });

  test('has one vendor per seed page, each naming its seed', () => {
    const seeds = fs.existsSync(seedsDir) ? fs.readdirSync(seedsDir).sort() : Object.keys(pages);
    // Vendor files that fwgen lists update generates from a feed come from no seed page.
    const generated = new Set([...catalog.lists.values()].flatMap((l) => (l.feed?.vendor ? [l.feed.vendor] : [])));
    expect(generated).toEqual(new Set(['microsoft-365']));
    const transcribed = [...catalog.vendors.values()].filter((v) => !generated.has(v.id));
    expect(transcribed.map((v) => v.source.seed).sort()).toEqual(seeds);
  });

  test.each(Object.entries(pages))('carries every requirement of %s', (seed, expected) => {
    const mine = rows.filter((r) => catalog.vendors.get(r.vendor)!.source.seed === seed);
    const all = (f: (r: (typeof rows)[number]) => string[]) => new Set(mine.flatMap(f));
    for (const d of expected.domains ?? []) expect(all((r) => r.domains)).toContain(d);
    for (const a of expected.addresses ?? []) expect(all((r) => r.addresses)).toContain(a);
    for (const p of expected.programs ?? []) expect(all((r) => r.programs)).toContain(p);
    for (const l of expected.lists ?? []) expect(all((r) => r.lists)).toContain(l);
    // A port the page calls configurable is a variable whose default is the page's value.
    const withDefault = (vendor: string, text: string): string[] => {
      const v = /^\{(.+)\}$/.exec(text) && catalog.vendors.get(vendor)!.variables.get(text.slice(1, -1))!.default;
      return v && v.kind === 'ports' ? v.value.map((p) => `${p.from}-${p.to}`) : [text];
    };
    const ports = all((r) => r.ports.flatMap((p) => withDefault(r.vendor, p)).flatMap(expandPortText));
    for (const p of expected.ports ?? []) expect(ports).toContain(p);
  });

  test('every flow says where it came from', () => {
    for (const r of rows) {
      expect(r.source.file).toMatch(/^fwgen\/catalog\/vendors\/[a-z0-9-]+\.yaml$/);
      expect(r.source.line).toBeGreaterThan(0);
    }
  });

  test('lost cells are marked incomplete, not guessed', () => {
    const incomplete = rows.filter((r) => r.incomplete !== null).map((r) => `${r.vendor}/${r.service}`);
    expect(incomplete).toEqual(
      expect.arrayContaining([
        'payment-gateway/confirmation-emails',
        'paytronix/na-my-guest-account',
        'paytronix/eu-merchant-portal',
      ]),
    );
  });

  test('the misspelt Paytronix host is kept as published, with a note', () => {
    const row = rows.find((r) => r.domains.includes('m{mid}.eu.myguestaccout.com'))!;
    expect(row.notes.join(' ')).toMatch(/myguestaccout/);
  });

  test('Secure Trading DNS servers are required (seed 003 line 36: "must"), their stripped addresses a variable', () => {
    const row = rows.find((r) => r.vendor === 'secure-trading' && r.service === 'dns-servers')!;
    expect(row.requirement).toBe('required');
    expect(row.incomplete).toBeNull();
    expect(row.addresses).toEqual(['{dns_servers}']);
    expect(row.protocol).toBe('tcp/udp');
    expect(row.ports).toEqual(['53']);
  });

  test('PayXpert row 4 lists central.payxpert.com itself besides its subdomains (seed 001 line 202)', () => {
    const row = rows.find((r) => r.vendor === 'payxpert' && r.service === 'backoffice-central')!;
    expect(row.domains).toEqual(['*.central.payxpert.com', 'central.payxpert.com']);
  });

  test('the SUNMI label patterns and the pos-terminal reading are explained, not rendered', () => {
    const notes = catalog.vendors.get('payxpert')!.notes.join(' ');
    expect(notes).toMatch(/"\*eu\.sunmi\.com" and "\*api\.sunmi\.com"/);
    expect(notes).toMatch(/cannot match part of a label|can match part of a label/);
    expect(notes).toMatch(/pos-terminal is this reading, not a word of the page/);
    expect(rows.flatMap((r) => r.domains).filter((d) => /\*[^.]/.test(d))).toEqual([]);
  });

  test('the Aloha port the page calls configurable is a variable with the page default', () => {
    const pxc = catalog.vendors.get('paytronix')!.variables.get('pxc_port')!;
    expect(pxc.default).toMatchObject({ kind: 'ports', value: [{ from: 9090, to: 9090 }] });
    expect(rows.filter((r) => r.service === 'aloha').flatMap((r) => r.ports)).not.toContain('9090');
  });

  test('every service and flow cites where a reader finds it on the vendor page', () => {
    for (const r of rows) {
      expect(r.source.title.length).toBeGreaterThan(0);
      expect(r.source.cite).toEqual(expect.any(String));
      expect(r.source.url !== null || r.source.date !== null || /no URL/.test(catalog.vendors.get(r.vendor)!.notes.join(' '))).toBe(true);
      expect(JSON.stringify(r.source)).not.toMatch(/seed|\.txt/);
    }
  });

  test('nothing a user reads points at our own transcriptions of the pages', () => {
    const root = path.resolve(__dirname, '../..');
    const texts = [
      fs.readFileSync(path.join(root, 'README.md'), 'utf8'),
      ...fs.readdirSync(path.join(root, 'catalog/schema')).map((f) => fs.readFileSync(path.join(root, 'catalog/schema', f), 'utf8')),
      ...walk(path.join(root, 'out')).map((f) => fs.readFileSync(f, 'utf8')),
    ];
    for (const t of texts) {
      expect(t).not.toMatch(/shared\/seeds|[0-9]{3}_[0-9a-f]{16}\.txt/);
    }
  });

  test('Secure Trading names carry the vendor TTL', () => {
    const row = rows.find((r) => r.vendor === 'secure-trading' && r.service === 'web-services')!;
    expect(row.maxTtl).toBe(60);
  });
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function expandPortText(text: string): string[] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (!m) return [text];
  const out: string[] = [];
  for (let p = Number(m[1]); p <= Number(m[2]); p++) out.push(String(p));
  return out;
}
