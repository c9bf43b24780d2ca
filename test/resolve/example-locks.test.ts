import * as fs from 'node:fs';
import * as path from 'node:path';
import { readLock, lockPathFor } from '../../src/resolve/lock';
import { exampleProfiles } from '../../src/workspace';
import { runInProcess, tempDir } from '../helpers';
import { dnsmasqAvailable, startDnsmasq, type DnsServer } from '../dns/dnsmasq';
import { EXAMPLE_LOCK_NOTE, exampleRecords } from '../dns/example-records';
import { required } from '../conformance/validators';

/**
 * Every example ships with a lock made against the test DNS server. This resolves each
 * example again against that server and compares with the committed lock (all but the
 * time and the server's port). UPDATE_LOCKS=1 rewrites the committed locks.
 */
const maybe = dnsmasqAvailable ? describe : required ? describe : describe.skip;
if (!dnsmasqAvailable && !required) console.warn("skipping example lock checks: dnsmasq (Debian's dnsmasq-base) is not installed");

maybe('example locks', () => {
  let dns: DnsServer;
  beforeAll(async () => {
    if (!dnsmasqAvailable) throw new Error('dnsmasq is missing but FWGEN_REQUIRE_VALIDATORS=1: .ci/run must install dnsmasq-base');
    dns = await startDnsmasq(exampleRecords());
  });
  afterAll(async () => dns?.stop());

  test.each(exampleProfiles().map((p) => path.basename(p)))('%s resolves fully and matches its committed lock', async (base) => {
    const original = exampleProfiles().find((p) => path.basename(p) === base)!;
    const update = process.env.UPDATE_LOCKS === '1';
    const dir = tempDir();
    const profile = update ? original : path.join(dir, base);
    if (!update) fs.copyFileSync(original, profile);
    const r = await runInProcess(['resolve', '-p', profile, '--server', dns.address, '--note', EXAMPLE_LOCK_NOTE, '--timeout', '1000']);
    expect(r.stderr).toMatch(/wrote .*: (\d+) of \1 names resolved\n$/);
    expect(r.status).toBe(0);
    const fresh = readLock(lockPathFor(profile)).lock;
    const committed = readLock(lockPathFor(original)).lock;
    const strip = (l: typeof fresh) => ({
      ...l,
      names: [...l.names].map(([n, e]) => [n, { ...e, resolvedAt: '', server: '' }]),
    });
    expect(strip(fresh)).toEqual(strip(committed));
  });
});
