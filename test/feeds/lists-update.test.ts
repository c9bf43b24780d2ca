import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { catalogRoot, repoRoot, runInProcess, tempDir } from '../helpers';
import { awsCloudfrontList, catalogCopy as copyCatalog, listAt, snapshot } from './catalog-copy';
import { fixtureRoutes, PROXY_VARS, startFeedServer, startProxy, useFeedServer, type FeedServer, type Route } from './server';

/** Test lists beside the shipped ones: one per format and filter kind. */
const testLists: Record<string, string> = {
  'aws-cloudfront.yaml': awsCloudfrontList,
  'aws-ec2-eu-west-1.yaml': `list:
  id: aws-ec2-eu-west-1
  name: Amazon EC2 in eu-west-1
  source: { url: https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html, recorded: 2026-01-01 }
  feed:
    format: aws
    urls: [https://ip-ranges.amazonaws.com/ip-ranges.json]
    filter: { service: EC2, region: eu-west-1 }
addresses: [34.240.0.0/13]
`,
  'google.yaml': `list:
  id: google
  name: Google services
  source: { url: https://support.google.com/a/answer/10026322, recorded: 2026-01-01 }
  feed:
    format: google
    urls: [https://www.gstatic.com/ipranges/goog.json]
addresses: [8.8.8.0/24]
`,
  'gcp-europe-west1.yaml': `list:
  id: gcp-europe-west1
  name: Google Cloud europe-west1
  source: { url: https://cloud.google.com/compute/docs/faq, recorded: 2026-01-01 }
  feed:
    format: google
    urls: [https://www.gstatic.com/ipranges/cloud.json]
    filter: { scope: europe-west1 }
addresses: [34.76.0.0/14]
`,
};

const feeds = useFeedServer();
let server: FeedServer;
beforeEach(() => {
  server = feeds();
});

/** A copy of the shipped catalog plus the test lists: tests never touch the real one. */
const catalogCopy = (withTestLists = true) => copyCatalog(withTestLists ? testLists : {});

const update = (root: string, ...args: string[]) =>
  runInProcess(['lists', 'update', '--catalog', root, '--source-base', server.base, '--tries', '1', ...(args.includes('--timeout') ? [] : ['--timeout', '2000']), ...args]);

