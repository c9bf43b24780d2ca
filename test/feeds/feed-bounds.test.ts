import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { repoRoot } from '../helpers';
import { awsCloudfrontList, catalogCopy, snapshot, updaterFor } from './catalog-copy';
import { fixtureRoutes, useFeedServer, type FeedServer, type RawBody, type Route } from './server';

const feeds = useFeedServer();
let server: FeedServer;
beforeEach(() => (server = feeds()));
const update = updaterFor(feeds);

/** Peak resident memory of a process, in bytes, from its high-water mark in /proc. */
function peakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // gone
  }
}

/**
 * The real binary, run as a user runs it, its peak memory sampled from /proc until it exits
 * (the high-water mark only grows, so the last sample is the peak up to then).
 */
async function runMeasured(args: string[]): Promise<{ status: number | null; stderr: string; peak: number }> {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build`');
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let peak = 0;
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setInterval(() => {
    peak = Math.max(peak, peakRss(child.pid!) ?? 0);
  }, 5);
  const status = await new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  clearInterval(timer);
  return { status, stderr, peak };
}

const MB = 1024 * 1024;
const v4 = () => fixtureRoutes()['/ips-v4']!.body;

describe('caps: a document larger than the caps is refused while it downloads, in bounded memory', () => {
  // 1 MiB of zeros gzips to about 1 KiB; gzip streams may be concatenated, so 1,000 copies
  // of one small member are a 1 GiB body in about 1 MB on the wire.
  const member = zlib.gzipSync(Buffer.alloc(MB));
  const cases: Array<[string, string, Route, RegExp]> = [
    ['a gzip bomb (1 GiB from 1 MB)', '/ips-v4', { body: member, raw: { framing: 'length', encoding: 'gzip', repeat: 1000 } }, /the document passed 8 MiB \(--max-bytes\); if the feed really is that large, run again with a larger --max-bytes/],
    ['a 200 MB body', '/ips-v4', { body: Buffer.alloc(MB, 'x'), raw: { framing: 'length', repeat: 200 } }, /the document passed 8 MiB \(--max-bytes\)/],
    ['ten million lines', '/ips-v4', { body: Buffer.from('104.16.0.0/13\n'.repeat(10_000)), raw: { framing: 'chunked', repeat: 1000 } }, /the document holds more than 500000 lines \(--max-entries\); if the feed really is that large, run again with a larger --max-entries/],
    [
      // Just under both caps: 8 MB of JSON, 499,991 short strings, one outside Latin-1 so
      // every string is held two bytes a character: what the caps let through is parsed.
      'the largest JSON document the default caps let through',
      '/ip-ranges.json',
      { body: Buffer.from(`{"prefixes":["\u20ac${'x'.repeat(14)}",${`"${'x'.repeat(13)}",`.repeat(499_990)}"x"]}`), type: 'application/json', raw: { framing: 'length' } },
      /aws-cloudfront: refused, .*: the feed lists no addresses matching service CLOUDFRONT/,
    ],
    [
      'millions of JSON values',
      '/ip-ranges.json',
      { body: Buffer.from('{},'.repeat(100_000)), type: 'application/json', raw: { framing: 'chunked', repeat: 50 } },
      /the document holds more than 500000 JSON values \(--max-entries\)/,
    ],
  ];

  test.each(cases)('%s', async (_name, route, answer, message) => {
    const root = catalogCopy(route === '/ip-ranges.json' ? { 'aws-cloudfront.yaml': awsCloudfrontList } : {});
    const before = snapshot(root);
    server.routes[route] = answer;
    const id = route === '/ips-v4' ? 'cloudflare' : 'aws-cloudfront';
    const r = await runMeasured(['lists', 'update', id, '--catalog', root, '--source-base', server.base, '--tries', '1', '--timeout', '60000']);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`${id}: refused`);
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
    expect(r.peak).toBeGreaterThan(0);
    expect(r.peak).toBeLessThan(200 * MB);
  }, 60_000);

  test('a brotli bomb is stopped at the byte cap too', async () => {
    const root = catalogCopy();
    server.routes['/ips-v4'] = { body: zlib.brotliCompressSync(Buffer.alloc(10 * MB), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } }), raw: { framing: 'length', encoding: 'br' } };
    const r = await update(root, 'cloudflare');
    expect(r.stderr).toMatch(/the document passed 8 MiB \(--max-bytes\)/);
    expect(r.status).toBe(1);
  });

  test('the caps can be raised and lowered: the same feed passes or is refused by them', async () => {
    const root = catalogCopy();
    const lines = v4().trim().split('\n').length;
    const few = await update(root, 'cloudflare', '--max-entries', String(lines - 1));
    expect(few.stderr).toContain(`the document holds more than ${lines - 1} lines (--max-entries)`);
    expect(few.status).toBe(1);
    const small = await update(root, 'cloudflare', '--max-bytes', '100');
    expect(small.stderr).toContain('the document passed 100 bytes (--max-bytes)');
    expect(small.status).toBe(1);
    const enough = await update(root, 'cloudflare', '--max-entries', String(lines), '--max-bytes', '1k');
    expect(enough.stderr).toContain('cloudflare: unchanged');
    expect(enough.status).toBe(0);
  });

  test.each([
    [['--max-bytes', 'lots'], "--max-bytes takes a size such as 16M, 512k or 33554432, not 'lots'"],
    [['--max-bytes', '0'], '--max-bytes takes a size'],
    [['--max-entries', '0'], '--max-entries takes a whole number of at least 1'],
  ])('%j is a usage error', async (args, message) => {
    const root = catalogCopy();
    const r = await update(root, 'cloudflare', ...args);
    expect(r.stderr).toContain(message);
    expect(r.status).toBe(1);
    expect(server.hits).toEqual([]);
  });
});

describe('completeness: a document is taken only when its framing or its format says it is whole', () => {
  const text = Buffer.from(v4());
  const gz = zlib.gzipSync(text);
  const half = (b: Buffer) => Math.floor(b.length / 2);

  const refused: Array<[string, Route, RegExp]> = [
    ['Content-Length, cut short', { body: text, raw: { framing: 'length', cutAt: half(text) } }, /the connection closed before the \d+ bytes its Content-Length announced arrived; the document is incomplete/],
    ['chunked, cut mid-body', { body: text, raw: { framing: 'chunked', cutAt: half(text) } }, /the connection closed before the last chunk of its chunked body arrived/],
    ['chunked, every byte but no last chunk', { body: text, raw: { framing: 'chunked', cutAt: text.length } }, /the connection closed before the last chunk of its chunked body arrived/],
    ['close-delimited, cut short', { body: text, raw: { framing: 'close', cutAt: half(text) } }, /ends this line-by-line feed only by closing the connection|marked the end of this line-by-line feed only by closing the connection/],
    ['close-delimited, whole but unprovable', { body: text, raw: { framing: 'close' } }, /only by closing the connection \(no Content-Length, no chunked framing, no compression\)/],
    ['gzip, Content-Length cut short', { body: gz, raw: { framing: 'length', encoding: 'gzip', cutAt: half(gz) } }, /before the \d+ bytes its Content-Length announced arrived/],
    ['gzip, chunked without last chunk', { body: gz, raw: { framing: 'chunked', encoding: 'gzip', cutAt: half(gz) } }, /before the last chunk of its chunked body arrived/],
    ['gzip, close-delimited cut short', { body: gz, raw: { framing: 'close', encoding: 'gzip', cutAt: half(gz) } }, /the gzip stream is cut short; the document is incomplete/],
    ['gzip stream cut inside an honest Content-Length', { body: gz.subarray(0, half(gz)), raw: { framing: 'length', encoding: 'gzip' } }, /the gzip stream is cut short/],
    ['an unknown content coding', { body: text, raw: { framing: 'length', encoding: 'compress' } }, /a content coding fwgen does not read \('compress'\)/],
  ];

  test.each(refused)('refused: %s', async (_name, route, message) => {
    const root = catalogCopy();
    const before = snapshot(root);
    server.routes['/ips-v4'] = route;
    const r = await update(root, 'cloudflare');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('fwgen: 1 feed refused; nothing was written');
    expect(r.status).toBe(1);
    expect(snapshot(root)).toEqual(before);
  });

  const taken: Array<[string, RawBody, Buffer]> = [
    ['Content-Length', { framing: 'length' }, text],
    ['chunked with its last chunk', { framing: 'chunked' }, text],
    ['gzip, close-delimited: the gzip trailer ends it', { framing: 'close', encoding: 'gzip' }, gz],
    ['deflate, chunked', { framing: 'chunked', encoding: 'deflate' }, zlib.deflateSync(text)],
    ['br, Content-Length', { framing: 'length', encoding: 'br' }, zlib.brotliCompressSync(text)],
  ];
  test.each(taken)('taken: %s', async (_name, raw, body) => {
    const root = catalogCopy();
    server.routes['/ips-v4'] = { body, raw };
    const r = await update(root, 'cloudflare');
    expect(r.stderr).toContain('cloudflare: unchanged');
    expect(r.status).toBe(0);
  });

  describe('JSON is whole when it parses whole, whatever the framing', () => {
    const json = Buffer.from(fixtureRoutes()['/ip-ranges.json']!.body);
    const jgz = zlib.gzipSync(json);
    test.each<[string, RawBody, Buffer, RegExp | null]>([
      ['close-delimited, cut short', { framing: 'close', cutAt: half(json) }, json, /ip-ranges\.json: not JSON/],
      ['close-delimited gzip, cut short', { framing: 'close', encoding: 'gzip', cutAt: half(jgz) }, jgz, /the gzip stream is cut short/],
      ['Content-Length, cut short', { framing: 'length', cutAt: half(json) }, json, /Content-Length announced arrived/],
      ['chunked, no last chunk', { framing: 'chunked', cutAt: json.length }, json, /last chunk of its chunked body/],
      ['close-delimited, whole', { framing: 'close' }, json, null],
    ])('%s', async (_name, raw, body, message) => {
      const root = catalogCopy({ 'aws-cloudfront.yaml': awsCloudfrontList });
      server.routes['/ip-ranges.json'] = { body, type: 'application/json', raw };
      const r = await update(root, 'aws-cloudfront');
      if (message) {
        expect(r.stderr).toMatch(message);
        expect(r.status).toBe(1);
      } else {
        expect(r.stderr).toContain('aws-cloudfront: updated');
        expect(r.status).toBe(0);
      }
    });
  });
});
