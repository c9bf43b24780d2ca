import * as fs from 'node:fs';
import * as path from 'node:path';
import { isPublicSuffix } from '../../src/feeds/widening';
import { runInProcess } from '../helpers';
import { catalogCopy, listAt, snapshot, updaterFor } from './catalog-copy';
import { fixtureRoutes, startFeedServer, useFeedServer, type FeedServer } from './server';

const feeds = useFeedServer();
let server: FeedServer;
beforeEach(() => (server = feeds()));
const update = updaterFor(feeds);

const v4 = () => fixtureRoutes()['/ips-v4']!.body;
const v6 = () => fixtureRoutes()['/ips-v6']!.body;

/** The Microsoft 365 fixture with endpoint sets changed by `edit`. */
function m365Endpoints(edit: (sets: Array<Record<string, any>>) => void): string {
  const sets = JSON.parse(fixtureRoutes()['/endpoints/worldwide']!.body);
  edit(sets);
  return JSON.stringify(sets);
}

describe('a feed that widens a list is refused unless --accept-widening, which prints each widening', () => {
  const prefixCases: Array<[string, string, string, RegExp]> = [
    ['32.0.0.0/3', '/ips-v4', `${v4()}32.0.0.0/3\n`, /32\.0\.0\.0\/3 is wider than \/12, the widest new IPv4 prefix the list takes \(list\.feed\.widestPrefix\.ipv4\)/],
    ['16.0.0.0/4', '/ips-v4', `${v4()}16.0.0.0/4\n`, /16\.0\.0\.0\/4 is wider than \/12/],
    ['1.0.0.0/8', '/ips-v4', `${v4()}1.0.0.0/8\n`, /1\.0\.0\.0\/8 is wider than \/12/],
    ['2a00::/16', '/ips-v6', `${v6()}2a00::/16\n`, /2a00::\/16 is wider than \/24, the widest new IPv6 prefix the list takes \(list\.feed\.widestPrefix\.ipv6\)/],
  ];

  test.each(prefixCases)('a new prefix %s', async (prefix, route, body, message) => {
    const root = catalogCopy();
    const before = snapshot(root);
    server.routes[route] = { body, type: 'text/plain' };
    const refused = await update(root, 'cloudflare');
    expect(refused.stderr).toMatch(message);
    expect(refused.stderr).toMatch(/cloudflare: refused, .* the feed widens the list: .*; if that is right, run again with --accept-widening/);
    expect(refused.status).toBe(1);
    expect(snapshot(root)).toEqual(before);

    const taken = await update(root, 'cloudflare', '--accept-widening');
    expect(taken.stderr).toMatch(new RegExp(`^WARNING: cloudflare: widening taken because of --accept-widening: ${message.source}`, 'm'));
    expect(taken.status).toBe(0);
    expect(listAt(root, 'cloudflare').addresses).toContain(prefix);
    // Once the list holds it, the same feed is no widening.
    const again = await update(root, 'cloudflare');
    expect(again.stderr).toContain('cloudflare: unchanged');
    expect(again.status).toBe(0);
  });

  test('every widening is named, and --accept-widening prints each on its own line', async () => {
    const root = catalogCopy();
    server.routes['/ips-v4'] = { body: `${v4()}32.0.0.0/3\n16.0.0.0/4\n1.0.0.0/8\n`, type: 'text/plain' };
    const refused = await update(root, 'cloudflare');
    for (const p of ['32.0.0.0/3', '16.0.0.0/4', '1.0.0.0/8']) expect(refused.stderr).toContain(`${p} is wider than /12`);
    const taken = await update(root, 'cloudflare', '--accept-widening');
    expect(taken.stderr.split('\n').filter((l) => l.startsWith('WARNING: cloudflare: widening taken'))).toHaveLength(3);
    expect(taken.status).toBe(0);
  });

  test("a list's own widestPrefix allows what it says, and no more", async () => {
    const root = catalogCopy();
    const file = path.join(root, 'lists/cloudflare.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    format: cloudflare\n', '    format: cloudflare\n    widestPrefix: { ipv4: 8 }\n'));
    server.routes['/ips-v4'] = { body: `${v4()}1.0.0.0/8\n`, type: 'text/plain' };
    const ok = await update(root, 'cloudflare');
    expect(ok.stderr).toContain('cloudflare: updated (+1 -0 networks)');
    expect(ok.status).toBe(0);
    server.routes['/ips-v4'] = { body: `${v4()}1.0.0.0/8\n32.0.0.0/7\n`, type: 'text/plain' };
    const wide = await update(root, 'cloudflare');
    expect(wide.stderr).toContain('32.0.0.0/7 is wider than /8, the widest new IPv4 prefix the list takes');
    expect(wide.status).toBe(1);
  });

  test.each([
    ['*.co.uk', (s: Array<Record<string, any>>) => s[0]!.urls.push('*.co.uk'), /\*\.co\.uk \(endpoint set 1\) is a wildcard on the public suffix co\.uk/],
    ['a pattern widened to *.co.uk', (s: Array<Record<string, any>>) => s[0]!.urls.push('autodiscover.*.co.uk'), /\*\.co\.uk \(endpoint set 1\) is a wildcard on the public suffix co\.uk/],
    ['Microsoft 365 ports 1-65535', (s: Array<Record<string, any>>) => (s[0]!.tcpPorts = '1-65535'), /endpoint set 1 \(Exchange\) tcp ports 1-65535 are wider than the vendor file holds for it \(80,443\)/],
    ['a new endpoint set with a wide range', (s: Array<Record<string, any>>) => s.push({ id: 999, serviceArea: 'Exchange', category: 'Allow', required: true, urls: ['new.outlook.com'], udpPorts: '1024-65535' }), /endpoint set 999 \(Exchange\) udp ports 1024-65535 are wider than the vendor file holds for it \(none\)/],
  ])('%s', async (_name, edit, message) => {
    const root = catalogCopy();
    const before = snapshot(root);
    server.routes['/endpoints/worldwide'] = { body: m365Endpoints(edit), type: 'application/json' };
    const refused = await update(root, 'microsoft-365');
    expect(refused.stderr).toMatch(message);
    expect(refused.stderr).toContain('if that is right, run again with --accept-widening');
    expect(refused.status).toBe(1);
    expect(snapshot(root)).toEqual(before);

    const taken = await update(root, 'microsoft-365', '--accept-widening');
    expect(taken.stderr).toMatch(new RegExp(`^WARNING: microsoft-365: widening taken because of --accept-widening: ${message.source}`, 'm'));
    expect(taken.status).toBe(0);
    // The generated vendor file now holds it: the next run takes the same feed without the flag.
    const again = await update(root, 'microsoft-365');
    expect(again.stderr).not.toMatch(/WARNING|refused/);
    expect(again.status).toBe(0);
  });

  test('wildcards under a registrable domain are no widening; public suffixes are', () => {
    for (const base of ['co.uk', 'com', 'org', 'ac.jp', 'invalid']) expect(isPublicSuffix(base)).toBe(true);
    for (const base of ['outlook.com', 'sharepoint.com', '{tenant}.sharepoint.com', 'bbc.co.uk', 'cloudfront.net']) expect(isPublicSuffix(base)).toBe(false);
  });
});

