import * as fs from 'node:fs';
import * as path from 'node:path';
import { lockPathFor, readLock } from '../../src/resolve/lock';
import { minimalVendor, runInProcess, tempCatalog } from '../helpers';
import { required } from '../conformance/validators';
import { dnsmasqAvailable, silentServer, startDnsmasq, type DnsRecord } from '../dns/dnsmasq';

const vendor = minimalVendor.replace(
  '        domains: ["m{mid}.acme.example"]\n',
  '        domains: ["m{mid}.acme.example", "alias.acme.example", "fast.acme.example", "v4only.acme.example"]\n        maxTtl: 60\n',
) + `  - id: portal
    name: Acme portal
    requirement: required
    deviceClasses: [pos-terminal]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [443]
        domains: ["*.portal.acme.example"]
  - id: extras
    name: Acme extras
    requirement: optional
    deviceClasses: [pos-terminal]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [8443]
        domains: ["gone.acme.example"]
`;

const profile = `profile:
  name: acme-site
region: eu
environment: production
vendors:
  acme:
    include: [extras]
    variables: { mid: "42" }
deviceClasses:
  pos-terminal:
    addresses: [10.0.0.0/24]
acknowledge:
  - { check: management-access, deviceClass: pos-terminal, reason: A test site that is never applied }
  - { check: dns-lookup, deviceClass: pos-terminal, reason: A test site that is never applied }
`;

const records: DnsRecord[] = [
  { name: 'm42.acme.example', ipv4: ['192.0.2.1', '192.0.2.2'], ipv6: ['2001:db8::1'], ttl: 3600 },
  { name: 'alias.acme.example', cname: 'edge.cdn.example', ttl: 600 },
  { name: 'edge.cdn.example', cname: 'edge-7.cdn.example', ttl: 600 },
  { name: 'edge-7.cdn.example', ipv4: ['198.51.100.7'], ipv6: ['2001:db8::7'], ttl: 900 },
  { name: 'fast.acme.example', ipv4: ['203.0.113.5'], ipv6: ['2001:db8::5'], ttl: 20 },
  { name: 'v4only.acme.example', ipv4: ['203.0.113.9'], ttl: 3600 },
  { name: 'gone.acme.example', ipv4: ['203.0.113.77'], ipv6: ['2001:db8::77'], ttl: 3600 },
];

const maybe = dnsmasqAvailable || required ? describe : describe.skip;
if (!dnsmasqAvailable && !required) console.warn("skipping resolve tests: dnsmasq (Debian's dnsmasq-base) is not installed");

