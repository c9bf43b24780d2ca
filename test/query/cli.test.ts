import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatLock, lockPathFor, readLock } from '../../src/resolve/lock';
import { examplesRoot, repoRoot, runBinary, runInProcess, tempDir } from '../helpers';

/**
 * fwgen query as a user runs it: the verdict and exit code, the deciding rule with its catalog
 * line, page citation and vendor page, names with the lock's addresses and stale marks, --json
 * for scripts, and one clear error (exit 1) for what it cannot answer.
 */

const aloha = path.join(examplesRoot, 'eu-restaurant-aloha.yaml');
const ecommerce = path.join(examplesRoot, 'ecommerce-web.yaml');
const alohaOut = path.join(repoRoot, 'out', 'eu-restaurant-aloha');

describe('fwgen query from the policy', () => {
  test('an allowed flow: exit 0, the rule, its catalog lines, the page cites and the vendor page', async () => {
    const r = await runInProcess(['query', '-p', aloha, '--from', 'order-entry-terminal', '--to', 'boh-server', '--port', '9054']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ALLOWED: tcp port 9054 from order-entry-terminal \(device class: 10\.20\.0\.32\/28, 2001:db8:20::20\/124\) to boh-server/);
    expect(r.stdout).toContain('site eu-restaurant-aloha (');
    expect(r.stdout).toContain('gateway mode');
    expect(r.stdout).toContain('  rule paytronix.aloha.order-entry-terminal.out.tcp: Paytronix, Paytronix for Aloha POS: order-entry-terminal outbound tcp 9054,9090\n');
    expect(r.stdout).toMatch(/    from .*catalog\/vendors\/paytronix\.yaml:305:9, page: Aloha POS, Ports \(BOH & Terminals\), Order Entry Terminals: "Incoming and Outgoing \(Socket Listening\): 9054"\n/);
    expect(r.stdout).toContain('    source: "Paytronix Security & Network Allowlist Guide"');
  });

  test("a dropped one: exit 3 and why; the profile's own flow names the profile's line", async () => {
    const drop = await runInProcess(['query', '-p', aloha, '--from', 'boh-server', '--to', '8.8.8.8', '--port', '22']);
    expect(drop.status).toBe(3);
    expect(drop.stdout).toMatch(/^DROPPED: tcp port 22 from boh-server/);
    expect(drop.stdout).toContain("10.20.0.10 -> 8.8.8.8: no rule allows it; the gateway drops what the site's classes are not allowed");
    const own = await runInProcess(['query', '-p', aloha, '--from', '192.0.2.5', '--to', 'boh-server', '--port', '3389']);
    expect(own.status).toBe(0);
    expect(own.stdout).toMatch(/rule site\.admin-rdp\.boh-server\.in\.tcp: .*\n    from examples\/eu-restaurant-aloha\.yaml:\d+:\d+\n    the profile's own flow\n/);
  });

  test('a class with IPv4 only, to a name with both families: only pairs of one family are asked', async () => {
    const r = await runInProcess(['query', '-p', aloha, '--from', '192.0.2.5', '--to', '2001:db8:20::10', '--port', '3389']);
    // The admin network is IPv4 only: from an IPv4 address to an IPv6 one there is no packet.
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no address of the same family/);
  });

  test('a host name: the addresses the lock pins for it, with its stale mark', async () => {
    const dir = tempDir('fwgen-query-');
    const profile = path.join(dir, 'site.yaml');
    fs.copyFileSync(aloha, profile);
    const { lock } = readLock(lockPathFor(aloha));
    const entry = lock.names.get('m40213.eu.api.pxsplatform.com')!;
    lock.names.set('m40213.eu.api.pxsplatform.com', { ...entry, stale: { ipv4: 'SERVFAIL from 192.0.2.53 at 2026-12-01T00:00:00Z, addresses from 2026-11-23' } });
    fs.writeFileSync(lockPathFor(profile), formatLock(lock, ['A test lock.']));
    const r = await runInProcess(['query', '-p', profile, '--from', 'boh-server', '--to', 'm40213.eu.api.pxsplatform.com', '--port', '443', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.names).toEqual([
      { name: 'm40213.eu.api.pxsplatform.com', addresses: ['198.51.100.29', '2001:db8:53::1d'], wildcard: false, ttl: 3600, stale: expect.stringContaining('SERVFAIL from 192.0.2.53'), inLock: true },
    ]);
    expect(j.policy.rules.map((x: { id: string }) => x.id)).toEqual(['paytronix.eu-rest-integrations.boh-server.out.tcp']);
    expect(j.policy.uncertain).toEqual([expect.stringMatching(/^the lock's addresses for m40213\.eu\.api\.pxsplatform\.com are from an earlier lookup: IPv4: SERVFAIL/)]);
    const text = await runInProcess(['query', '-p', profile, '--from', 'boh-server', '--to', 'm40213.eu.api.pxsplatform.com', '--port', '443']);
    expect(text.stdout).toContain('name m40213.eu.api.pxsplatform.com: 198.51.100.29, 2001:db8:53::1d (ttl 3600s) [STALE: IPv4: SERVFAIL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('host mode: a flow between two classes needs the sender\'s outbound and the receiver\'s inbound rule', async () => {
    const r = await runInProcess(['query', '-p', ecommerce, '--from', 'ecommerce-web-server', '--to', 'dns-resolver', '--port', '53', '--protocol', 'udp', '--json']);
    const j = JSON.parse(r.stdout);
    expect(j.mode).toBe('host');
    for (const p of j.policy.pairs) expect(p.reason).toMatch(/^(allowed by .* and .*|no (outbound|inbound) rule of .* allows it)/);
    expect(r.status).toBe(j.verdict === 'allow' ? 0 : 3);
  });

  test('traffic of no device class is not the site\'s: the gateway passes it, and says so', async () => {
    const r = await runInProcess(['query', '-p', aloha, '--from', '203.0.113.1', '--to', '198.51.100.1', '--port', '25']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('neither end is in a device class of the site');
  });

  test('a site of the workspace by name', async () => {
    const r = await runInProcess(['query', 'eu-restaurant-aloha', '--from', 'boh-server', '--to', '192.0.2.53', '--port', '53', '--protocol', 'udp'], repoRoot);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('rule site.resolvers.boh-server.out.udp');
  });
});

describe('fwgen query --file', () => {
  test('the deciding rule\'s file:line, the jump that led there, and the policy beside it', async () => {
    const files = ['rules.v4', 'ipsets', 'rules.v6'].flatMap((f) => ['--file', path.join(alohaOut, 'iptables', f)]);
    const r = await runInProcess(['query', '-p', aloha, '--from', 'boh-server', '--to', '104.16.0.1', '--port', '443', ...files]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Files: allowed\n  10.20.0.10 -> 104.16.0.1 (forward): accepted\n');
    expect(r.stdout).toMatch(/    via .*rules\.v4:8 \(chain filter FORWARD\): # Jump into them once.*iptables -I FORWARD -j FWGEN-FWD\n/);
    expect(r.stdout).toMatch(/    by .*rules\.v4:\d+ \(chain filter FWGEN-FWD\): -A FWGEN-FWD -s 10\.20\.0\.10\/32 -m set --match-set fwgen_paytronix_cloudflare_4 dst -p tcp -m tcp --dport 443/);
    expect(r.stdout).toContain("note: ");
  });

  test('a file without a site: addresses only, exit 3 for a drop, the chain policy when no rule decides', async () => {
    const nft = path.join(__dirname, 'fixtures', 'hand-written.nft');
    const r = await runInProcess(['query', '--file', nft, '--from', '203.0.113.9', '--to', '10.9.0.99', '--port', '25', '--hook', 'input', '--iif', 'eth0', '--json']);
    expect(r.status).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.files.pairs).toEqual([
      expect.objectContaining({ from: '203.0.113.9', to: '10.9.0.99', hook: 'input', verdict: 'drop', by: 'policy', chain: 'inet host input', rule: expect.objectContaining({ line: 55 }), certain: true }),
    ]);
    // The earlier table's chain accepted it first; its policy line is named too.
    expect(j.files.pairs[0].passed).toEqual([expect.objectContaining({ chain: 'ip early guard', by: 'policy', line: 11 })]);
    const cls = await runInProcess(['query', '--file', nft, '--from', 'boh-server', '--to', '10.9.0.99', '--port', '25']);
    expect(cls.status).toBe(1);
    expect(cls.stderr).toContain("--from 'boh-server': without a site (-p) only addresses are known");
  });

  test('an interface the packet may arrive on, when not known, makes the answer uncertain', async () => {
    const nft = path.join(alohaOut, 'nftables', 'fwgen.nft');
    const r = await runInProcess(['query', '--file', nft, '--from', '10.20.0.10', '--to', '104.16.0.1', '--port', '443', '--json']);
    const j = JSON.parse(r.stdout);
    expect(j.certain).toBe(false);
    expect(j.files.pairs[0].uncertain[0]).toMatch(/fwgen\.nft:\d+ \(drop\) might match, passed over: the packet's the incoming interface is not known|incoming interface/);
    const sure = await runInProcess(['query', '--file', nft, '--from', '10.20.0.10', '--to', '104.16.0.1', '--port', '443', '--iif', 'lan0', '--oif', 'wan0', '--json']);
    expect(JSON.parse(sure.stdout)).toMatchObject({ verdict: 'allow', certain: true });
  });

  test('host files with both ends in device classes: whose file it is must be said', async () => {
    const file = path.join(repoRoot, 'out', 'ecommerce-web', 'nftables', 'dns-resolver.nft');
    const r = await runInProcess(['query', '-p', ecommerce, '--file', file, '--from', 'ecommerce-web-server', '--to', 'dns-resolver', '--port', '53', '--protocol', 'udp']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('say whose file this is with --hook output');
    const input = await runInProcess(['query', '-p', ecommerce, '--file', file, '--from', 'ecommerce-web-server', '--to', 'dns-resolver', '--port', '53', '--protocol', 'udp', '--hook', 'input']);
    expect([0, 3]).toContain(input.status);
    expect(input.stdout).toMatch(/\(input\): (accepted|dropped)\n    by .*dns-resolver\.nft:\d+/);
  });

  test.each([
    [['--from', 'boh-server', '--to', '8.8.8.8'], '--port is needed for tcp'],
    [['--from', 'boh-server', '--to', '8.8.8.8', '--port', '22', '--protocol', 'icmp'], '--port does not go with --protocol icmp'],
    [['--from', 'boh-server', '--to', '8.8.8.8', '--port', '70000'], '--port takes a port number 0-65535 (got 70000)'],
    [['--from', 'kitchen', '--to', '8.8.8.8', '--port', '22'], "'kitchen' is neither a device class of eu-restaurant-aloha"],
    [['--from', '10.0.0.300', '--to', '8.8.8.8', '--port', '22'], "'10.0.0.300'"],
  ])('usage errors exit 1 with one message: %j', async (args, message) => {
    const r = await runInProcess(['query', '-p', aloha, ...args]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
  });

  test('a file it cannot read: file:line:col, exit 1, nothing on stdout', async () => {
    const dir = tempDir('fwgen-query-');
    const bad = path.join(dir, 'rules.v4');
    fs.writeFileSync(bad, '*filter\n:INPUT DROP [0:0]\n-A INPUT -s 10.0.0.0/40 -j ACCEPT\nCOMMIT\n');
    const r = await runInProcess(['query', '--file', bad, '--from', '10.0.0.1', '--to', '10.0.0.2', '--port', '22']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${bad}:3:13: -s: '10.0.0.0/40' is not a valid CIDR`);
    const missing = await runInProcess(['query', '--file', path.join(dir, 'nope'), '--from', '10.0.0.1', '--to', '10.0.0.2', '--port', '22']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('nope: no such file');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the binary: exit 0 allowed, 3 dropped', () => {
    const allowed = runBinary(['query', '-p', aloha, '--from', 'order-entry-terminal', '--to', 'boh-server', '--port', '9090', '--protocol', 'udp']);
    expect([allowed.status, allowed.stderr]).toEqual([0, '']);
    const dropped = runBinary(['query', '-p', aloha, '--from', 'order-entry-terminal', '--to', 'boh-server', '--port', '9091', '--protocol', 'udp', '--json']);
    expect(dropped.status).toBe(3);
    expect(JSON.parse(dropped.stdout).verdict).toBe('drop');
  });
});
