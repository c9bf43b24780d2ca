import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
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

async function freePort(): Promise<number> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

/**
 * dnsmasq on 127.0.0.1 and a free port, answering only from the given records: no upstream
 * servers, no /etc/hosts, no resolv.conf. Names under `nxdomain` get NXDOMAIN.
 */
export async function startDnsmasq(records: DnsRecord[], nxdomain: string[] = [], port?: number): Promise<DnsServer> {
  port ??= await freePort();
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
  const address = `127.0.0.1:${port}`;
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([address]);
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${stderr}`);
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