maybe('fwgen resolve against a DNS server on loopback', () => {
  let site = '';
  beforeAll(() => {
    if (!dnsmasqAvailable) throw new Error('dnsmasq is missing but FWGEN_REQUIRE_VALIDATORS=1: .ci/run must install dnsmasq-base');
    site = tempCatalog({ 'acme.yaml': vendor });
    fs.writeFileSync(path.join(site, 'site.yaml'), profile);
  });

  const resolve = (server: string, timeout = 1000) =>
    runInProcess(['resolve', '--catalog', site, '-p', path.join(site, 'site.yaml'), '--server', server, '--timeout', String(timeout), '--tries', '1']);

  test('a clean resolve: IPv4 and IPv6, CNAME chains, TTLs, a name with no AAAA', async () => {
    const dns = await startDnsmasq(records);
    try {
      const r = await resolve(dns.address);
      expect(r.stderr).toBe(`wrote ${path.join(site, 'site.lock.yaml')}: 5 of 5 names resolved\n`);
      expect(r.status).toBe(0);
      const { lock } = readLock(lockPathFor(path.join(site, 'site.yaml')));
      expect(lock.names.get('m42.acme.example')).toMatchObject({ ipv4: ['192.0.2.1', '192.0.2.2'], ipv6: ['2001:db8::1'], ttl: 3600, cnames: [], server: dns.address });
      expect(lock.names.get('alias.acme.example')).toMatchObject({ ipv4: ['198.51.100.7'], cnames: ['edge.cdn.example', 'edge-7.cdn.example'] });
      expect(lock.names.get('fast.acme.example')!.ttl).toBe(20);
      expect(lock.names.get('v4only.acme.example')).toMatchObject({ ipv4: ['203.0.113.9'], ipv6: [] });
      const text = fs.readFileSync(path.join(site, 'site.lock.yaml'), 'utf8');
      expect(text.indexOf('alias.acme.example:')).toBeLessThan(text.indexOf('fast.acme.example:'));
      expect(text).toMatch(/selection: sha256:[0-9a-f]{16}\n/);
    } finally {
      await dns.stop();
    }
  });

  test('a re-resolve where names now fail keeps their old addresses, marked stale, and fails for a required one', async () => {
    const dns = await startDnsmasq(
      records.filter((r) => r.name !== 'gone.acme.example' && r.name !== 'm42.acme.example'),
      ['gone.acme.example', 'm42.acme.example'],
    );
    try {
      const r = await resolve(dns.address);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('gone.acme.example: NXDOMAIN; kept 2 addresses from ');
      expect(r.stderr).toContain('m42.acme.example: NXDOMAIN; kept 3 addresses from ');
      expect(r.stderr).toContain('fwgen: required names without fresh addresses: m42.acme.example\n');
      const { lock } = readLock(lockPathFor(path.join(site, 'site.yaml')));
      expect(lock.names.get('gone.acme.example')).toMatchObject({
        ipv4: ['203.0.113.77'],
        stale: { ipv4: expect.stringMatching(/^NXDOMAIN at .*; addresses from /), ipv6: expect.stringMatching(/^NXDOMAIN at /) },
      });
      expect(lock.names.get('fast.acme.example')!.stale).toBeUndefined();
      // Render still uses the kept addresses and says they are stale.
      const out = await runInProcess(['render', '--catalog', site, '-p', path.join(site, 'site.yaml'), '-t', 'nftables', '-o', '-', '--only', 'pos-terminal.nft']);
      if (out.status !== 0) throw new Error(out.stderr);
      expect(out.status).toBe(0);
      expect(out.stdout).toContain('203.0.113.77/32');
      expect(out.stderr).toMatch(/warning: \[nftables\] gone\.acme\.example: its addresses are stale \(NXDOMAIN at /);
    } finally {
      await dns.stop();
    }
  });

  test('a server that never answers is reported as a timeout, per name', async () => {
    const silent = await silentServer();
    try {
      const r = await resolve(silent.address, 200);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/fast\.acme\.example: timeout; kept 2 addresses from /);
    } finally {
      await silent.stop();
    }
  });

  test('render reports a lock made for another selection', async () => {
    const changed = path.join(site, 'site.yaml');
    fs.writeFileSync(changed, profile.replace('    include: [extras]\n', ''));
    try {
      const r = await runInProcess(['render', '--catalog', site, '-p', changed, '-t', 'pfsense', '-o', '-']);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/warning: \[lock\] .*site\.lock\.yaml is stale: it was made for another selection/);
    } finally {
      fs.writeFileSync(changed, profile);
    }
  });

  test('low-TTL and wildcard names are flagged per target with the native option named', async () => {
    const r = await runInProcess(['render', '--catalog', site, '-p', path.join(site, 'site.yaml'), '-o', path.join(site, 'out')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: \[iptables, nftables\] fast\.acme\.example: its DNS answers live 20 s; pinned addresses go stale before the next render\. .*dnsmasq/);
    expect(r.stderr).toMatch(/warning: \[pfsense\] fast\.acme\.example: its DNS answers live 20 s but pfSense re-resolves FQDN aliases every 300 s/);
    expect(r.stderr).toMatch(/warning: \[windows\] fast\.acme\.example: its DNS answers live 20 s.*dynamicKeywords: true/);
    expect(r.stderr).toMatch(/warning: \[aws\] fast\.acme\.example: its DNS answers live 20 s.*Network Firewall/);
    expect(r.stderr).toMatch(/warning: \[pfsense\] \*\.portal\.acme\.example: pfSense cannot resolve a wildcard name in an alias/);
    expect(r.stderr).toMatch(/warning: \[aws\] \*\.portal\.acme\.example: a wildcard name cannot be pinned to addresses; left out\. network-firewall\.rule-group\.json matches it by name/);
    expect(r.stderr).toMatch(/warning: \[windows\] \*\.portal\.acme\.example: a wildcard name cannot be pinned.*dynamicKeywords: true/);
    // The Linux companions follow the wildcard; what they cannot make exact (the apex) is said.
    expect(r.stderr).not.toMatch(/\[(nftables|iptables)\] \*\.portal.*cannot be pinned/);
    expect(r.stderr).toMatch(/warning: \[iptables, nftables\] \*\.portal\.acme\.example: the dnsmasq companion line \/portal\.acme\.example\/ also admits portal\.acme\.example itself/);
    const companion = fs.readFileSync(path.join(site, 'out', 'acme-site', 'nftables', 'pos-terminal.dnsmasq.conf'), 'utf8');
    expect(companion).toContain('nftset=/portal.acme.example/4#inet#fwgen#dns_acme_portal_v4,6#inet#fwgen#dns_acme_portal_v6\n');
    const ruleGroup = JSON.parse(fs.readFileSync(path.join(site, 'out', 'acme-site', 'aws', 'network-firewall.rule-group.json'), 'utf8'));
    expect(ruleGroup.RuleGroup.RulesSource.RulesString).toContain('content:".portal.acme.example"; nocase; endswith;');
  });
});
