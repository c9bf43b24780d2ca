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
      '*.central.payxpert.com', 'api.eu.sunmi.com', 'apk.cdn.eu.sunmi.com', 'ota.cdn.eu.sunmi.com', 'file.cdn.eu.sunmi.com',
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
    expect(validatePaths(catalogRoot, [])).toEqual({ vendors: 5, lists: 1, deviceClasses: 9, profiles: 3, warnings: [] });
  });

  test('has one vendor per seed page, each naming its seed', () => {
    const seeds = fs.existsSync(seedsDir) ? fs.readdirSync(seedsDir).sort() : Object.keys(pages);
    expect([...catalog.vendors.values()].map((v) => v.source.seed).sort()).toEqual(seeds);
  });

  test.each(Object.entries(pages))('carries every requirement of %s', (seed, expected) => {
    const mine = rows.filter((r) => r.source.seed === seed);
    const all = (f: (r: (typeof rows)[number]) => string[]) => new Set(mine.flatMap(f));
    for (const d of expected.domains ?? []) expect(all((r) => r.domains)).toContain(d);
    for (const a of expected.addresses ?? []) expect(all((r) => r.addresses)).toContain(a);
    for (const p of expected.programs ?? []) expect(all((r) => r.programs)).toContain(p);
    for (const l of expected.lists ?? []) expect(all((r) => r.lists)).toContain(l);
    const ports = all((r) => r.ports.flatMap(expandPortText));
    for (const p of expected.ports ?? []) expect(ports).toContain(p);
  });

  test('every flow says where it came from', () => {
    for (const r of rows) {
      expect(r.source.file).toMatch(/^catalog\/vendors\/[a-z-]+\.yaml$/);
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
        'secure-trading/dns-servers',
      ]),
    );
  });

  test('the misspelt Paytronix host is kept as published, with a note', () => {
    const row = rows.find((r) => r.domains.includes('m{mid}.eu.myguestaccout.com'))!;
    expect(row.notes.join(' ')).toMatch(/myguestaccout/);
  });

  test('Secure Trading names carry the vendor TTL', () => {
    const row = rows.find((r) => r.vendor === 'secure-trading' && r.service === 'web-services')!;
    expect(row.maxTtl).toBe(60);
  });
});

function expandPortText(text: string): string[] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (!m) return [text];
  const out: string[] = [];
  for (let p = Number(m[1]); p <= Number(m[2]); p++) out.push(String(p));
  return out;
}
