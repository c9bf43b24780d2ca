import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { loadCatalog } from '../../src/catalog/load-catalog';
import { loadProfile } from '../../src/catalog/profile';
import { buildPolicy } from '../../src/policy/build';
import type { Policy } from '../../src/policy/types';
import { renderSite } from '../../src/render/site';
import { targets } from '../../src/targets/registry';
import { nftCheck, withTool } from '../conformance/validators';
import { catalogRoot, examplesRoot, runInProcess, tempDir } from '../helpers';

/**
 * A profile trims a vendor flow: Paytronix's Cloudflare flow is marked `both` (inbound 443 from
 * every Cloudflare range to the BOH server); the restaurant leaves out its inbound half, with a
 * reason explain shows and the Policy carries.
 */

const REASON = 'The BOH server calls out through Cloudflare; nothing of Cloudflare connects in';

/** The restaurant example (and its lock) in a folder of its own, with `excludeFlows` set to `trims`. */
function restaurant(trims: unknown[] | undefined): string {
  const dir = tempDir('fwgen-trim-');
  const file = path.join(dir, 'eu-restaurant-aloha.yaml');
  const doc = parseDocument(fs.readFileSync(path.join(examplesRoot, 'eu-restaurant-aloha.yaml'), 'utf8'));
  if (trims) doc.setIn(['vendors', 'paytronix', 'excludeFlows'], trims);
  fs.writeFileSync(file, doc.toString());
  fs.copyFileSync(path.join(examplesRoot, 'eu-restaurant-aloha.lock.yaml'), path.join(dir, 'eu-restaurant-aloha.lock.yaml'));
  return file;
}

function policyOf(file: string): Policy {
  const catalog = loadCatalog(catalogRoot);
  return buildPolicy(catalog, loadProfile(file, catalog));
}

const inboundHalf = [{ service: 'cloudflare', direction: 'inbound', reason: REASON }];

describe("excludeFlows: a both flow's inbound half", () => {
  const whole = restaurant(undefined);
  const trimmed = restaurant(inboundHalf);

  test('the policy loses exactly the inbound rules of that flow, and records why', () => {
    const before = policyOf(whole);
    const after = policyOf(trimmed);
    const gone = before.rules.filter((r) => !after.rules.some((a) => a.id === r.id)).map((r) => r.id);
    expect(gone).toEqual(['paytronix.cloudflare.boh-server.in.tcp']);
    // The rest is the same, rule for rule (the site's own rules cite each copy of the profile, so origins are compared by flow).
    const plain = (rules: Policy['rules']) => rules.map((r) => ({ ...r, origins: r.origins.map((o) => `${o.vendor}/${o.service}/${o.flow}`) }));
    expect(plain(after.rules)).toEqual(plain(before.rules.filter((r) => r.id !== 'paytronix.cloudflare.boh-server.in.tcp')));
    expect(after.rules.some((r) => r.id === 'paytronix.cloudflare.boh-server.out.tcp')).toBe(true);
    expect(after.exclusions).toEqual([
      {
        vendor: 'paytronix',
        service: 'cloudflare',
        flow: 0,
        cite: 'Allowlisting Specifications - All POS Systems: Cloudflare',
        excluded: 'inbound',
        reason: REASON,
        loc: expect.objectContaining({ file: trimmed, line: expect.any(Number) }),
        flowLoc: expect.objectContaining({ file: expect.stringMatching(/catalog\/vendors\/paytronix\.yaml$/), line: expect.any(Number) }),
      },
    ]);
    expect(before.exclusions).toEqual([]);
  });

  test('every target loses the inbound half and keeps the outbound one', () => {
    const render = (file: string) => {
      const r = renderSite(catalogRoot, file, targets);
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      return new Map(r.files.map((f) => [f.path.split('/').slice(1).join('/'), f.content]));
    };
    const before = render(whole);
    const after = render(trimmed);
    expect([...after.keys()]).toEqual([...before.keys()]);
    const inbound = /cloudflare\.boh-server\.in\.|paytronix\/cloudflare boh-server inbound/g;
    const outbound = /cloudflare\.boh-server\.out\.|paytronix\/cloudflare boh-server outbound/g;
    const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
    const touched = new Set<string>();
    for (const [file, text] of before) {
      const now = after.get(file)!;
      expect([file, count(now, inbound)]).toEqual([file, 0]);
      expect([file, count(now, outbound)]).toEqual([file, count(text, outbound)]);
      if (count(text, inbound) > 0) touched.add(file.split('/')[0]!);
    }
    // The inbound half was in every target's output before: each of them lost it.
    expect([...touched].sort()).toEqual(['ansible', 'aws', 'iptables', 'nftables', 'pfsense', 'windows']);
  });

  withTool('nft')('the trimmed nftables file still loads (nft -c in a user namespace)', () => {
    const r = renderSite(catalogRoot, trimmed, [targets.find((t) => t.id === 'nftables')!]);
    const file = path.join(tempDir(), 'fwgen.nft');
    fs.writeFileSync(file, r.files.find((f) => f.path.endsWith('fwgen.nft'))!.content);
    const check = nftCheck(file);
    expect(check.output).toBe('');
    expect(check.ok).toBe(true);
  });

  test('explain shows the half kept, the half left out and the reason', async () => {
    const r = await runInProcess(['explain', '-p', trimmed]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}paytronix\/cloudflare: .*\n.*\n {4}flow 1: outbound \(of both\) tcp 443 boh-server <-> list cloudflare$/m);
    expect(r.stdout).toContain(`  paytronix/cloudflare flow 1 (inbound): inbound half excluded by the profile: ${REASON} (`);
  });
});

