import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export const fixturesDir = path.join(__dirname, 'fixtures');

/** What the test server answers on one path. */
export interface Route {
  status?: number;
  body: string | Buffer;
  type?: string;
  /** Wait this long before answering (a feed that hangs). */
  delayMs?: number;
  /** More response headers (a redirect's Location). */
  headers?: Record<string, string>;
  /** Written on the socket by hand, to control how the body's end is told and where the connection is cut. */
  raw?: RawBody;
}

/**
 * A response written byte by byte: `length` announces the whole body's Content-Length,
 * `chunked` sends chunks and (unless cut) the last chunk, `close` ends the body only by
 * closing the connection. The body is `body` sent `repeat` times, with backpressure, so a
 * test can send 200 MB without holding it. `cutAt` ends the connection cleanly (FIN) after
 * that many body bytes, whatever the framing promised.
 */
export interface RawBody {
  framing: 'length' | 'chunked' | 'close';
  /** The Content-Encoding header; the body is already encoded. */
  encoding?: string;
  repeat?: number;
  cutAt?: number;
}

/** Writes one piece, waiting for the socket to drain; false once the client has gone. */
function writeWhenReady(socket: net.Socket, data: Buffer | string): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(false);
  if (socket.write(data)) return Promise.resolve(true);
  return new Promise((done) => {
    const finish = (ok: boolean) => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      done(ok);
    };
    const onDrain = () => finish(true);
    const onClose = () => finish(false);
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}

async function sendRaw(socket: net.Socket, route: Route & { raw: RawBody }): Promise<void> {
  const { framing, encoding, repeat = 1, cutAt } = route.raw;
  const body = Buffer.from(route.body);
  const total = body.length * repeat;
  const head = [`HTTP/1.1 ${route.status ?? 200} ${http.STATUS_CODES[route.status ?? 200]}`, `Content-Type: ${route.type ?? 'text/plain'}`];
  if (encoding) head.push(`Content-Encoding: ${encoding}`);
  if (framing === 'length') head.push(`Content-Length: ${total}`);
  if (framing === 'chunked') head.push('Transfer-Encoding: chunked');
  if (framing === 'close') head.push('Connection: close');
  if (!(await writeWhenReady(socket, `${head.join('\r\n')}\r\n\r\n`))) return;
  const limit = Math.min(cutAt ?? total, total);
  let sent = 0;
  while (sent < limit) {
    const piece = body.subarray(0, Math.min(body.length, limit - sent));
    const framed = framing === 'chunked' ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
    if (!(await writeWhenReady(socket, framed))) return;
    sent += piece.length;
  }
  if (framing === 'chunked' && cutAt === undefined) await writeWhenReady(socket, '0\r\n\r\n');
  socket.end();
}

/** Each fixture under the path its real feed has, so --source-base keeps the path. */
export function fixtureRoutes(): Record<string, Route & { body: string }> {
  const read = (f: string) => fs.readFileSync(path.join(fixturesDir, f), 'utf8');
  const json = (f: string): Route & { body: string } => ({ body: read(f), type: 'application/json' });
  return {
    '/ips-v4': { body: read('cloudflare/ips-v4'), type: 'text/plain' },
    '/ips-v6': { body: read('cloudflare/ips-v6'), type: 'text/plain' },
    '/ip-ranges.json': json('aws/ip-ranges.json'),
    '/ipranges/goog.json': json('google/goog.json'),
    '/ipranges/cloud.json': json('google/cloud.json'),
    '/endpoints/worldwide': json('microsoft-365/endpoints-worldwide.json'),
    '/version/worldwide': json('microsoft-365/version-worldwide.json'),
  };
}

export interface FeedServer {
  base: string;
  port: number;
  /** Paths asked for, in order (query strings kept). */
  hits: string[];
  /** Routes by path; tests change them between runs. A route may be a list: one answer per request, the last repeated. */
  routes: Record<string, Route | Route[]>;
  close(): Promise<void>;
}

/** An HTTP server on loopback (HTTPS with `tls`) that serves the routes; anything else is a 404. */
export async function startFeedServer(prefix = '', tls?: { cert: string; key: string }): Promise<FeedServer> {
  const state: FeedServer = { base: '', port: 0, hits: [], routes: fixtureRoutes(), close: async () => undefined };
  const counts = new WeakMap<object, number>(); // per route object: a new route starts from its first answer
  const handler: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    state.hits.push(`${url.pathname}${url.search}`);
    const key = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname;
    const r = state.routes[key];
    const n = r ? (counts.get(r) ?? 0) : 0;
    if (r) counts.set(r, n + 1);
    const route = Array.isArray(r) ? r[Math.min(n, r.length - 1)] : r;
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const send = () => {
      if (res.destroyed) return;
      if (route.raw) {
        void sendRaw(req.socket, route as Route & { raw: RawBody });
        return;
      }
      res.writeHead(route.status ?? 200, { 'content-type': route.type ?? 'text/plain', ...route.headers }).end(route.body);
    };
    if (route.delayMs) setTimeout(send, route.delayMs);
    else send();
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  state.port = port;
  state.base = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  state.close = () =>
    new Promise((done) => {
      server.closeAllConnections();
      server.close(() => done());
    });
  return state;
}

export interface Proxy {
  url: string;
  /** What clients asked the proxy for: "CONNECT host:port" or "GET absolute-url". */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A forward proxy on loopback that sends every request to `upstreamPort` on loopback,
 * whatever host the client named: a feed host that exists nowhere is reached only through it.
 * It tunnels CONNECT (what undici's proxy agent uses) and forwards absolute-form requests.
 */
export async function startProxy(upstreamPort: number): Promise<Proxy> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '/');
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  const tunnels = new Set<net.Socket>();
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    requests.push(`CONNECT ${req.url}`);
    tunnels.add(socket);
    const up = net.connect(upstreamPort, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((done) => {
        for (const t of tunnels) t.destroy();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** The environment variables a fetch takes a proxy from. */
export const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

/**
 * A feed server for the tests of one file: started before them, closed after them, its routes
 * and hits reset before each. A proxy set on the machine must not carry the loopback tests
 * anywhere, so the proxy variables are cleared meanwhile.
 */
export function useFeedServer(): () => FeedServer {
  const savedEnv: Record<string, string | undefined> = {};
  let server: FeedServer | undefined;
  beforeAll(async () => {
    for (const v of PROXY_VARS) {
      savedEnv[v] = process.env[v];
      delete process.env[v];
    }
    server = await startFeedServer();
  });
  afterAll(async () => {
    await server?.close();
    for (const v of PROXY_VARS) if (savedEnv[v] !== undefined) process.env[v] = savedEnv[v];
  });
  beforeEach(() => {
    server!.routes = fixtureRoutes();
    server!.hits.length = 0;
  });
  return () => server!;
}