describe('fwgen lists update from each feed format', () => {
  test('every format updates its lists by its filter, records version and digest, and the catalog still validates', async () => {
    const root = catalogCopy();
    const r = await update(root);
    expect(r.stderr).not.toMatch(/refused/);
    expect(r.status).toBe(0);

    expect(listAt(root, 'aws-cloudfront').addresses).toEqual(['13.32.0.0/15', '13.35.0.0/16', '52.84.0.0/15', '54.239.128.0/18', '99.86.0.0/16', '2600:9000::/28']);
    expect(listAt(root, 'aws-ec2-eu-west-1').addresses).toEqual(['18.200.0.0/16', '34.240.0.0/13', '54.72.0.0/15', '2a05:d018::/36']);
    expect(listAt(root, 'gcp-europe-west1').addresses).toEqual(['8.34.208.0/23', '8.34.211.0/24', '23.251.128.0/20', '34.76.0.0/14', '2600:1900:4010::/44']);
    // goog.json: 8.8.4.0/24 and 8.8.8.0/24 stay apart (not adjacent), everything sorted.
    expect(listAt(root, 'google').addresses).toEqual([
      '8.8.4.0/24', '8.8.8.0/24', '8.34.208.0/20', '34.0.0.0/15', '142.250.0.0/15', '172.217.0.0/16', '216.58.192.0/19',
      '2001:4860::/32', '2404:6800::/32', '2a00:1450::/32',
    ]);

    const aws = listAt(root, 'aws-cloudfront').list.feed;
    expect(aws).toMatchObject({ format: 'aws', version: '1763596989', published: '2025-11-20-00-03-09' });
    expect(aws.fetched).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(aws.digest).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(listAt(root, 'google').list.feed).toMatchObject({ version: '1763654400000', published: '2025-11-20T08:00:00.000000' });
    expect(listAt(root, 'microsoft-365').list.feed).toMatchObject({ version: '2025103000' });
    expect(listAt(root, 'microsoft-365').list.feed.published).toBeUndefined();
    expect(r.stderr).toContain('aws-cloudfront: updated (+5 -0 networks), feed version 1763596989');

    // Cloudflare's feed equals the shipped list: nothing to write for it.
    expect(r.stderr).toContain('cloudflare: unchanged');
    expect(fs.readFileSync(path.join(root, 'lists/cloudflare.yaml'), 'utf8')).toBe(fs.readFileSync(path.join(catalogRoot, 'lists/cloudflare.yaml'), 'utf8'));

    // Two AWS lists, one download.
    expect(server.hits.filter((h) => h === '/ip-ranges.json')).toHaveLength(1);
    // The Microsoft 365 web service is asked for endpoints and version, with a client request id.
    expect(server.hits.filter((h) => h.startsWith('/endpoints/worldwide?clientrequestid='))).toHaveLength(1);
    expect(server.hits.filter((h) => h.startsWith('/version/worldwide?clientrequestid='))).toHaveLength(1);

    const v = await runInProcess(['validate', '--catalog', root]);
    // The shipped examples' deliberate any is reported as a warning; nothing else may be.
    expect(v.stderr.split('\n').filter((l) => l && !/: warning: \[policy\] allows any address/.test(l))).toEqual([]);
    expect(v.stdout).toMatch(/^ok: 6 vendors, 6 address lists/);
  });

  test('a second run changes nothing: every file byte-identical', async () => {
    const root = catalogCopy();
    expect((await update(root)).status).toBe(0);
    const before = snapshot(root);
    const r = await update(root);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('nothing changed');
    expect(snapshot(root)).toEqual(before);
  });

  test('a list changes when its feed does: comments and notes kept, fetch date and digest rewritten', async () => {
    const root = catalogCopy(false);
    server.routes['/ips-v6'] = { body: fixtureRoutes()['/ips-v6']!.body.replace('2c0f:f248::/32\n', ''), type: 'text/plain' };
    const r = await update(root, 'cloudflare');
    expect(r.stderr).toContain('cloudflare: updated (+0 -1 networks)');
    expect(r.status).toBe(0);
    const text = fs.readFileSync(path.join(root, 'lists/cloudflare.yaml'), 'utf8');
    expect(text.startsWith('# yaml-language-server: $schema=../schema/list.schema.json\n')).toBe(true);
    expect(text).not.toContain('2c0f:f248::/32');
    const { list, addresses } = parse(text);
    expect(addresses).toHaveLength(21);
    expect(list.notes[0]).toMatch(/^Paytronix's page points to this URL/);
    expect(list.feed.version).toBeUndefined(); // Cloudflare's text feed has none
    expect(list.source.recorded).toBe(list.feed.fetched);
    expect(server.hits).toEqual(['/ips-v4', '/ips-v6']);
  });

  test('--source-base keeps the feed path under a mirror path', async () => {
    const mirror = await startFeedServer('/mirror/feeds');
    try {
      const root = catalogCopy(false);
      const r = await runInProcess(['lists', 'update', 'cloudflare', '--catalog', root, '--source-base', `${mirror.base}/mirror/feeds/`]);
      expect(r.status).toBe(0);
      expect(mirror.hits).toEqual(['/mirror/feeds/ips-v4', '/mirror/feeds/ips-v6']);
    } finally {
      await mirror.close();
    }
  });

  test('an unknown list, or one without a feed, is a usage error', async () => {
    const root = catalogCopy(false);
    fs.writeFileSync(path.join(root, 'lists/static.yaml'), 'list:\n  id: static\n  name: Static\n  source: { url: https://example.com/, recorded: 2026-01-01 }\naddresses: [198.41.128.0/17]\n');
    const a = await update(root, 'nope');
    expect(a.status).toBe(1);
    expect(a.stderr).toContain("no list 'nope' (known: cloudflare, microsoft-365, static)");
    const b = await update(root, 'static');
    expect(b.status).toBe(1);
    expect(b.stderr).toContain("list 'static' (");
    expect(b.stderr).toContain('names no feed');
  });

  test('a hand-written vendor file of the same id is never overwritten', async () => {
    const root = catalogCopy(false);
    const text = fs.readFileSync(path.join(root, 'lists/microsoft-365.yaml'), 'utf8').replace('vendor: microsoft-365', 'vendor: paytronix');
    fs.writeFileSync(path.join(root, 'lists/microsoft-365.yaml'), text);
    const before = snapshot(root);
    const r = await update(root, 'microsoft-365');
    expect(r.stderr).toMatch(/microsoft-365: refused, .*vendors\/paytronix\.yaml was not generated by fwgen lists update; it is not overwritten/);
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
  });

  test('a list file with a bad address is reported at its place before anything is fetched', async () => {
    const root = catalogCopy(false);
    const file = path.join(root, 'lists/cloudflare.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('103.22.200.0/22', '103.22.200.1/22'));
    const r = await update(root);
    expect(r.stderr).toMatch(/lists\/cloudflare\.yaml:\d+:5: addresses\[1\]: '103\.22\.200\.1\/22' has host bits set/);
    expect(r.status).toBe(1);
    expect(server.hits).toEqual([]);
  });

  test('a filter key the format does not have is reported at its place in the list file', async () => {
    const root = catalogCopy(false);
    fs.writeFileSync(path.join(root, 'lists/bad.yaml'), testLists['aws-cloudfront.yaml']!.replace('id: aws-cloudfront', 'id: bad').replace('service: CLOUDFRONT', 'scope: CLOUDFRONT'));
    const r = await update(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/lists\/bad\.yaml:8:15: list\.feed\.filter\.scope: a aws feed has no field 'scope'; its entries are filtered by service, region, networkBorderGroup/);
    expect(server.hits).toEqual([]);
  });
});

describe('a bad feed is refused and every file kept byte-identical', () => {
  const v4 = () => fixtureRoutes()['/ips-v4']!.body;
  const cases: Array<[string, Record<string, Route | Route[]>, RegExp, string[]?]> = [
    ['HTTP 500', { '/ips-v4': { status: 500, body: 'oops' } }, /ips-v4: HTTP 500 Internal Server Error/],
    ['HTTP 404', { '/ips-v4': { status: 404, body: 'gone' } }, /ips-v4: HTTP 404 Not Found/],
    ['a timeout', { '/ips-v4': { body: v4(), delayMs: 3000 } }, /ips-v4: no answer within 500 ms/, ['--timeout', '500']],
    ['an HTML page', { '/ips-v4': { body: '<!DOCTYPE html><html><body>Sign in</body></html>', type: 'text/html' } }, /an HTML page, not the feed/],
    ['HTML sent as text/plain', { '/ips-v4': { body: '\n<html><body>portal</body></html>', type: 'text/plain' } }, /an HTML page, not the feed/],
    ['an empty answer', { '/ips-v4': { body: '' } }, /ips-v4: the server sent an empty document/],
    ['a line that is not a CIDR', { '/ips-v4': { body: `${v4()}not-an-address\n` } }, /line 16: 'not-an-address' is not an address or CIDR/],
    ['a private network', { '/ips-v4': { body: `${v4()}10.0.0.0/8\n` } }, /1 entry is not public unicast networks: 10\.0\.0\.0\/8 is private/],
    ['loopback', { '/ips-v4': { body: `${v4()}127.0.0.1\n` } }, /127\.0\.0\.1\/32 is loopback/],
    ['link-local', { '/ips-v6': { body: 'fe80::/10\n2400:cb00::/32\n' } }, /fe80::\/10 is linkLocal/],
    ['multicast', { '/ips-v4': { body: `${v4()}224.0.0.0/4\n` } }, /224\.0\.0\.0\/4 is multicast/],
    ['documentation addresses', { '/ips-v4': { body: `${v4()}192.0.2.0/24\n203.0.113.0/24\n` } }, /2 entries are not public unicast networks: 192\.0\.2\.0\/24 is reserved.*203\.0\.113\.0\/24 is reserved/],
    ['IPv6 documentation', { '/ips-v6': { body: `${fixtureRoutes()['/ips-v6']!.body}2001:db8::/32\n` } }, /2001:db8::\/32 is reserved/],
    ['a wide network over special ranges', { '/ips-v4': { body: `${v4()}64.0.0.0/2\n` } }, /64\.0\.0\.0\/2 is (carrierGradeNat|loopback) \(overlaps/],
    ['unique-local IPv6', { '/ips-v6': { body: 'fc00::/7\n' } }, /fc00::\/7 is uniqueLocal/],
    ['everything', { '/ips-v4': { body: '0.0.0.0/0\n' } }, /0\.0\.0\.0\/0 is unspecified/],
    ['a shrink past the limit', { '/ips-v4': { body: '104.16.0.0/13\n' } }, /the feed drops 6\d% of the IPv4 addresses the list covers \(more than 30%\); if that is right, run again with --accept-shrink/],
    ['one family gone', { '/ips-v6': { body: '2400:cb00::/32\n' } }, /drops 9\d% of the IPv6 addresses/],
  ];

  test.each(cases)('%s', async (_name, routes, message, extra = []) => {
    const root = catalogCopy(false);
    const before = snapshot(root);
    Object.assign(server.routes, routes);
    const r = await update(root, 'cloudflare', ...extra);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/cloudflare: refused, .*cloudflare\.yaml kept as it was: /);
    expect(r.stderr).toContain('fwgen: 1 feed refused; nothing was written');
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
    expect(fs.readdirSync(path.join(root, 'lists')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  const jsonCases: Array<[string, string, Route, RegExp]> = [
    ['AWS answering something else', 'aws-cloudfront', { body: '{"hello": "world"}', type: 'application/json' }, /no 'prefixes' array; this is not the expected feed format/],
    ['AWS answering broken JSON', 'aws-cloudfront', { body: '{"syncToken": "1", "prefixes": [', type: 'application/json' }, /not JSON/],
  ];
  test.each(jsonCases)('%s', async (_name, id, route, message) => {
    const root = catalogCopy();
    const before = snapshot(root);
    server.routes['/ip-ranges.json'] = route;
    const r = await update(root, id);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
  });

  test('a filter that matches nothing is an empty list, refused', async () => {
    const root = catalogCopy();
    const aws = JSON.parse(fixtureRoutes()['/ip-ranges.json']!.body);
    aws.prefixes = aws.prefixes.filter((p: { service: string }) => p.service !== 'CLOUDFRONT');
    aws.ipv6_prefixes = aws.ipv6_prefixes.filter((p: { service: string }) => p.service !== 'CLOUDFRONT');
    server.routes['/ip-ranges.json'] = { body: JSON.stringify(aws), type: 'application/json' };
    const before = snapshot(root);
    const r = await update(root, 'aws-cloudfront');
    expect(r.stderr).toContain('aws-cloudfront: refused');
    expect(r.stderr).toContain('the feed lists no addresses matching service CLOUDFRONT');
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
  });

  test('one bad feed among good ones: nothing at all is written', async () => {
    const root = catalogCopy();
    const before = snapshot(root);
    server.routes['/ipranges/cloud.json'] = { status: 503, body: 'busy' };
    const r = await update(root);
    expect(r.stderr).toContain('gcp-europe-west1: refused');
    expect(r.stderr).toContain('aws-cloudfront: updated');
    expect(r.stderr).toContain('fwgen: 1 feed refused; nothing was written');
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
  });

  test('a Microsoft 365 version service that fails keeps the list and the vendor file', async () => {
    const root = catalogCopy(false);
    const before = snapshot(root);
    server.routes['/version/worldwide'] = { status: 502, body: 'bad gateway' };
    const r = await update(root, 'microsoft-365');
    expect(r.stderr).toMatch(/microsoft-365: refused, .*\/version\/worldwide\?clientrequestid=[0-9a-f-]+: HTTP 502/);
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
  });

  test('--accept-shrink takes the shrink and says so loudly', async () => {
    const root = catalogCopy(false);
    server.routes['/ips-v4'] = { body: '104.16.0.0/13\n' };
    const r = await update(root, 'cloudflare', '--accept-shrink');
    expect(r.stderr).toMatch(/^WARNING: cloudflare: the feed drops 6\d% of the IPv4 addresses the list covers \(more than 30%\); taken because of --accept-shrink$/m);
    expect(r.status).toBe(0);
    expect(listAt(root, 'cloudflare').addresses.filter((a) => !a.includes(':'))).toEqual(['104.16.0.0/13']);
  });

  test('a 503 is tried again and the second answer taken', async () => {
    const root = catalogCopy(false);
    server.routes['/ips-v6'] = [{ status: 503, body: 'busy' }, { body: '2400:cb00::/32\n2405:8100::/32\n2405:b500::/32\n2606:4700::/32\n2803:f800::/32\n2a06:98c0::/29\n' }];
    const r = await runInProcess(['lists', 'update', 'cloudflare', '--catalog', root, '--source-base', server.base, '--tries', '2']);
    expect(r.stderr).toContain('cloudflare: updated (+0 -1 networks)');
    expect(r.status).toBe(0);
    expect(server.hits).toEqual(['/ips-v4', '/ips-v6', '/ips-v6']);
  });
});

describe('proxies from the environment', () => {
  afterEach(() => {
    for (const v of PROXY_VARS) delete process.env[v];
  });

  test('HTTP_PROXY carries the fetch to a host only the proxy reaches; NO_PROXY bypasses it', async () => {
    const proxy = await startProxy(server.port);
    try {
      const root = catalogCopy(false);
      // feeds.invalid resolves nowhere (RFC 6761): only the proxy can answer for it.
      process.env.HTTP_PROXY = proxy.url;
      const r = await runInProcess(['lists', 'update', 'cloudflare', '--catalog', root, '--source-base', 'http://feeds.invalid:8080', '--tries', '1']);
      expect(r.stderr).toContain('cloudflare: unchanged');
      expect(r.status).toBe(0);
      expect(proxy.requests.length).toBeGreaterThan(0);
      expect(proxy.requests.every((q) => /^(CONNECT feeds\.invalid:8080|GET http:\/\/feeds\.invalid:8080\/ips-v[46])$/.test(q))).toBe(true);
      expect(server.hits).toEqual(['/ips-v4', '/ips-v6']);

      proxy.requests.length = 0;
      process.env.NO_PROXY = 'feeds.invalid';
      const direct = await runInProcess(['lists', 'update', 'cloudflare', '--catalog', root, '--source-base', 'http://feeds.invalid:8080', '--tries', '1', '--timeout', '3000']);
      expect(direct.status).toBe(1);
      expect(direct.stderr).toContain('cloudflare: refused');
      expect(proxy.requests).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  test('HTTPS_PROXY tunnels an https feed with CONNECT (the real binary, trusting a test CA)', async () => {
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build`');
    const dir = tempDir('fwgen-tls-');
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=feeds.invalid', '-addext', 'subjectAltName=DNS:feeds.invalid'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl (Debian's openssl, installed by .ci/run) failed: ${made.stderr}${made.error ?? ''}`);
    const tls = await startFeedServer('', { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') });
    const proxy = await startProxy(tls.port);
    try {
      const root = catalogCopy(false);
      const env: NodeJS.ProcessEnv = { ...process.env, HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: cert };
      for (const v of ['HTTP_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']) delete env[v];
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), 'lists', 'update', 'cloudflare', '--catalog', root, '--source-base', 'https://feeds.invalid', '--tries', '1'], { env });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const status = await new Promise<number | null>((done) => child.on('close', done));
      expect(stderr).toContain('cloudflare: unchanged');
      expect(status).toBe(0);
      // One tunnel per connection; undici may keep one open for both documents.
      expect(new Set(proxy.requests)).toEqual(new Set(['CONNECT feeds.invalid:443']));
      expect(tls.hits).toEqual(['/ips-v4', '/ips-v6']);
    } finally {
      await proxy.close();
      await tls.close();
    }
  });
});
