/**
 * A flow's own cite narrows its service's; it never replaces it. `fwgen list --json` gives
 * both (source.cite: the service's, source.flowCite: the flow's), and explain prints both.
 */
import * as path from 'node:path';
import { loadCatalog } from '../../src/catalog/load-catalog';
import { catalogRoot, examplesRoot, runInProcess } from '../helpers';

interface Row {
  vendor: string;
  service: string;
  source: { file: string; line: number; cite: string | null; flowCite: string | null };
}

const catalog = loadCatalog(catalogRoot);

async function listJson(args: string[] = []): Promise<Row[]> {
  const r = await runInProcess(['list', '--json', '--catalog', catalogRoot, ...args]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Row[];
}

describe('list --json cites', () => {
  test.each([
    ['secure-trading', 'web-services', /^Secure Connection, first paragraph/, /^Load Balancing, second paragraph/],
    ['excoinz', 'webhooks', /Allow webhook URL ports/, /^Add an IP access control list/],
  ])('%s/%s keeps the section its port comes from beside the flow\'s narrower cite', async (vendor, service, cite, flowCite) => {
    const rows = (await listJson()).filter((r) => r.vendor === vendor && r.service === service);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.source.cite).toMatch(cite);
    expect(rows[0]!.source.flowCite).toMatch(flowCite);
  });

  test('every row: cite is the service\'s, flowCite the flow\'s own or null', async () => {
    const rows = await listJson();
    const withFlowCite = new Set<string>();
    for (const r of rows) {
      const svc = catalog.vendors.get(r.vendor)!.services.find((s) => s.id === r.service)!;
      const flow = svc.flows.find((f) => f.origin.line === r.source.line)!;
      expect(r.source.cite).toBe(svc.cite ?? flow.cite ?? null);
      expect(r.source.flowCite).toBe(svc.cite !== undefined ? (flow.cite ?? null) : null);
      if (r.source.flowCite !== null) withFlowCite.add(`${r.vendor}/${r.service}`);
    }
    // A flow without a cite of its own reads as before: the service's cite, flowCite null.
    const plain = rows.find((r) => r.vendor === 'payxpert' && r.service === 'emv-backend')!;
    expect(plain.source).toMatchObject({ cite: 'Firewall Port Information table, row 1 (PayXpress EMV Backend)', flowCite: null });
    expect([...withFlowCite]).toEqual(expect.arrayContaining(['secure-trading/web-services', 'excoinz/webhooks', 'paytronix/aloha']));
  });

  test('a profile\'s selection carries the same two cites', async () => {
    const rows = await listJson(['-p', path.join(examplesRoot, 'ecommerce-web.yaml')]);
    const web = rows.find((r) => r.vendor === 'secure-trading' && r.service === 'web-services')!;
    expect(web.source.cite).toMatch(/^Secure Connection/);
    expect(web.source.flowCite).toMatch(/^Load Balancing/);
    const site = rows.find((r) => r.vendor === 'site')!;
    expect(site.source.flowCite).toBeNull();
  });
});

describe('explain cites', () => {
  test('prints the service\'s cite and, under the flow, its own', async () => {
    const r = await runInProcess(['explain', '--catalog', catalogRoot, '-p', path.join(examplesRoot, 'ecommerce-web.yaml')]);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('  excoinz/webhooks: '));
    expect(lines[at + 1]).toMatch(/^ {4}from "Firewalls and security", .*: Firewall settings, Allow port numbers, item 2 \("Allow webhook URL ports"\)/);
    expect(lines[at + 2]).toMatch(/^ {4}flow 1: inbound tcp 8443 ecommerce-web-server <-> 13\.229\.255\.195$/);
    expect(lines[at + 3]).toBe('      flow cite: Add an IP access control list (the one address listed)');
    const st = lines.findIndex((l) => l.startsWith('  secure-trading/web-services: '));
    expect(lines[st + 1]).toMatch(/: Secure Connection, first paragraph/);
    expect(lines[st + 3]).toBe('      flow cite: Load Balancing, second paragraph (TTL "currently set to less than 60 seconds")');
  });
});
