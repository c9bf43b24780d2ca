import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { DnsServer } from './dnsmasq';

/** What the responder does with one question. */
export type Reply =
  | { answers: Array<{ type: 'A' | 'AAAA' | 'CNAME'; name?: string; data: string; ttl?: number }> }
  | { rcode: 'SERVFAIL' | 'NXDOMAIN' | 'REFUSED' }
  /** Never answers: the query times out. */
  | { drop: true }
  /** Sets TC over UDP with no answers, so the client must retry over TCP. */
  | { truncate: true; answers: Array<{ type: 'A' | 'AAAA'; data: string; ttl?: number }> };

const RCODES = { SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

export type Behaviour = (name: string, type: string) => Reply;

/**
 * A DNS server on 127.0.0.1 whose every answer a test decides: SERVFAIL for one family,
 * silence for another, a thousand records, a truncated answer. It answers over UDP and,
 * unless `tcp: false`, over TCP on the same port (so a TCP retry is refused when off).
 */
export async function startResponder(behave: Behaviour, opts: { tcp?: boolean } = {}): Promise<DnsServer & { queries: string[] }> {
  const queries: string[] = [];
  const answer = (query: dnsPacket.Packet, overTcp: boolean): Buffer | undefined => {
    const q = query.questions?.[0];
    if (!q) return undefined;
    queries.push(`${q.type} ${q.name}${overTcp ? ' tcp' : ''}`);
    const reply = behave(q.name.toLowerCase(), q.type);
    if ('drop' in reply) return undefined;
    const base = { id: query.id, type: 'response' as const, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: [q] };
    // dns-packet takes the response code as the low four bits of the flags
    if ('rcode' in reply) return dnsPacket.encode({ ...base, flags: base.flags | RCODES[reply.rcode] } as dnsPacket.Packet);
    const answers = reply.answers.map((a) => ({ type: a.type, name: ('name' in a && a.name) || q.name, ttl: a.ttl ?? 300, class: 'IN' as const, data: a.data }));
    if ('truncate' in reply && !overTcp) {
      return dnsPacket.encode({ ...base, flags: base.flags | dnsPacket.TRUNCATED_RESPONSE, answers: [] } as dnsPacket.Packet);
    }
    return dnsPacket.encode({ ...base, answers } as dnsPacket.Packet);
  };

  const onMessage = (udp: dgram.Socket) => (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    let out: Buffer | undefined;
    try {
      out = answer(dnsPacket.decode(msg), false);
    } catch {
      return;
    }
    if (out) udp.send(out, rinfo.port, rinfo.address);
  };
  const serveTcp = (sock: net.Socket) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const out = answer(dnsPacket.decode(buf.subarray(2, 2 + len)), true);
        buf = buf.subarray(2 + len);
        if (out) {
          const framed = Buffer.alloc(2 + out.length);
          framed.writeUInt16BE(out.length, 0);
          out.copy(framed, 2);
          sock.write(framed);
        }
      }
    });
    sock.on('error', () => undefined);
  };

  // The UDP port is the kernel's choice; the same TCP port may be taken by another process on a
  // busy machine, so a clash picks another port rather than failing the test. With tcp: false the
  // port is still claimed once, so that a TCP retry meets no other process's listener.
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    udp.on('message', onMessage(udp));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const port = udp.address().port;
    const tcp = net.createServer(serveTcp);
    const listened = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      tcp.once('error', (err) => resolve(err));
      tcp.listen(port, '127.0.0.1', () => resolve(undefined));
    });
    if (listened) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (listened.code === 'EADDRINUSE' && attempt < 50) continue;
      throw listened;
    }
    if (opts.tcp === false) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    return server(port, udp, opts.tcp === false ? undefined : tcp);
  }

  function server(port: number, udp: dgram.Socket, tcp: net.Server | undefined): DnsServer & { queries: string[] } {
    return {
      address: `127.0.0.1:${port}`,
      queries,
      stop: async () => {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        if (tcp) await new Promise<void>((resolve) => tcp!.close(() => resolve()));
      },
    };
  }
}