describe('redirects', () => {
  test('a redirect to another host is said on stderr and recorded in the list file, and the record goes when the redirect does', async () => {
    const other = await startFeedServer();
    try {
      const root = catalogCopy();
      server.routes['/ips-v4'] = { status: 302, body: '', headers: { location: `${other.base}/ips-v4` } };
      const r = await update(root, 'cloudflare');
      expect(r.stderr).toContain(`NOTE: cloudflare: ${server.base}/ips-v4 redirected to another host, ${other.base}/ips-v4 (recorded in list.feed.redirects)`);
      expect(r.stderr).toContain('cloudflare: updated (+0 -0 networks)');
      expect(r.status).toBe(0);
      expect(other.hits).toEqual(['/ips-v4']);
      expect(listAt(root, 'cloudflare').list.feed.redirects).toEqual([{ from: `${server.base}/ips-v4`, to: `${other.base}/ips-v4` }]);
      const valid = await runInProcess(['validate', '--catalog', root]);
      expect(valid.stdout).toMatch(/^ok: /);

      server.routes = fixtureRoutes();
      const back = await update(root, 'cloudflare');
      expect(back.stderr).not.toContain('redirected');
      expect(back.status).toBe(0);
      expect(listAt(root, 'cloudflare').list.feed.redirects).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  test('a redirect on the same host is followed quietly', async () => {
    const root = catalogCopy();
    server.routes['/old/ips-v4'] = { status: 301, body: '', headers: { location: '/ips-v4' } };
    const r = await runInProcess(['lists', 'update', 'cloudflare', '--catalog', root, '--source-base', `${server.base}/old`, '--tries', '1']);
    expect(r.stderr).not.toContain('redirected');
    expect(r.status).toBe(1); // /old/ips-v6 is a 404: the point is the quiet hop on ips-v4
    expect(server.hits).toContain('/ips-v4');
  });

  test.each([
    ['a redirect loop', { status: 302, body: '', headers: { location: '/ips-v4' } }, /more than 5 redirects/],
    ['a redirect to another scheme', { status: 302, body: '', headers: { location: 'file:///etc/passwd' } }, /refused a redirect to file: \(only http and https are followed\)/],
  ])('%s is refused', async (_name, route, message) => {
    const root = catalogCopy();
    const before = snapshot(root);
    server.routes['/ips-v4'] = route;
    const r = await update(root, 'cloudflare');
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
  });
});

describe('what a feed or server says is shown escaped, one line per message', () => {
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  test('control characters, bidi overrides and line breaks in a feed line', async () => {
    const root = catalogCopy();
    server.routes['/ips-v4'] = { body: `${v4()}\u001b]0;owned\u0007 \u202eevil\u0000\u009b\r\n`, type: 'text/plain' };
    const r = await update(root, 'cloudflare');
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr).toContain('\\u{1b}]0;owned\\u{7} \\u{202e}evil\\u{0}\\u{9b}');
  });

  test('a multi-line version with escapes from the Microsoft 365 version service', async () => {
    const root = catalogCopy();
    server.routes['/version/worldwide'] = { body: JSON.stringify({ instance: 'Worldwide', latest: '2025103000\n\u001b[2KFAKE: all good\r\u0007\u202e' }), type: 'application/json' };
    const r = await update(root, 'microsoft-365');
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr.split('\n').some((l) => l.startsWith('FAKE'))).toBe(false);
    expect(r.stderr).toContain('feed version 2025103000 → 2025103000\\n\\u{1b}[2KFAKE: all good\\u{d}\\u{7}\\u{202e}');
    expect(r.status).toBe(0);
  });
});
