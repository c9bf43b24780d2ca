import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { Resolver } from 'node:dns/promises';

/** A record the test DNS server answers with. */
export interface DnsRecord {
  name: string;
  ipv4?: string[];
  ipv6?: string[];
  ttl?: number;
  /** This name is an alias of `cname` (which must be a record too). */
  cname?: string;
}

export interface DnsServer {
  /** "127.0.0.1:PORT", as --server takes it. */
  address: string;
  stop(): Promise<void>;
}

export const dnsmasqAvailable = spawnSync('dnsmasq', ['--version']).status === 0;

/**
 * A port free on loopback for both UDP and TCP, as dnsmasq listens on both: the kernel's free
 * UDP port can be a TCP port some connection holds as its local end.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    const { port } = sock.address();
    const tcp = net.createServer();
    const tcpFree = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (tcpFree) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    await new Promise<void>((resolve) => sock.close(() => resolve()));
    if (tcpFree) return port;
  }
}

/**
 * dnsmasq on 127.0.0.1 and a free port, answering only from the given records: no upstream
 * servers, no /etc/hosts, no resolv.conf. Names under `nxdomain` get NXDOMAIN.
 */
export async function startDnsmasq(records: DnsRecord[], nxdomain: string[] = [], port?: number): Promise<DnsServer> {
  // Between a port found free and dnsmasq binding it, or between two servers a test starts on
  // the same port (a lock names the server that answered), another process can take the port
  // for a moment: a fresh port is picked again, a given one is tried again after a pause.
  for (let attempt = 1; ; attempt++) {
    const chosen = port ?? (await freePort());
    try {
      return await startOn(chosen, records, nxdomain);
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 10) throw err;
      if (port !== undefined) await new Promise((r) => setTimeout(r, 300));
    }
  }
}

class PortTaken extends Error {}

async function startOn(port: number, records: DnsRecord[], nxdomain: string[]): Promise<DnsServer> {
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--bind-interfaces',
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    '--pid-file=',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
  ];
  for (const r of records) {
    if (r.cname) {
      args.push(`--cname=${r.name},${r.cname}${r.ttl !== undefined ? `,${r.ttl}` : ''}`);
      continue;
    }
    const v4 = r.ipv4 ?? [];
    const v6 = r.ipv6 ?? [];
    // Without an upstream dnsmasq REFUSES the family a name has no record of; marking the
    // name local makes that a NODATA answer, as an authoritative server gives.
    if (v4.length === 0 || v6.length === 0) args.push(`--local=/${r.name}/`);
    for (let i = 0; i < Math.max(v4.length, v6.length); i++) {
      args.push(`--host-record=${r.name},${v4[i] ?? ''}${v6[i] !== undefined ? `,${v6[i]}` : ''}${r.ttl !== undefined ? `,${r.ttl}` : ''}`.replace(/,,/g, ','));
    }
  }
  for (const d of nxdomain) args.push(`--address=/${d}/`);
  const child: ChildProcess = spawn('dnsmasq', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const address = `127.0.0.1:${port}`;
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([address]);
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) {
      await closed; // all of its message, not what had arrived when it exited
      if (/address (already )?in use/i.test(stderr)) throw new PortTaken(`dnsmasq: port ${port} taken: ${stderr}`);
      throw new Error(`dnsmasq exited with status ${child.exitCode}: ${stderr}`);
    }
    try {
      await probe.resolve4(records[0]?.name ?? 'localhost');
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ECONNREFUSED' && code !== 'ETIMEOUT') break; // it answers, even if with no data
      if (Date.now() > deadline) throw new Error(`dnsmasq did not answer on ${address}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    address,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A UDP socket on loopback that takes queries and never answers: a server that times out. */
export async function silentServer(): Promise<DnsServer> {
  const sock = dgram.createSocket('udp4');
  sock.on('message', () => undefined);
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${sock.address().port}`,
    stop: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
