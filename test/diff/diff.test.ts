import Ajv from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expectGolden } from '../golden';
import { repoRoot, runInProcess, tempDir } from '../helpers';
import { commit, git, listText, lockText, newRepo, siteText, vendorText, workspaceText, writeTree } from './fixture';

const goldenDir = path.join(repoRoot, 'test', 'golden', 'diff');
const validateJson = new Ajv({ allErrors: true, strict: false }).compile(
  JSON.parse(fs.readFileSync(path.join(repoRoot, 'catalog', 'schema', 'diff.schema.json'), 'utf8')),
);

const withLoyalty = vendorText.replace(
  '  - id: support',
  `  - id: loyalty
    name: Loyalty sync
    requirement: required
    deviceClasses: [pos-terminal]
    flows:
      - direction: outbound
        protocol: udp
        ports: [9000]
        addresses: [192.0.2.128/28]
  - id: support`,
);
const widerPort = withLoyalty.replace('ports: [8443]', 'ports: [8443-8600]');
const movedClass = widerPort.replace('deviceClasses: [pos-terminal]\n      - direction: outbound', 'deviceClasses: [boh-server]\n      - direction: outbound');

/** Each case is one commit on top of the previous one; diff compares it with its parent. */
const cases: Array<{ tag: string; files: Record<string, string> }> = [
  { tag: 'add-service', files: { 'catalog-local/vendors/acme.yaml': withLoyalty } },
  {
    tag: 'widen-list',
    files: { 'catalog-local/lists/acme-edge.yaml': listText.replace('2026-10-01', '2026-11-15') + '  - 198.51.100.128/25\n  - 10.0.0.0/8\n' },
  },
  { tag: 'change-port', files: { 'catalog-local/vendors/acme.yaml': widerPort } },
  { tag: 're-resolve', files: { 'sites/store-1.lock.yaml': lockText('203.0.113.20') } },
  { tag: 'move-class', files: { 'catalog-local/vendors/acme.yaml': movedClass } },
  {
    tag: 'reorder-only',
    files: {
      // Services and keys reordered, a comment added, and a re-resolve that returned the same addresses.
      'catalog-local/vendors/acme.yaml':
        '# Reviewed with the vendor in November.\n' + movedClass.replace(/(  - id: api[\s\S]*?)(  - id: loyalty[\s\S]*)$/, '$2$1'),
      'sites/store-1.yaml': siteText.replace(
        'deviceClasses:\n  pos-terminal:\n    addresses: [10.1.0.0/28]\n  boh-server:\n    addresses: [10.1.0.20]\n',
        'deviceClasses:\n  boh-server:\n    addresses: [10.1.0.20]\n  pos-terminal:\n    addresses: [10.1.0.0/28]\n',
      ),
      'sites/store-1.lock.yaml': lockText('203.0.113.20', { resolvedAt: '2026-11-20T00:00:00.000Z' }),
    },
  },
];