describe('excludeFlows: the whole flow', () => {
  test('leaves the flow out of every target, and explain says why', async () => {
    const file = restaurant([{ service: 'cloudflare', flow: 'Allowlisting Specifications - All POS Systems: Cloudflare', reason: 'Cloudflare is not used here' }]);
    const p = policyOf(file);
    expect(p.rules.filter((r) => r.service === 'cloudflare')).toEqual([]);
    expect(p.exclusions).toEqual([expect.objectContaining({ service: 'cloudflare', flow: 0, excluded: 'flow', reason: 'Cloudflare is not used here' })]);
    const r = await runInProcess(['explain', '-p', file]);
    expect(r.stdout).toMatch(/^ {2}paytronix\/cloudflare flow 1: excluded by the profile: Cloudflare is not used here \(\S+:\d+:\d+\) \(\S*catalog\/vendors\/paytronix\.yaml:\d+:9\)$/m);
  });

  test('both halves, trimmed one by one, are the whole flow', () => {
    const p = policyOf(
      restaurant([
        { service: 'cloudflare', direction: 'inbound', reason: 'a' },
        { service: 'cloudflare', direction: 'outbound', reason: 'b' },
      ]),
    );
    expect(p.rules.filter((r) => r.service === 'cloudflare')).toEqual([]);
    expect(p.exclusions.map((x) => x.excluded)).toEqual(['inbound', 'outbound']);
  });

  test('a flow between two classes of the site loses its mirror on the other class too', () => {
    // Aloha flow 3: both ways on pxc_port between the terminals and the BOH server.
    const before = policyOf(restaurant(undefined));
    const after = policyOf(restaurant([{ service: 'aloha', flow: 3, direction: 'inbound', reason: 'The terminals only call the BOH server' }]));
    // The halves flow 3 (index 2) gives each class: the terminals' inbound and its mirror, the BOH server's outbound, go.
    const halves = (p: Policy) =>
      [...new Set(p.rules.filter((r) => r.service === 'aloha' && r.origins.some((o) => o.flow === 2)).map((r) => `${r.deviceClass} ${r.direction}`))].sort();
    expect(halves(before)).toEqual(['boh-server inbound', 'boh-server outbound', 'order-entry-terminal inbound', 'order-entry-terminal outbound']);
    expect(halves(after)).toEqual(['boh-server inbound', 'order-entry-terminal outbound']);
  });
});

describe('excludeFlows entries are checked where they are written', () => {
  const cases: Array<[string, unknown[], RegExp]> = [
    ['an unknown service', [{ service: 'nope', reason: 'x' }], /vendors\.paytronix\.excludeFlows\[0\]\.service: vendor 'paytronix' has no service 'nope'/],
    ['a flow number past the last', [{ service: 'cloudflare', flow: 2, reason: 'x' }], /vendors\.paytronix\.excludeFlows\[0\]\.flow: service 'cloudflare' has no flow 2: flow 1 \(both, cite 'Allowlisting/],
    ['a cite no flow carries', [{ service: 'cloudflare', flow: 'row 9', reason: 'x' }], /excludeFlows\[0\]\.flow: no flow of service 'cloudflare' carries the cite 'row 9'/],
    ['no flow named in a service of several', [{ service: 'aloha', reason: 'x' }], /excludeFlows\[0\]\.service: service 'aloha' has 6 flows; name one with flow: \(its number or its cite\): flow 1 \(outbound, cite/],
    ['a direction the flow does not have', [{ service: 'aloha', flow: 1, direction: 'inbound', reason: 'x' }], /excludeFlows\[0\]\.direction: paytronix\/aloha flow 1 is outbound only; it has no inbound half to leave out/],
    ['no reason', [{ service: 'cloudflare', direction: 'inbound' }], /excludeFlows\[0\]: missing required field 'reason'/],
    ['a blank reason', [{ service: 'cloudflare', direction: 'inbound', reason: ' ' }], /excludeFlows\[0\]\.reason: /],
    ['the same half twice', [{ service: 'cloudflare', direction: 'inbound', reason: 'a' }, { service: 'cloudflare', reason: 'b' }], /excludeFlows\[1\]: paytronix\/cloudflare flow 1 is already trimmed on line \d+/],
  ];
  test.each(cases)('%s', async (_name, trims, expected) => {
    const file = restaurant(trims);
    const r = await runInProcess(['validate', file]);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^\\S*eu-restaurant-aloha\\.yaml:\\d+:\\d+: (vendors\\.paytronix\\.)?${expected.source}`));
  });

  test('a service excluded whole cannot be trimmed as well', async () => {
    const dir = tempDir('fwgen-trim-');
    const file = path.join(dir, 'site.yaml');
    const doc = parseDocument(fs.readFileSync(path.join(examplesRoot, 'eu-restaurant-aloha.yaml'), 'utf8'));
    doc.setIn(['vendors', 'paytronix', 'exclude'], ['cloudflare']);
    doc.setIn(['vendors', 'paytronix', 'excludeFlows'], inboundHalf);
    fs.writeFileSync(file, doc.toString());
    const r = await runInProcess(['validate', file]);
    expect(r.stderr.split('\n')[0]).toMatch(/excludeFlows\[0\]\.service: service 'cloudflare' is excluded as a whole \(exclude:\)/);
  });
});
