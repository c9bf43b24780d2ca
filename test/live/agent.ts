/**
 * The process that runs inside one test namespace (compiled on the fly, see agents.ts): it
 * holds the echo listeners of that namespace and sends the probes that start there. One line
 * of JSON in per request on stdin, one line out per answer on stdout.
 *
 * A probe passes only when its answer comes back: a TCP connect plus an echoed token, or a UDP
 * datagram echoed from the address it was sent to. ICMP echo is answered by the kernel and
 * sent by ping(8), since Node has no raw sockets.
 */
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import * as net from 'node:net';
import * as readline from 'node:readline';

export type Proto = 'tcp' | 'udp' | 'icmp';

export type AgentRequest =
  | { id: number; op: 'listen'; tcp: Array<[string, number]>; udp: Array<[string, number]> }
  | { id: number; op: 'probe'; proto: Proto; src: string; dst: string; port: number; timeout: number }
  | { id: number; op: 'lookup'; src: string; server: string; name: string; family: 'ipv4' | 'ipv6' };

export interface ListenAnswer {
  id: number;
  errors: string[];
}

export interface ProbeAnswer {
  id: number;
  passed: boolean;
  /** 'echo' when it passed; otherwise what happened: 'timeout', an errno code, ping's status. */
  detail: string;
}

export interface LookupAnswer {
  id: number;
  addresses: string[];
  /** The resolver's error code (ENOTFOUND, ETIMEOUT, ...) when the lookup failed. */
  error?: string;
}

function answer(a: ListenAnswer | ProbeAnswer | LookupAnswer): void {
  process.stdout.write(`${JSON.stringify(a)}\n`);
}

const family = (addr: string): 'udp4' | 'udp6' => (addr.includes(':') ? 'udp6' : 'udp4');

function listenTcp(addr: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer((sock) => {
      sock.on('error', () => sock.destroy());
      sock.on('data', (d) => sock.write(d));
    });
    server.once('error', (e) => resolve(`tcp ${addr}:${port}: ${e.message}`));
    server.listen({ host: addr, port, exclusive: true }, () => resolve(undefined));
  });
}

function listenUdp(addr: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(family(addr));
    sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
    sock.once('error', (e) => resolve(`udp ${addr}:${port}: ${e.message}`));
    sock.bind(port, addr, () => resolve(undefined));
  });
}

/**
 * A probe's deadline. The timeout is checked again after the event loop's poll phase, so an
 * answer that arrived while the loop was busy (spawning pings) is read before the probe is
 * declared dropped: timers run before I/O callbacks in Node's loop.
 */
function deadline(ms: number, expire: () => void): NodeJS.Timeout {
  return setTimeout(() => setImmediate(expire), ms);
}

function token(): string {
  return `fwgen-${process.pid}-${Math.random().toString(36).slice(2)}`;
}

function probeTcp(src: string, dst: string, port: number, timeout: number): Promise<string> {
  return new Promise((resolve) => {
    const t = token();
    let got = '';
    const sock = net.connect({ host: dst, port, localAddress: src });
    const done = (detail: string) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(detail);
    };
    const timer = deadline(timeout, () => done('timeout'));
    sock.on('connect', () => sock.write(t));
    sock.on('data', (d) => {
      got += d.toString();
      if (got.includes(t)) done('echo');
    });
    sock.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

function probeUdp(src: string, dst: string, port: number, timeout: number): Promise<string> {
  return new Promise((resolve) => {
    const t = token();
    const sock = dgram.createSocket(family(dst));
    const done = (detail: string) => {
      clearTimeout(timer);
      sock.close();
      resolve(detail);
    };
    const timer = deadline(timeout, () => done('timeout'));
    sock.on('message', (msg, rinfo) => {
      if (msg.toString() === t && rinfo.address === dst && rinfo.port === port) done('echo');
    });
    sock.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    sock.bind(0, src, () => sock.send(t, port, dst));
  });
}

/** Spawning is synchronous in Node: at most this many pings at once keep the loop responsive. */
const PINGS = 16;
let pinging = 0;
const waiting: Array<() => void> = [];

async function probeIcmp(src: string, dst: string, timeout: number): Promise<string> {
  if (pinging >= PINGS) await new Promise<void>((go) => waiting.push(go));
  pinging++;
  try {
    return await ping(src, dst, timeout);
  } finally {
    pinging--;
    waiting.shift()?.();
  }
}

function ping(src: string, dst: string, timeout: number): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn('ping', ['-n', '-q', '-c', '1', '-W', (timeout / 1000).toFixed(3), '-I', src, dst], { stdio: 'ignore' });
    p.on('error', (e) => resolve(`ping: ${e.message}`));
    p.on('exit', (code) => resolve(code === 0 ? 'echo' : `ping exit ${code}`));
  });
}

/** A lookup as a device makes it: from its own address, to the resolver it was given. */
async function lookup(src: string, server: string, name: string, family: 'ipv4' | 'ipv6'): Promise<Omit<LookupAnswer, 'id'>> {
  const r = new Resolver({ timeout: 1500, tries: 2 });
  if (src.includes(':')) r.setLocalAddress(undefined, src);
  else r.setLocalAddress(src);
  r.setServers([server]);
  try {
    return { addresses: family === 'ipv4' ? await r.resolve4(name) : await r.resolve6(name) };
  } catch (e) {
    return { addresses: [], error: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}

async function handle(req: AgentRequest): Promise<void> {
  if (req.op === 'lookup') {
    answer({ id: req.id, ...(await lookup(req.src, req.server, req.name, req.family)) });
    return;
  }
  if (req.op === 'listen') {
    const results = await Promise.all([...req.tcp.map(([a, p]) => listenTcp(a, p)), ...req.udp.map(([a, p]) => listenUdp(a, p))]);
    answer({ id: req.id, errors: results.filter((e): e is string => e !== undefined) });
    return;
  }
  const detail =
    req.proto === 'tcp'
      ? await probeTcp(req.src, req.dst, req.port, req.timeout)
      : req.proto === 'udp'
        ? await probeUdp(req.src, req.dst, req.port, req.timeout)
        : await probeIcmp(req.src, req.dst, req.timeout);
  answer({ id: req.id, passed: detail === 'echo', detail });
}

if (require.main === module) {
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== '') void handle(JSON.parse(line) as AgentRequest);
  });
  process.stdin.on('end', () => process.exit(0));
}
