import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { catalogRoot, runInProcess, tempDir } from '../helpers';
import { useFeedServer, type FeedServer } from './server';

// `fwgen lists update` inside a workspace: the lists of the workspace's own catalog folders
// are updated; the shipped catalog (here the repository's catalog/, outside the workspace,
// as an installed fwgen's is) is only read.

const feeds = useFeedServer();
let server: FeedServer;
beforeEach(() => {
  server = feeds();
});

const shipped = (rel: string) => fs.readFileSync(path.join(catalogRoot, rel), 'utf8');

/** Every file of a folder, by relative path: a byte-for-byte picture to compare. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else out[path.relative(root, full)] = fs.readFileSync(full, 'utf8');
    }
  };
  walk(root);
  return out;
}

const awsList = `list:
  id: aws-cloudfront
  name: Amazon CloudFront
  source: { url: https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html, recorded: 2026-01-01 }
  feed:
    format: aws
    urls: [https://ip-ranges.amazonaws.com/ip-ranges.json]
    filter: { service: CLOUDFRONT }
addresses: [13.32.0.0/15]
`;

/**
 * A workspace with two catalog folders (under a dot folder, as a checkout in ~/.cache may be):
 * `files` by path relative to the workspace root.
 */
function workspace(files: Record<string, string>): string {
  const root = path.join(tempDir('fwgen-lists-ws-'), '.work', 'fleet');
  const all: Record<string, string> = {
    'fwgen.yaml': 'sites:\n  - sites/*.yaml\ncatalog:\n  - catalog\n  - local/catalog\noutput: out\n',
    'catalog/vendors/README.md': 'own vendors\n',
    'local/catalog/lists/.keep': '',
    ...files,
  };
  for (const [rel, text] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

const update = (cwd: string, ...args: string[]) =>
  runInProcess(['lists', 'update', '--source-base', server.base, '--tries', '1', '--timeout', '2000', ...args], cwd);

describe('fwgen lists update in a workspace', () => {
  test("updates the lists of the workspace's own catalog folders; the shipped catalog stays byte-identical", async () => {
    const staleCloudflare = shipped('lists/cloudflare.yaml').replace('  - 2c0f:f248::/32\n', '');
    expect(staleCloudflare).not.toBe(shipped('lists/cloudflare.yaml'));
    const root = workspace({ 'catalog/lists/cloudflare.yaml': staleCloudflare, 'local/catalog/lists/aws-cloudfront.yaml': awsList });
    const shippedBefore = snapshot(catalogRoot);

    const r = await update(path.join(root, 'local')); // the nearest fwgen.yaml above the working folder
    expect(r.stderr).toContain('fwgen: catalog override: catalog/lists/cloudflare.yaml replaces fwgen/catalog/lists/cloudflare.yaml');
    expect(r.stderr).toContain('cloudflare: updated (+1 -0 networks)');
    expect(r.stderr).toContain('aws-cloudfront: updated (+5 -0 networks)');
    expect(r.stderr).toContain(`wrote ${path.join(root, 'catalog/lists/cloudflare.yaml')}`);
    expect(r.stderr).toContain('wrote catalog/lists/aws-cloudfront.yaml'); // from local/
    expect(r.status).toBe(0);

    expect(parse(fs.readFileSync(path.join(root, 'catalog/lists/cloudflare.yaml'), 'utf8')).addresses).toContain('2c0f:f248::/32');
    expect(parse(fs.readFileSync(path.join(root, 'local/catalog/lists/aws-cloudfront.yaml'), 'utf8')).addresses).toHaveLength(6);
    // The shipped Microsoft 365 list names a feed too, but is not this workspace's to update.
    expect(server.hits.filter((h) => !['/ips-v4', '/ips-v6', '/ip-ranges.json'].includes(h))).toEqual([]);
    expect(snapshot(catalogRoot)).toEqual(shippedBefore);

    // The workspace still validates as it loads: shipped catalog, then its folders.
    const v = await runInProcess(['validate'], root);
    expect(v.status).toBe(0);

    // A second run, named with --workspace from elsewhere, finds nothing to change.
    const again = await update(tempDir(), '--workspace', root);
    expect(again.stderr).toContain('nothing changed');
    expect(again.status).toBe(0);
  });

  test('a generated vendor file goes beside its list in the workspace, never into the shipped catalog', async () => {
    const root = workspace({ 'catalog/lists/microsoft-365.yaml': shipped('lists/microsoft-365.yaml') });
    const shippedBefore = snapshot(catalogRoot);
    const r = await update(root);
    expect(r.stderr).toContain('microsoft-365: vendor file catalog/vendors/microsoft-365.yaml updated');
    expect(r.status).toBe(0);
    const made = fs.readFileSync(path.join(root, 'catalog/vendors/microsoft-365.yaml'), 'utf8');
    expect(made).toMatch(/^# Generated by `fwgen lists update microsoft-365`/m);
    // Editors find the schema in the shipped catalog.
    expect(made.split('\n')[0]).toBe(`# yaml-language-server: $schema=${path.relative(path.join(root, 'catalog/vendors'), path.join(catalogRoot, 'schema'))}/vendor.schema.json`);
    expect((await runInProcess(['validate'], root)).status).toBe(0);
    expect(snapshot(catalogRoot)).toEqual(shippedBefore);
  });

  test('a vendor file is never written where a hand-written one, or a later folder, would win over it', async () => {
    const m365 = shipped('lists/microsoft-365.yaml');
    const handWritten = workspace({ 'catalog/lists/microsoft-365.yaml': m365.replace('vendor: microsoft-365', 'vendor: paytronix') });
    const before = snapshot(handWritten);
    const a = await update(handWritten);
    expect(a.stderr).toContain('fwgen/catalog/vendors/paytronix.yaml was not generated by fwgen lists update; it is not overwritten');
    expect(a.status).toBe(1);
    expect(snapshot(handWritten)).toEqual(before);

    const hidden = workspace({ 'catalog/lists/microsoft-365.yaml': m365, 'local/catalog/vendors/microsoft-365.yaml': shipped('vendors/microsoft-365.yaml') });
    const before2 = snapshot(hidden);
    const b = await update(hidden);
    expect(b.stderr).toContain('local/catalog/vendors/microsoft-365.yaml replaces catalog/vendors/microsoft-365.yaml, so the update would not be seen');
    expect(b.status).toBe(1);
    expect(snapshot(hidden)).toEqual(before2);
  });

  test('a refused feed leaves the layer file byte-identical', async () => {
    const root = workspace({ 'local/catalog/lists/aws-cloudfront.yaml': awsList, 'catalog/lists/cloudflare.yaml': shipped('lists/cloudflare.yaml').replace('  - 2c0f:f248::/32\n', '') });
    const before = snapshot(root);
    server.routes['/ip-ranges.json'] = { status: 500, body: 'oops' };
    const r = await update(root);
    expect(r.stderr).toContain('aws-cloudfront: refused, local/catalog/lists/aws-cloudfront.yaml kept as it was: ');
    expect(r.stderr).toContain('cloudflare: updated');
    expect(r.stderr).toContain('fwgen: 1 feed refused; nothing was written');
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
  });

  test('a shrink is refused in a layer too, and taken with --accept-shrink', async () => {
    const root = workspace({ 'catalog/lists/cloudflare.yaml': shipped('lists/cloudflare.yaml') });
    const before = snapshot(root);
    server.routes['/ips-v4'] = { body: '104.16.0.0/13\n' };
    const refused = await update(root);
    expect(refused.stderr).toMatch(/cloudflare: refused, catalog\/lists\/cloudflare\.yaml kept as it was: the feed drops/);
    expect(refused.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
    const taken = await update(root, '--accept-shrink');
    expect(taken.stderr).toMatch(/^WARNING: cloudflare: .*taken because of --accept-shrink$/m);
    expect(taken.status).toBe(0);
  });

  test('no feed in the layers: says so, explains how to keep a shipped list current, exit 0', async () => {
    const root = workspace({});
    const before = snapshot(root);
    const r = await update(root);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("no list in the workspace's catalog folders (catalog, local/catalog) names a feed (list.feed); nothing to update");
    expect(r.stderr).toContain('The lists shipped with fwgen that name a feed (cloudflare, microsoft-365)');
    expect(r.stderr).toContain("copy it into a catalog folder's lists/ (a file of the same name replaces the shipped one)");
    expect(r.stderr).toContain(`mkdir -p local/catalog/lists && cp ${path.join(catalogRoot, 'lists/cloudflare.yaml')} local/catalog/lists/`);
    expect(server.hits).toEqual([]);
    expect(snapshot(root)).toEqual(before);

    // Naming a shipped list is an error that says the same.
    const named = await update(root, 'cloudflare');
    expect(named.status).toBe(1);
    expect(named.stderr).toContain("list 'cloudflare' (");
    expect(named.stderr).toContain('is the one shipped with fwgen, not a file of this workspace');
  });

  test('--catalog inside a workspace works on that catalog alone, as outside one', async () => {
    const root = workspace({});
    const cat = tempDir('fwgen-lists-cat-');
    fs.cpSync(catalogRoot, cat, { recursive: true });
    fs.writeFileSync(path.join(cat, 'lists/cloudflare.yaml'), shipped('lists/cloudflare.yaml').replace('  - 2c0f:f248::/32\n', ''));
    const r = await update(root, 'cloudflare', '--catalog', cat);
    expect(r.stderr).toContain('cloudflare: updated (+1 -0 networks)');
    expect(r.status).toBe(0);
  });
});