describe('fwgen diff on a Git repository', () => {
  let repo: string;
  beforeAll(() => {
    repo = newRepo();
    for (const c of cases) commit(repo, c.tag, c.files);
  });

  test.each(cases.map((c, i) => [c.tag, i === 0 ? 'start' : cases[i - 1]!.tag]))('%s', async (tag, base) => {
    git(repo, ['checkout', '-q', tag]);
    const status0 = git(repo, ['status', '--porcelain']);
    const md = await runInProcess(['diff', '--base', base, '--format', 'markdown'], repo);
    const json = await runInProcess(['diff', '--base', base, '--format', 'json'], repo);
    expect(md.stderr).toBe('');
    expect(json.status).toBe(md.status);
    expect(git(repo, ['status', '--porcelain'])).toBe(status0);
    const parsed = JSON.parse(json.stdout);
    expect(validateJson(parsed)).toBe(true);
    expectGolden(path.join(goldenDir, `${tag}.md`), md.stdout);
    expectGolden(path.join(goldenDir, `${tag}.json`), json.stdout);
    const expectedStatus = tag === 'reorder-only' ? 0 : 2;
    expect(md.status).toBe(expectedStatus);
  });

  test('the sets and flags of each case', async () => {
    const at = async (tag: string, base: string) => {
      git(repo, ['checkout', '-q', tag]);
      return JSON.parse((await runInProcess(['diff', '--base', base, '--format', 'json'], repo)).stdout);
    };
    const flowsOf = (cs: any) => cs.sites.flatMap((s: any) => s.flows);
    const kinds = (cs: any) => [...new Set(cs.flags.map((f: any) => f.kind))].sort();

    const added = await at('add-service', 'start');
    expect(flowsOf(added).map((f: any) => [f.id, f.change, f.addresses.added, f.ports.added])).toEqual([
      ['pos-terminal/outbound/acme/loyalty/udp', 'added', ['192.0.2.128/28'], ['9000']],
    ]);
    expect(flowsOf(added)[0].origins).toEqual(['catalog-local/vendors/acme.yaml:29']);
    expect(flowsOf(added)[0].page).toEqual({ vendor: 'acme', title: 'Acme network requirements', url: 'https://acme.example/firewall' });

    const widened = await at('widen-list', 'add-service');
    expect(flowsOf(widened).map((f: any) => [f.id, f.change, f.addresses])).toEqual([
      ['boh-server/outbound/acme/api/tcp', 'widened', { added: ['10.0.0.0/8', '198.51.100.128/25'], removed: [] }],
    ]);
    expect(kinds(widened)).toEqual(['list-source-moved', 'wide-prefix']);

    const port = await at('change-port', 'widen-list');
    expect(flowsOf(port).map((f: any) => [f.change, f.ports])).toEqual([['widened', { added: ['8444-8600'], removed: [] }]]);
    expect(kinds(port)).toEqual(['wide-port-range']);

    const resolved = await at('re-resolve', 'change-port');
    expect(flowsOf(resolved).map((f: any) => [f.id, f.change, f.addresses, f.locks])).toEqual([
      ['pos-terminal/outbound/acme/api/tcp', 'changed', { added: ['203.0.113.20/32'], removed: ['203.0.113.10/32'] }, ['sites/store-1.lock.yaml']],
    ]);

    const moved = await at('move-class', 're-resolve');
    expect(flowsOf(moved).map((f: any) => [f.id, f.change])).toEqual([
      ['boh-server/outbound/acme/api/tcp', 'widened'],
      ['pos-terminal/outbound/acme/api/tcp', 'removed'],
    ]);
    expect(kinds(moved)).toEqual(['required-removed']);

    const reordered = await at('reorder-only', 'move-class');
    expect(reordered.policyChanged).toBe(false);
    expect(flowsOf(reordered)).toEqual([]);
    expect(reordered.flags).toEqual([]);
  });

  test('--base-dir compares two folders; a new inbound flow from anywhere is flagged', async () => {
    git(repo, ['checkout', '-q', 'start']);
    const before = path.join(repo, '..', `${path.basename(repo)}-before`);
    fs.cpSync(repo, before, { recursive: true, filter: (f) => !f.includes(`${path.sep}.git`) });
    git(repo, ['checkout', '-q', 'reorder-only']);
    const vendorFile = path.join(repo, 'catalog-local', 'vendors', 'acme.yaml');
    fs.appendFileSync(
      vendorFile,
      `  - id: kiosk
    name: Kiosk web page
    requirement: required
    deviceClasses: [boh-server]
    flows:
      - direction: inbound
        protocol: tcp
        ports: [80]
        addresses: [0.0.0.0/0]
`,
    );
    try {
      const r = await runInProcess(['diff', '--base-dir', before, '--format', 'json'], repo);
      expect(r.status).toBe(2);
      const cs = JSON.parse(r.stdout);
      expect(validateJson(cs)).toBe(true);
      expect(cs.summary.flowsAdded).toBe(2);
      expect(cs.flags.slice(0, 2).map((f: any) => [f.kind, f.flow])).toEqual([
        ['any-address', 'boh-server/inbound/acme/kiosk/tcp'],
        ['new-inbound', 'boh-server/inbound/acme/kiosk/tcp'],
      ]);
      const text = await runInProcess(['diff', '--base-dir', before], repo);
      expect(text.stdout).not.toMatch(/\u001b\[/);
      expect(text.stdout).toMatch(/^policy changes in 1 of 1 sites/);
      expect(text.stdout).toContain('addresses: +0.0.0.0/0');
    } finally {
      git(repo, ['checkout', '-q', '--', '.']);
    }
  });

  test('a bad revision is one line and exit 1; no change is exit 0', async () => {
    git(repo, ['checkout', '-q', 'start']);
    const bad = await runInProcess(['diff', '--base', 'no-such-ref'], repo);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unknown revision 'no-such-ref'/);
    const same = await runInProcess(['diff', '--base', 'start'], repo);
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/^no policy change/);
  });
});

