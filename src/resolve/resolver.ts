import { Resolver } from 'node:dns/promises';

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

async function lookup(resolver: Resolver, name: string): Promise<NameResult> {
  const [a, aaaa, cnames] = await Promise.all([
    settle<RecordWithTtl[]>(resolver.resolve4(name, { ttl: true })),
    settle<RecordWithTtl[]>(resolver.resolve6(name, { ttl: true })),
    cnameChain(resolver, name),
  ]);
  const result: NameResult = { name, ipv4: [], ipv6: [], cnames, notes: [] };
  const ttls: number[] = [];
  if (a.ok) {
    result.ipv4 = [...new Set(a.value.map((r) => r.address))].sort();
    ttls.push(...a.value.map((r) => r.ttl));
  }
  if (aaaa.ok) {
    result.ipv6 = [...new Set(aaaa.value.map((r) => r.address))].sort();
    ttls.push(...aaaa.value.map((r) => r.ttl));
  }
  if (ttls.length > 0) result.ttl = Math.min(...ttls);
  if (result.ipv4.length + result.ipv6.length === 0) {
    const failures = [a, aaaa].filter((r): r is { ok: false; code: string; why: string } => !r.ok);
    const hard = failures.find((f) => f.code !== 'ENODATA');
    result.error = hard ? hard.why : 'no A or AAAA record';
  } else {
    if (!a.ok) result.notes.push(a.code === 'ENODATA' ? 'no A record' : `A lookup: ${a.why}`);
    if (!aaaa.ok) result.notes.push(aaaa.code === 'ENODATA' ? 'no AAAA record' : `AAAA lookup: ${aaaa.why}`);
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
      results[i] = await lookup(resolver, names[i]!);
      done++;
      o.onDone?.(names[i]!, done, names.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, names.length)) }, worker));
  return results;
}
