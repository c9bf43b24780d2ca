import * as fs from 'node:fs';
import * as path from 'node:path';
import { required } from '../conformance/validators';
import { dnsmasqAvailable, startDnsmasq, type DnsRecord } from '../dns/dnsmasq';
import { minimalVendor, runInProcess, tempCatalog } from '../helpers';

const profile = `profile:
  name: acme-site
region: eu
environment: production
vendors:
  acme:
    variables: { mid: "42" }
deviceClasses:
  pos-terminal:
    addresses: [10.0.0.0/24]
`;

const answer = (ipv4: string[], ttl: number): DnsRecord[] => [{ name: 'm42.acme.example', ipv4, ipv6: ['2001:db8::1'], ttl }];

const maybe = dnsmasqAvailable || required ? describe : describe.skip;
if (!dnsmasqAvailable && !required) console.warn("skipping stable-lock tests: dnsmasq (Debian's dnsmasq-base) is not installed");

maybe('a resolve whose answers did not change', () => {
  test('leaves the lock byte-identical and untouched, even when a cache counted the TTL down; a moved address rewrites it', async () => {
    if (!dnsmasqAvailable) throw new Error('dnsmasq is missing but FWGEN_REQUIRE_VALIDATORS=1: .ci/run must install dnsmasq-base');
    const site = tempCatalog({ 'acme.yaml': minimalVendor });
    fs.writeFileSync(path.join(site, 'site.yaml'), profile);
    const lockFile = path.join(site, 'site.lock.yaml');
    const resolveWith = async (records: DnsRecord[], port?: number) => {
      const dns = await startDnsmasq(records, [], port);
      try {
        const r = await runInProcess(['resolve', '--catalog', site, '-p', path.join(site, 'site.yaml'), '--server', dns.address, '--timeout', '1000', '--tries', '1']);
        expect(r.status).toBe(0);
        return Number(dns.address.split(':')[1]);
      } finally {
        await dns.stop();
      }
    };

    const port = await resolveWith(answer(['192.0.2.1', '192.0.2.2'], 3600));
    const first = fs.readFileSync(lockFile, 'utf8');
    const old = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(lockFile, old, old);

    // The same records, the second time with the TTL a cache has counted down.
    await resolveWith(answer(['192.0.2.2', '192.0.2.1'], 3600), port);
    await resolveWith(answer(['192.0.2.1', '192.0.2.2'], 1234), port);
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(first);
    expect(fs.statSync(lockFile).mtime.getTime()).toBe(old.getTime());

    await resolveWith(answer(['192.0.2.1', '192.0.2.3'], 3600), port);
    const moved = fs.readFileSync(lockFile, 'utf8');
    expect(moved).not.toBe(first);
    expect(moved).toContain('192.0.2.3');
    expect(moved).not.toContain('192.0.2.2');
    expect(moved.match(/resolvedAt: (.*)/)![1]).not.toBe(first.match(/resolvedAt: (.*)/)![1]);
  });
});