describe('fwgen diff with a malformed base', () => {
  test('each problem names the base revision\'s file as REV:path, never as the working tree\'s', async () => {
    const repo = newRepo();
    commit(repo, 'broken', {
      'fwgen.yaml': `${workspaceText}catalog: [oops\n`,
      'sites/store-2.yaml': 'profile: { name: [x\n',
    });
    commit(repo, 'mended', { 'fwgen.yaml': workspaceText, 'sites/store-2.yaml': siteText.replace('store-1', 'store-2') });
    const workspaceBroken = await runInProcess(['diff', '--base', 'broken'], repo);
    expect(workspaceBroken.status).toBe(1);
    expect(workspaceBroken.stderr).toMatch(/^broken:fwgen\.yaml:\d+:\d+: .*\(in the base revision broken\)$/m);
    expect(workspaceBroken.stderr).not.toMatch(/^fwgen\.yaml:/m);

    commit(repo, 'site-broken', { 'fwgen.yaml': workspaceText, 'sites/store-2.yaml': 'profile: { name: [x\n' });
    commit(repo, 'site-mended', { 'sites/store-2.yaml': siteText.replace('store-1', 'store-2') });
    const siteBroken = await runInProcess(['diff', '--base', 'site-broken'], repo);
    expect(siteBroken.status).toBe(1);
    expect(siteBroken.stderr).toMatch(/^site-broken:sites\/store-2\.yaml:\d+:\d+: .*\(in the base revision site-broken\)$/m);
    expect(siteBroken.stderr).not.toMatch(/^sites\//m);
  });
});

describe('fwgen diff on a profile change', () => {
  test('a variable of the profile is named as the cause, beside the catalog flow', async () => {
    const make = (ranges: string) => {
      const root = tempDir('fwgen-diff-profile-');
      fs.mkdirSync(path.join(root, 'examples'));
      fs.writeFileSync(path.join(root, 'fwgen.yaml'), 'sites: [examples/*.yaml]\n');
      const text = fs.readFileSync(path.join(repoRoot, 'examples/ecommerce-web.yaml'), 'utf8');
      fs.writeFileSync(path.join(root, 'examples/ecommerce-web.yaml'), text.replace('[198.51.100.0/24, 2001:db8:100::/48]', ranges));
      fs.copyFileSync(path.join(repoRoot, 'examples/ecommerce-web.lock.yaml'), path.join(root, 'examples/ecommerce-web.lock.yaml'));
      return root;
    };
    const before = make('[198.51.100.0/24, 2001:db8:100::/48]');
    const after = make('[198.51.100.0/24, 198.51.101.0/24, 2001:db8:100::/48]');
    const r = await runInProcess(['diff', '--base-dir', before, '--format', 'json'], after);
    expect(r.status).toBe(2);
    const flows = JSON.parse(r.stdout).sites[0].flows;
    expect(flows.map((f: any) => [f.id, f.change, f.addresses.added])).toEqual([
      ['ecommerce-web-server/inbound/payment-gateway/merchant-callbacks/tcp', 'widened', ['198.51.101.0/24']],
      ['ecommerce-web-server/outbound/payment-gateway/back-office-access/tcp', 'widened', ['198.51.101.0/24']],
    ]);
    for (const f of flows) expect(f.origins).toContain('examples/ecommerce-web.yaml:17');
    expect(flows[0].origins.some((o: string) => o.startsWith('fwgen/catalog/vendors/payment-gateway.yaml:'))).toBe(true);
  });
});

describe('fwgen diff flags from locks and targets', () => {
  const site = (files: Record<string, string>) => {
    return writeTree({
      'fwgen.yaml': 'sites: [sites/*.yaml]\ncatalog: [catalog-local]\n',
      'catalog-local/vendors/acme.yaml': vendorText,
      'catalog-local/lists/acme-edge.yaml': listText,
      'sites/store-1.yaml': siteText,
      'sites/store-1.lock.yaml': lockText('203.0.113.10'),
      ...files,
    });
  };
  const flagsOf = async (head: string, base: string) => {
    const r = await runInProcess(['diff', '--base-dir', base, '--format', 'json'], head);
    expect(validateJson(JSON.parse(r.stdout))).toBe(true);
    return { status: r.status, flags: JSON.parse(r.stdout).flags.map((f: any) => [f.kind, f.message]) };
  };

  test('a name whose lookup failed, a name no longer pinned, a target limit now exceeded', async () => {
    const base = site({});
    const stale = site({ 'sites/store-1.lock.yaml': lockText('203.0.113.10', { staleIpv4: 'SERVFAIL at 2026-11-22T00:00:00Z' }) });
    expect(await flagsOf(stale, base)).toEqual({
      status: 2,
      flags: [['name-stale', 'api.acme.example: the last lookup failed; addresses are from an earlier one (IPv4: SERVFAIL at 2026-11-22T00:00:00Z)']],
    });
    // Per family: AAAA already failing at the base is not news, even with a newer reason; A failing now is.
    const v6 = ['2001:db8::10'];
    const v6Stale = site({ 'sites/store-1.lock.yaml': lockText('203.0.113.10', { ipv6: v6, staleIpv6: 'SERVFAIL at 2026-11-21T00:00:00Z' }) });
    const v6Again = site({ 'sites/store-1.lock.yaml': lockText('203.0.113.10', { ipv6: v6, staleIpv6: 'SERVFAIL at 2026-11-22T00:00:00Z' }) });
    expect(await flagsOf(v6Again, v6Stale)).toEqual({ status: 0, flags: [] });
    const bothStale = site({
      'sites/store-1.lock.yaml': lockText('203.0.113.10', { ipv6: v6, staleIpv4: 'SERVFAIL at 2026-11-22T00:00:00Z', staleIpv6: 'SERVFAIL at 2026-11-22T00:00:00Z' }),
    });
    expect(await flagsOf(bothStale, v6Stale)).toEqual({
      status: 2,
      flags: [['name-stale', 'api.acme.example: the last lookup failed; addresses are from an earlier one (SERVFAIL at 2026-11-22T00:00:00Z)']],
    });
    const unresolved = site({ 'sites/store-1.lock.yaml': lockText('203.0.113.10', { name: 'other.acme.example' }) });
    const u = await flagsOf(unresolved, base);
    expect(u.flags).toEqual([['name-unresolved', 'api.acme.example has no pinned addresses (run fwgen resolve)']]);
    const oneRule = { 'sites/store-1.yaml': siteText + 'targets:\n  aws:\n    maxRules: 1\n' };
    const quota = site({ ...oneRule, 'catalog-local/lists/acme-edge.yaml': listText + '  - 192.0.2.0/24\n' });
    const q = await flagsOf(quota, site(oneRule));
    expect(q.status).toBe(2);
    // One quota, one flag: the ansible target installs the aws files and repeats the limit.
    const limits = q.flags.filter((f: string[]) => f[0] === 'target-limit');
    expect(limits).toHaveLength(1);
    expect(limits[0][1]).toMatch(/^\[aws\] error: security group for boh-server: egress needs \d+ IPv4 rules.* \(also stops ansible\)$/);
  });
});
