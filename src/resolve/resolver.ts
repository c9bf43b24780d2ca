import { Resolver } from 'node:dns/promises';
import * as net from 'node:net';
import { append } from '../util/append';

export interface ResolveOptions {
  /** "IP" or "IP:PORT" ("[v6]:PORT"); empty means the system's resolvers. */
  servers: string[];
  timeoutMs: number;
  tries: number;
  concurrency: number;
  onDone?: (name: string, done: number, total: number) => void;
}

export interface NameResult {
  name: string;
  ipv4: string[];
  ipv6: string[];
  ttl?: number;
  cnames: string[];
  /** Why no address came back (NXDOMAIN, timeout, SERVFAIL, ...); absent on success. */
  error?: string;
  /**
   * A family whose lookup failed (SERVFAIL, timeout, ...) while the other answered: its
   * addresses are unknown, not absent. A family with no record (NODATA) is an answer.
   */
  familyErrors: { ipv4?: string; ipv6?: string };
  /** Worth saying but not a failure: "no AAAA record". */
  notes: string[];
}

type RecordWithTtl = { address: string; ttl: number };

const REASONS: Record<string, string> = {
  ENOTFOUND: 'NXDOMAIN',
  ETIMEOUT: 'timeout',
  ESERVFAIL: 'SERVFAIL',
  EREFUSED: 'REFUSED',
  ECONNREFUSED: 'connection refused',
  ENODATA: 'no record',
};

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return REASONS[code] ?? code ?? String(err);
}

async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string; why: string }> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? '', why: reason(err) };
  }
}

/** Follows CNAMEs from `name` (at most 16 steps), returning the chain without the name itself. */
async function cnameChain(resolver: Resolver, name: string): Promise<string[]> {
  const chain: string[] = [];
  let current = name;
  for (let i = 0; i < 16; i++) {
    const r = await settle(resolver.resolveCname(current));
    if (!r.ok || r.value.length === 0) break;
    current = r.value[0]!.toLowerCase().replace(/\.$/, '');
    if (chain.includes(current)) break;
    chain.push(current);
  }
  return chain;
}

type Settled = Awaited<ReturnType<typeof settle<RecordWithTtl[]>>>;

/**
 * The smallest TTL of the answers. Node gives TTLs for the first 256 records of an answer
 * only (the rest come back without one), so records without a TTL are skipped rather than
 * turning the minimum into NaN.
 */
export function minTtl(records: ReadonlyArray<{ ttl?: unknown }>): number | undefined {
  let min: number | undefined;
  for (const r of records) {
    if (typeof r.ttl === 'number' && Number.isFinite(r.ttl) && r.ttl >= 0 && (min === undefined || r.ttl < min)) min = r.ttl;
  }
  return min;
}

/**
 * node reports "connection refused" both when the server is not there and when its answer
 * was truncated (too large for UDP) and the retry over TCP was refused. A small query over
 * UDP and a TCP connect tell the two apart.
 */
async function explainRefused(server: string | undefined): Promise<string | undefined> {
  if (!server) return undefined;
  const probe = new Resolver({ timeout: 1000, tries: 1 });
  probe.setServers([server]);
  const udp = await settle(probe.resolveSoa('.'));
  if (!udp.ok && (udp.code === 'ECONNREFUSED' || udp.code === 'ETIMEOUT')) return undefined;
  const { host, port } = hostAndPort(server);
  const tcpRefused = await new Promise<boolean>((resolve) => {
    const sock = net.connect({ host, port, timeout: 1000 });
    sock.once('connect', () => (sock.destroy(), resolve(false)));
    sock.once('timeout', () => (sock.destroy(), resolve(false)));
    sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
  return tcpRefused ? 'answer truncated (too large for UDP) and the retry over TCP was refused' : undefined;
}

/** Splits a server as node's resolver lists it: "IP", "IP:PORT", "[IPv6]:PORT" or a bare IPv6. */
function hostAndPort(server: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 53) };
  const colons = server.split(':').length - 1;
  if (colons === 1) return { host: server.split(':')[0]!, port: Number(server.split(':')[1]) };
  return { host: server, port: 53 };
}

async function lookup(resolver: Resolver, name: string, servers: string[]): Promise<NameResult> {
  const [a, aaaa, cnames] = await Promise.all([
    settle<RecordWithTtl[]>(resolver.resolve4(name, { ttl: true })),
    settle<RecordWithTtl[]>(resolver.resolve6(name, { ttl: true })),
    cnameChain(resolver, name),
  ]);
  for (const r of [a, aaaa]) {
    if (!r.ok && r.code === 'ECONNREFUSED') {
      const why = await explainRefused(servers[0]);
      if (why) r.why = why;
    }
  }
  const result: NameResult = { name, ipv4: [], ipv6: [], cnames, familyErrors: {}, notes: [] };
  const answered: RecordWithTtl[] = [];
  const family = (r: Settled, fam: 'ipv4' | 'ipv6', type: string) => {
    if (r.ok) {
      result[fam] = [...new Set(r.value.map((x) => x.address))].sort();
      append(answered, r.value);
    } else if (r.code === 'ENODATA') {
      result.notes.push(`no ${type} record`);
    } else {
      result.familyErrors[fam] = r.why;
    }
  };
  family(a, 'ipv4', 'A');
  family(aaaa, 'ipv6', 'AAAA');
  result.ttl = minTtl(answered);
  // A name-level failure when neither family said anything definite, or both said "none":
  // the earlier lock is kept whole. Otherwise each family stands on its own answer.
  const failed = [a, aaaa].filter((r): r is { ok: false; code: string; why: string } => !r.ok && r.code !== 'ENODATA');
  const nodata = [a, aaaa].filter((r) => !r.ok && r.code === 'ENODATA');
  if (failed.length === 2 || nodata.length === 2) {
    result.error = failed[0]?.why ?? 'no A or AAAA record';
    result.familyErrors = {};
    result.notes = [];
  }
  return result;
}

/**
 * Looks up A and AAAA for every name through node's resolver (the system's, or the given
 * servers), with a per-query timeout, retries and at most `concurrency` names at a time.
 */
export async function resolveNames(names: string[], o: ResolveOptions): Promise<NameResult[]> {
  const resolver = new Resolver({ timeout: o.timeoutMs, tries: o.tries });
  if (o.servers.length > 0) resolver.setServers(o.servers);
  const results: NameResult[] = new Array(names.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      results[i] = await lookup(resolver, names[i]!, resolver.getServers());
      done++;
      o.onDone?.(names[i]!, done, names.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, names.length)) }, worker));
  return results;
}
