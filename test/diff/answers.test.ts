/**
 * fwgen diff lists what changes a site's policy without a flow changing, or besides it: an
 * acknowledgement or a flow exclusion added, removed or given another reason, and a device
 * class's os, management ports or default drop. A base from before these were recorded, and
 * a base without any snapshot whose profile had not answered a lock-out, are compared.
 */
import Ajv from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { snapshotDigest, type PolicySnapshot } from '../../src/policy/snapshot';
import { repoRoot, runInProcess } from '../helpers';
import { commit, git, newRenderedRepo, newRepo, siteText } from './fixture';

const validateJson = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(fs.readFileSync(path.join(repoRoot, 'catalog', 'schema', 'diff.schema.json'), 'utf8')),
);

interface Json {
  policyChanged: boolean;
  sites: Array<{ status: string; flows: unknown[]; classes?: unknown[]; answers?: unknown[] }>;
}

async function diffJson(repo: string, base = 'HEAD'): Promise<{ status: number; cs: Json; stderr: string }> {
  const r = await runInProcess(['diff', '--base', base, '--format', 'json'], repo);
  const cs = JSON.parse(r.stdout) as Json;
  expect(validateJson(cs)).toBe(true);
  return { status: r.status, cs, stderr: r.stderr };
}

const bohAnswer = '  - { check: management-access, deviceClass: boh-server, reason: Managed at the console }\n';

