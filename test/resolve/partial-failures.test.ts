import * as fs from 'node:fs';
import * as path from 'node:path';
import { lockPathFor, readLock } from '../../src/resolve/lock';
import { answeredProfile, minimalVendor, runInProcess, tempCatalog } from '../helpers';
import { startResponder, type Behaviour } from '../dns/responder';

/**
 * A DNS server on loopback that misbehaves per family: A answers but AAAA gets SERVFAIL,
 * A times out but AAAA answers, a thousand records, a truncated answer whose TCP retry is
 * refused. Each family keeps its last good addresses, marked stale, and says so.
 */
const vendor = minimalVendor.replace('        domains: ["m{mid}.acme.example"]\n', '        domains: ["m{mid}.acme.example", "other.acme.example"]\n');
const good: Behaviour = (name, type) => {
  if (type === 'A') return { answers: [{ type: 'A', data: name.startsWith('m42') ? '192.0.2.1' : '192.0.2.9', ttl: 600 }] };
  if (type === 'AAAA') return { answers: [{ type: 'AAAA', data: name.startsWith('m42') ? '2001:db8::1' : '2001:db8::9', ttl: 600 }] };
  return { answers: [] };
};

describe('fwgen resolve when one address family fails', () => {
  let site = '';
  let profileFile = '';
  const resolve = (server: string, ...extra: string[]) =>
    runInProcess(['resolve', '--catalog', site, '-p', profileFile, '--server', server, '--timeout', '300', '--tries', '1', ...extra]);
  const lock = () => readLock(lockPathFor(profileFile)).lock;

  beforeEach(async () => {
    site = tempCatalog({ 'acme.yaml': vendor });
    profileFile = path.join(site, 'site.yaml');
    fs.writeFileSync(profileFile, answeredProfile);
    const dns = await startResponder(good);
    try {
      const r = await resolve(dns.address);
      expect(r.stderr).toMatch(/2 of 2 names resolved/);
    } finally {
      await dns.stop();
    }
  });

  test('A answers, AAAA gets SERVFAIL: new IPv4, the old IPv6 kept and marked stale, reported', async () => {
    const dns = await startResponder((name, type) =>
      name.startsWith('m42') && type === 'AAAA' ? { rcode: 'SERVFAIL' } : type === 'A' && name.startsWith('m42') ? { answers: [{ type: 'A', data: '192.0.2.2', ttl: 300 }] } : good(name, type),
    );
    try {
      const r = await resolve(dns.address);
      expect(r.stderr).toMatch(/^m42\.acme\.example: AAAA lookup: SERVFAIL; kept 1 IPv6 address from \S+, marked stale$/m);
      expect(r.status).toBe(1);
      const e = lock().names.get('m42.acme.example')!;
      expect(e.ipv4).toEqual(['192.0.2.2']);
      expect(e.ipv6).toEqual(['2001:db8::1']);
      expect(e.stale).toEqual({ ipv6: expect.stringMatching(/^AAAA lookup: SERVFAIL at \S+; addresses from \S+$/) });
      expect(lock().names.get('other.acme.example')!.stale).toBeUndefined();
      const out = await runInProcess(['render', '--catalog', site, '-p', profileFile, '-t', 'nftables', '-o', '-', '--only', 'pos-terminal.nft']);
      expect(out.status).toBe(0);
      expect(out.stdout).toContain('2001:db8::1');
      expect(out.stdout).toContain('192.0.2.2');
      expect(out.stderr).toMatch(/m42\.acme\.example: its addresses are stale \(IPv6: AAAA lookup: SERVFAIL at /);
    } finally {
      await dns.stop();
    }
  });

  test('A times out, AAAA answers: the old IPv4 kept and marked stale, new IPv6', async () => {
    const dns = await startResponder((name, type) =>
      name.startsWith('m42') && type === 'A' ? { drop: true } : type === 'AAAA' && name.startsWith('m42') ? { answers: [{ type: 'AAAA', data: '2001:db8::2' }] } : good(name, type),
    );
    try {
      const r = await resolve(dns.address);
      expect(r.stderr).toMatch(/^m42\.acme\.example: A lookup: timeout; kept 1 IPv4 address from \S+, marked stale$/m);
      const e = lock().names.get('m42.acme.example')!;
      expect(e).toMatchObject({ ipv4: ['192.0.2.1'], ipv6: ['2001:db8::2'] });
      expect(e.stale).toEqual({ ipv4: expect.stringMatching(/^A lookup: timeout at /) });
    } finally {
      await dns.stop();
    }
  });

  test('no AAAA record (NODATA) is an answer: the old IPv6 goes, nothing is stale', async () => {
    const dns = await startResponder((name, type) => (name.startsWith('m42') && type === 'AAAA' ? { answers: [] } : good(name, type)));
    try {
      const r = await resolve(dns.address);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/2 of 2 names resolved/);
      const e = lock().names.get('m42.acme.example')!;
      expect(e).toMatchObject({ ipv4: ['192.0.2.1'], ipv6: [] });
      expect(e.stale).toBeUndefined();
    } finally {
      await dns.stop();
    }
  });

  test('a stale family stays stale, with the time it was last fresh, over several failed runs', async () => {
    const failing: Behaviour = (name, type) => (name.startsWith('m42') && type === 'AAAA' ? { rcode: 'SERVFAIL' } : good(name, type));
    const first = lock().names.get('m42.acme.example')!.resolvedAt;
    for (let i = 0; i < 2; i++) {
      const dns = await startResponder(failing);
      try {
        await resolve(dns.address);
      } finally {
        await dns.stop();
      }
    }
    expect(lock().names.get('m42.acme.example')!.stale!.ipv6).toMatch(new RegExp(`; addresses from ${first.replace(/\./g, '\\.')}$`));
  });

  test('1,000 records: every address kept, a real TTL (node gives TTLs for the first 256 only)', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ type: 'A' as const, data: `198.51.${100 + (i >> 8)}.${i & 255}`, ttl: 45 }));
    const dns = await startResponder((name, type) => (name.startsWith('m42') && type === 'A' ? { answers: many } : good(name, type)));
    try {
      const r = await resolve(dns.address);
      expect(r.status).toBe(0);
      const text = fs.readFileSync(lockPathFor(profileFile), 'utf8');
      expect(text).not.toMatch(/nan/i);
      const e = lock().names.get('m42.acme.example')!;
      expect(e.ipv4).toHaveLength(1000);
      expect(e.ttl).toBe(45);
      const out = await runInProcess(['render', '--catalog', site, '-p', profileFile, '-t', 'nftables', '-o', '-', '--only', 'pos-terminal.nft']);
      expect(out.stderr).toMatch(/m42\.acme\.example: its DNS answers live 45 s/);
    } finally {
      await dns.stop();
    }
  });

  test('a truncated answer whose TCP retry is refused is reported as truncation', async () => {
    const dns = await startResponder(
      (name, type) => (name.startsWith('m42') && type === 'A' ? { truncate: true, answers: [{ type: 'A', data: '192.0.2.3' }] } : good(name, type)),
      { tcp: false },
    );
    try {
      const r = await resolve(dns.address);
      expect(r.stderr).toMatch(/^m42\.acme\.example: A lookup: answer truncated \(too large for UDP\) and the retry over TCP was refused; kept 1 IPv4 address/m);
      expect(r.stderr).not.toMatch(/connection refused/);
    } finally {
      await dns.stop();
    }
  });

  test('a server that is not there at all is still "connection refused"', async () => {
    const dns = await startResponder(good, { tcp: false });
    await dns.stop();
    const r = await resolve(dns.address);
    expect(r.stderr).toMatch(/m42\.acme\.example: (connection refused|timeout); kept 2 addresses/);
  });

  test('--note with a newline is refused; a plain note lands in the lock as data and a comment', async () => {
    const dns = await startResponder(good);
    try {
      const bad = await resolve(dns.address, '--note', 'x\nnames: {}');
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/^fwgen: --note takes one line of text/);
      const odd = 'a # b: c \'" {x} [y] & *z ! % @ `';
      const ok = await resolve(dns.address, '--note', odd);
      expect(ok.status).toBe(0);
      expect(lock().note).toBe(odd);
      expect(fs.readFileSync(lockPathFor(profileFile), 'utf8').split('\n').filter((l) => !l.startsWith('#') && l.includes('{x}'))).toHaveLength(1);
    } finally {
      await dns.stop();
    }
  });
});
