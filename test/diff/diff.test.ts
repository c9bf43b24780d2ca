import Ajv from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expectGolden } from '../golden';
import { repoRoot, runInProcess as runFwgen, tempDir, type RunResult } from '../helpers';
import { commit, commitRendered, git, listText, lockText, newRenderedRepo, newRepo, siteText, vendorText, workspaceText, writeTree } from './fixture';

const goldenDir = path.join(repoRoot, 'test', 'golden', 'diff');

/** The line diff --base prints about the sites it did not render (test/workspace/incremental*.test.ts checks it). */
const SKIPPED_LINE = /^fwgen: [\d,]+ sites? unchanged since .*\n/m;

/** fwgen in this process, stderr without that line: these tests are about what diff reports, not what it skipped. */
async function runInProcess(args: string[], cwd: string): Promise<RunResult & { skipped?: string }> {
  const r = await runFwgen(args, cwd);
  const skipped = SKIPPED_LINE.exec(r.stderr)?.[0];
  return skipped === undefined ? r : { ...r, stderr: r.stderr.replace(SKIPPED_LINE, ''), skipped };
}
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

/** Each commit renders out/ as check requires: the base side is the policy snapshot it committed. */
describe('fwgen diff on a Git repository', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await newRenderedRepo();
    for (const c of cases) await commitRendered(repo, c.tag, c.files);
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

describe('the base side is the policy snapshot the base committed', () => {
  const policyFile = 'out/store-1/policy.json';
  let repo: string;
  beforeAll(async () => {
    repo = await newRenderedRepo();
  });
  afterEach(() => {
    git(repo, ['checkout', '-q', '-f', 'start']);
    git(repo, ['clean', '-q', '-fd']);
  });

  test('a revision against itself lists nothing and exits 0', async () => {
    const r = await runInProcess(['diff', '--base', 'HEAD', '--format', 'json'], repo);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    // Nothing changed since the base: its record stands for the site, which is not rendered.
    expect(r.skipped).toBe('fwgen: 1 site unchanged since HEAD (same inputs, same committed files), 0 rendered\n');
    const cs = JSON.parse(r.stdout);
    expect(validateJson(cs)).toBe(true);
    expect(cs.policyChanged).toBe(false);
    expect(cs.sites.map((s: any) => [s.site, s.status, s.flows, s.files])).toEqual([['store-1', 'unchanged', [], []]]);
    expect(cs.summary.filesChanged).toBe(0);
    expect(cs.flags).toEqual([]);
    expect(cs.catalogNotCompared).toEqual([]);
  });

  test("the head is rendered fresh: a stale or forged committed snapshot of the head hides nothing, and check calls it stale", async () => {
    const vendorFile = path.join(repo, 'catalog-local', 'vendors', 'acme.yaml');
    fs.writeFileSync(vendorFile, vendorText.replace('ports: [443]', 'ports: [443, 8443]'));
    // The pull request keeps the base's out/ (its policy.json says 443 only) and commits it.
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'open 8443, out/ not rendered']);
    const r = await runInProcess(['diff', '--base', 'start', '--format', 'json'], repo);
    expect(r.status).toBe(2);
    const flows = JSON.parse(r.stdout).sites[0].flows;
    expect(flows.map((f: any) => [f.id, f.change, f.ports.added])).toEqual([['pos-terminal/outbound/acme/api/tcp', 'widened', ['8443']]]);
    const check = await runInProcess(['check'], repo);
    expect(check.status).toBe(2);
    expect(check.stderr).toContain('store-1/policy.json (differs)');
  });

  test('a base without snapshots is rendered again with this catalog, and every format says so', async () => {
    const old = newRepo();
    fs.appendFileSync(path.join(old, 'sites', 'store-1.yaml'), '# Reviewed.\n');
    const json = await runInProcess(['diff', '--base', 'start', '--format', 'json'], old);
    expect(json.status).toBe(0);
    const note = 'catalog changes are not compared for store-1: the base has no policy snapshot for it';
    expect(json.stderr).toContain(`fwgen: ${note}`);
    const cs = JSON.parse(json.stdout);
    expect(validateJson(cs)).toBe(true);
    expect(cs.catalogNotCompared).toEqual(['store-1']);
    const md = await runInProcess(['diff', '--base', 'start', '--format', 'markdown'], old);
    expect(md.stdout).toContain('> **Note:** catalog changes are not compared for <code>store-1</code>: the base has no policy snapshot for it');
    const text = await runInProcess(['diff', '--base', 'start'], old);
    expect(text.stdout.split('\n')[1]).toBe(`note: ${note} (rendered by an fwgen that wrote no policy.json per site), so its base was rendered again with this fwgen and its catalog`);
  });

  /** Commits a base whose committed snapshot was changed by `edit`, and diffs the working tree against it. */
  const diffAgainstEdited = async (tag: string, edit: (text: string) => string) => {
    const file = path.join(repo, policyFile);
    fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', tag]);
    git(repo, ['tag', '-f', tag]);
    git(repo, ['checkout', '-q', '-f', 'start']);
    return runInProcess(['diff', '--base', tag], repo);
  };

  test.each([
    ['not JSON', (t: string) => t.slice(0, 200), /^not-json:out\/store-1\/policy\.json:\d+:\d+: /],
    ['a port that is not one', (t: string) => t.replace('"443"', '"https"'), /^bad-port:out\/store-1\/policy\.json:\d+:\d+: rules\[\d+\]\.ports\[0\]: "https" does not match/],
    ['a network that is not one', (t: string) => t.replace('"198.51.100.0/25"', '"198.51.100.0/99"'), /^bad-network:out\/store-1\/policy\.json:\d+:\d+: rules\[\d+\]\.networks\[0\]: /],
    ['an unknown field', (t: string) => t.replace('"version": 1,', '"version": 1,\n  "hide": true,'), /^unknown-field:out\/store-1\/policy\.json:3:3: hide: unknown field 'hide'/],
    ['a control character', (t: string) => t.replace('"Acme API"', '"Acme\\u001b[2J API"'), /^control:out\/store-1\/policy\.json:\d+:\d+: rules\[\d+\]\.serviceName: .*U\+001B/],
    // A port opened at the base by hand, digest left as it was: the head's 8443 would look old.
    ['an edit the digest does not cover', (t: string) => t.replace('"443"', '"443",\n        "8443"'), /^edited:out\/store-1\/policy\.json:\d+:\d+: digest: does not match the content/],
    ['another site', (t: string) => t.replace('"site": "store-1"', '"site": "store-2"'), /^other-site:out\/store-1\/policy\.json:1:1: site: the snapshot is of site 'store-2'/],
  ])('a base snapshot with %s is an error naming the base revision\'s file', async (_what, edit, message) => {
    const tag = /^\^([a-z-]+):/.exec(message.source)![1]!;
    const r = await diffAgainstEdited(tag, edit);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\nfwgen: \d+ problems?; nothing was written\n$/);
  });

  test('a base snapshot that is a symbolic link is refused, not followed', async () => {
    const outside = path.join(tempDir('fwgen-outside-'), 'policy.json');
    fs.copyFileSync(path.join(repo, policyFile), outside);
    fs.rmSync(path.join(repo, policyFile));
    fs.symlinkSync(outside, path.join(repo, policyFile));
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'link']);
    git(repo, ['tag', '-f', 'link']);
    git(repo, ['checkout', '-q', '-f', 'start']);
    const r = await runInProcess(['diff', '--base', 'link'], repo);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('link:out/store-1/policy.json: out/store-1/policy.json is a symbolic link; fwgen reads committed output only as plain files inside the workspace (in the base revision link)\n');
  });
});
