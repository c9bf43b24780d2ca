import * as path from 'node:path';
import { apply, LINUX_TARGETS, openFixture, type Fixture } from './fixture';
import { exampleProfiles, liveUnavailable, mismatches, withLive } from './suite';

/**
 * A device class without IPv6 prefixes still has IPv6 on the LAN (any router advertisement gives
 * it an address): at a gateway none of it may be forwarded. Probed from a unique-local address in
 * the class's namespace to the vendor side's IPv6 addresses, on the ports the class uses, and
 * with ICMPv6, with each example's gateway files loaded in the router.
 */
const live = withLive();

describe.each(exampleProfiles.map((f) => [path.basename(f, '.yaml'), f]))('%s at a gateway', (_name, file) => {
  let fx: Fixture;
  beforeAll(async () => {
    if (liveUnavailable() === undefined) fx = await openFixture(file, 'gateway');
  });
  afterAll(() => fx?.site.destroy());

  for (const target of LINUX_TARGETS) {
    live(`${target}: IPv6 from devices of a class without IPv6 prefixes never crosses the gateway`, async () => {
      const without = fx.rendered[target].policy.deviceClasses.filter((c) => c.addresses.ipv6.length === 0);
      expect(fx.lanV6.length > 0).toBe(without.length > 0);
      fx.site.reset();
      // Without rules it passes: the probes can tell.
      expect(mismatches(await fx.site.run(fx.lanV6.map((p) => ({ ...p, expect: 'pass' as const }))))).toEqual([]);
      apply[target](fx.site, fx.rendered[target], target);
      expect(mismatches(await fx.site.run(fx.lanV6))).toEqual([]);
    });
  }
});
