/**
 * What the audit of the vendor pages found unrecorded: the Paytronix merchant id is any
 * host-name label (the page writes only m[mid]), Secure Trading's certificate advice is kept
 * in its words, and the POS-specific ports say which other end fwgen reads into them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalog } from '../../src/catalog/load-catalog';
import { catalogRoot, runInProcess, tempDir } from '../helpers';

const catalog = loadCatalog(catalogRoot);
const service = (vendor: string, id: string) => catalog.vendors.get(vendor)!.services.find((s) => s.id === id)!;

describe('the Paytronix merchant id (m[mid] on the page)', () => {
  function site(mid: string): { dir: string; file: string } {
    const dir = tempDir('fwgen-mid-');
    const file = path.join(dir, 'px.yaml');
    fs.writeFileSync(
      file,
      `profile:\n  name: px\nregion: north-america\nenvironment: production\nvendors:\n  paytronix:\n    variables:\n      mid: ${JSON.stringify(mid)}\n      client: bistro\ndeviceClasses:\n  boh-server: { addresses: [10.0.0.10] }\nresolvers: [10.0.0.53]\n`,
    );
    return { dir, file };
  }

  test.each(['store-12a', '1234', 'A7', 'x'.repeat(62)])('accepts the host-name label %s and builds m<mid> names from it', async (mid) => {
    const { dir, file } = site(mid);
    const r = await runInProcess(['list', '--json', '-p', file], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const domains = (JSON.parse(r.stdout) as Array<{ domains: string[] }>).flatMap((row) => row.domains);
    expect(domains).toContain(`m${mid.toLowerCase()}.oltp.pxsplatform.com`);
  });

  test.each(['-bad', 'bad-', 'store_12', 'store.12', 'x'.repeat(63), ''])('refuses %j at the variable, with its file, line and column', async (mid) => {
    const { dir, file } = site(mid);
    const r = await runInProcess(['list', '--json', '-p', file], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/px\.yaml:8:12: vendors\.paytronix\.variables\.mid: .*does not match the vendor's pattern/);
  });

  test('the variable says why it is a label and why at most 62 characters', () => {
    const mid = catalog.vendors.get('paytronix')!.variables.get('mid')!;
    expect(mid.description).toMatch(/says nothing of its form/);
    expect(mid.description).toMatch(/m\{mid\} stays within the 63 characters of a DNS label/);
  });
});

describe('Secure Trading certificate advice (Secure Connection)', () => {
  test('is a note on the web services, in the page\'s own words, and renders nothing', () => {
    const svc = service('secure-trading', 'web-services');
    const notes = svc.notes.join(' ');
    expect(notes).toContain('"Secure Trading uses the Verisign Certificate Authority to sign all certificates. Your SSL/TLS library must be configured to trust all Verisign certificates"');
    expect(notes).toContain('"on a regular basis (e.g. once a year)"');
    expect(notes).toContain('"you should NOT verify using a single certificate fingerprint"');
    expect(notes).toMatch(/not a firewall rule/);
    // Advice about TLS adds no flow.
    expect(svc.flows).toHaveLength(1);
  });

  // The transcribed pages sit beside the project (not shipped with it), some folders above a checkout.
  const seeds = ancestors(__dirname).map((d) => path.join(d, 'shared', 'seeds')).find((d) => fs.existsSync(d));
  if (!seeds) console.warn('skipping the quote check: no shared/seeds folder above this checkout');
  (seeds ? test : test.skip)('the quotes are on the page as written', () => {
    const page = fs.readFileSync(path.join(seeds!, catalog.vendors.get('secure-trading')!.source.seed!), 'utf8').replace(/\s+/g, ' ');
    for (const q of service('secure-trading', 'web-services').notes.join(' ').match(/"[^"]+"/g)!) expect(page).toContain(q.slice(1, -1));
  });
});

describe('POSitouch, Micros RES 3700 and Oracle Simphony ports', () => {
  test.each([
    ['positouch', 'boh-server'],
    ['micros-res-3700', 'boh-server'],
    ['oracle-simphony', 'caps-server'],
  ])('%s: the rule is between %s and the terminals only, and a note says the page never names the other end', (id, server) => {
    const svc = service('paytronix', id);
    for (const f of svc.flows) {
      expect(f.deviceClasses).toEqual([server]);
      expect(f.peers).toEqual(['pos-terminal']);
      expect({ domains: f.domains, addresses: f.addresses, lists: f.lists }).toEqual({ domains: [], addresses: [], lists: [] });
      const notes = f.notes.join(' ');
      expect(notes).toMatch(/never names the other end/);
      expect(notes).toMatch(new RegExp(`rule is on ${server} with pos-terminal as its peer`));
      expect(notes).toMatch(/not terminal to terminal, not to or from the Internet/);
    }
  });
});

function ancestors(dir: string): string[] {
  const parent = path.dirname(dir);
  return parent === dir ? [dir] : [dir, ...ancestors(parent)];
}