describe('diff: answers and class settings', () => {
  test('an acknowledgement given another reason alone is a policy change, listed with both reasons', async () => {
    const repo = await newRenderedRepo();
    fs.writeFileSync(path.join(repo, 'sites/store-1.yaml'), siteText.replace(bohAnswer, bohAnswer.replace('Managed at the console', 'Managed over the vendor VPN only')));
    const { status, cs } = await diffJson(repo);
    expect(status).toBe(2);
    expect(cs.policyChanged).toBe(true);
    expect(cs.sites[0]).toMatchObject({
      status: 'changed',
      flows: [],
      answers: [
        {
          kind: 'acknowledgement',
          change: 'changed',
          what: 'management-access for boh-server',
          reason: 'Managed over the vendor VPN only',
          reasonBefore: 'Managed at the console',
          at: 'sites/store-1.yaml:17',
        },
      ],
    });
    const text = await runInProcess(['diff', '--base', 'HEAD'], repo);
    expect(text.stdout).toContain(
      '  acknowledgement changed: management-access for boh-server: Managed over the vendor VPN only (was: Managed at the console) (sites/store-1.yaml:17)\n',
    );
    const md = await runInProcess(['diff', '--base', 'HEAD', '--format', 'markdown'], repo);
    expect(md.stdout).toContain(
      '- **acknowledgement changed** management-access for boh-server: Managed over the vendor VPN only (was: Managed at the console) (<code>sites/store-1.yaml:17</code>)',
    );
  });

  test('an exclusion added, an acknowledgement added and removed, and class settings changed, in json, text and markdown', async () => {
    const repo = await newRenderedRepo();
    const site = siteText
      .replace('  acme: {}\n', '  acme:\n    excludeFlows:\n      - service: support\n        reason: "Support connects through the *vendor* portal; see #12"\n')
      .replace('    addresses: [10.1.0.20]\n', '    addresses: [10.1.0.20]\n    management: [2222]\n')
      // An explicit any for the terminals, answered; the boh-server answer goes (its management port is let in).
      .replace(bohAnswer, '  - { check: any-address, deviceClass: pos-terminal, reason: Terminals post receipts anywhere }\n')
      .concat(
        'flows:\n  - id: admin\n    deviceClasses: [boh-server]\n    direction: inbound\n    protocol: tcp\n    ports: [2222]\n    addresses: [10.1.9.0/24]\n',
        '  - id: receipts\n    deviceClasses: [pos-terminal]\n    direction: outbound\n    protocol: tcp\n    ports: [25]\n    addresses: [0.0.0.0/0]\n',
        'targets:\n  iptables:\n    policy: accept\n',
      );
    fs.writeFileSync(path.join(repo, 'sites/store-1.yaml'), site);
    const { status, cs } = await diffJson(repo);
    expect(status).toBe(2);
    const s = cs.sites[0]!;
    expect(s.classes).toEqual([
      { deviceClass: 'boh-server', setting: 'management', before: '(none)', after: '2222' },
      // The terminals run any system (the catalog's default): iptables no longer drops the rest on them.
      { deviceClass: 'pos-terminal', setting: 'defaultDrop', before: 'iptables, nftables, windows', after: 'nftables, windows' },
    ]);
    expect(s.answers).toEqual([
      { kind: 'acknowledgement', change: 'added', what: 'any-address for pos-terminal', reason: 'Terminals post receipts anywhere', at: expect.stringMatching(/^sites\/store-1\.yaml:\d+$/) },
      { kind: 'acknowledgement', change: 'removed', what: 'management-access for boh-server', reason: 'Managed at the console', at: 'sites/store-1.yaml:17' },
      {
        kind: 'exclusion',
        change: 'added',
        what: 'acme/support flow 1 (catalog-local/vendors/acme.yaml:29)',
        reason: 'Support connects through the *vendor* portal; see #12',
        at: 'sites/store-1.yaml:10',
      },
    ]);
    const text = (await runInProcess(['diff', '--base', 'HEAD'], repo)).stdout;
    expect(text).toContain('  class pos-terminal defaultDrop: iptables, nftables, windows → nftables, windows\n');
    expect(text).toContain('  exclusion added: acme/support flow 1 (catalog-local/vendors/acme.yaml:29): Support connects through the *vendor* portal; see #12 (sites/store-1.yaml:10)\n');
    const md = (await runInProcess(['diff', '--base', 'HEAD', '--format', 'markdown'], repo)).stdout;
    expect(md).toContain('- **class setting** <code>boh-server</code> management: <code>&#40;none&#41;</code> → <code>2222</code>');
    // The reason is the profile's text: no emphasis, no issue link.
    expect(md).toContain('- **exclusion added** acme/support flow 1 (catalog-local/vendors/acme.yaml:29): Support connects through the \\*vendor\\* portal; see #&#8203;12 (<code>sites/store-1.yaml:10</code>)');
  });

  test('a base snapshot from before answers and class settings were recorded compares as no change', async () => {
    const repo = await newRenderedRepo();
    // The committed snapshot as the previous fwgen wrote it: without the new fields, its digest over what it held.
    const file = path.join(repo, 'out/store-1/policy.json');
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as PolicySnapshot;
    delete doc.acknowledgements;
    delete doc.exclusions;
    for (const c of doc.deviceClasses) {
      delete c.defaultDrop;
      delete c.management;
    }
    doc.digest = snapshotDigest(doc);
    fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
    commit(repo, 'older', {});
    git(repo, ['checkout', '-q', '--', '.']);
    await runInProcess(['render'], repo);
    const { status, cs } = await diffJson(repo);
    expect(cs.sites[0]).toMatchObject({ status: 'unchanged', flows: [] });
    expect(cs.sites[0]!.answers).toBeUndefined();
    expect(status).toBe(0);
  });

  test('a base without snapshots whose profile had not answered a lock-out is rendered again and compared, not refused', async () => {
    const repo = newRepo();
    // The base: a site that leaves the boh-server's admins out (no answer): render would refuse it now.
    commit(repo, 'unanswered', { 'sites/store-1.yaml': siteText.replace(bohAnswer, '') });
    fs.writeFileSync(path.join(repo, 'sites/store-1.yaml'), siteText);
    const { status, cs, stderr } = await diffJson(repo);
    expect(stderr).toContain('store-1');
    expect(status).toBe(2);
    expect(cs.sites[0]).toMatchObject({
      status: 'changed',
      answers: [{ kind: 'acknowledgement', change: 'added', what: 'management-access for boh-server', reason: 'Managed at the console' }],
    });
  });

  test('a new site lists its answers as added', async () => {
    const repo = await newRenderedRepo();
    fs.writeFileSync(path.join(repo, 'sites/store-2.yaml'), siteText.replace('name: store-1', 'name: store-2'));
    fs.copyFileSync(path.join(repo, 'sites/store-1.lock.yaml'), path.join(repo, 'sites/store-2.lock.yaml'));
    const { cs } = await diffJson(repo);
    const added = cs.sites.find((x) => (x as { site?: string }).site === 'store-2')!;
    expect(added.status).toBe('added');
    expect((added.answers as Array<{ change: string }>).map((a) => a.change)).toEqual(['added', 'added']);
  });
});
