import * as path from 'node:path';
import { applyIptables, applyNftables } from './apply';
import { lanIpv6Probes, planProbes, type Plan } from './probes';
import { renderTarget, type Rendered } from './render';
import { LiveSite } from './site';
import { counts, exampleProfiles, liveUnavailable, mismatches, nextTag, withLive } from './suite';

/**
 * Every example as a gateway: its iptables and nftables files loaded in the router, in turn,
 * between the device classes and the vendor side. Profiles that are host-mode are rendered in
 * gateway mode too: the same policy, enforced in front of the devices.
 */
const live = withLive(['dnsmasq']);

describe.each(exampleProfiles.map((f) => [path.basename(f, '.yaml'), f]))('%s at a gateway', (_name, file) => {
  let site: LiveSite | undefined;
  let plan: Plan;
  let rendered: Record<'iptables' | 'nftables', Rendered>;

  beforeAll(async () => {
    if (liveUnavailable() !== undefined) return;
    rendered = { iptables: renderTarget(file, 'iptables', 'gateway'), nftables: renderTarget(file, 'nftables', 'gateway') };
    plan = planProbes(rendered.nftables.policy, 'gateway', new Set());
    site = LiveSite.build(nextTag('g'), rendered.nftables.policy, plan.layout);
    await site.listen([...plan.probes, ...lanIpv6Probes(rendered.nftables.policy, plan.layout)]);
  });
  afterAll(() => site?.destroy());

  for (const target of ['iptables', 'nftables'] as const) {
    live(`${target}: every selected flow passes with its answer, every sampled forbidden one drops`, async () => {
      site!.reset();
      const applied = (target === 'iptables' ? applyIptables : applyNftables)(site!, rendered[target], target);
      expect(applied.loaded).toHaveLength(1);
      const outcomes = await site!.run(plan.probes);
      const c = counts(plan.probes);
      // eslint-disable-next-line no-console
      console.info(`${_name} gateway ${target}: ${c.pass} allowed and ${c.drop} forbidden probes`);
      expect(c.pass).toBeGreaterThan(0);
      expect(c.drop).toBeGreaterThan(c.pass);
      expect(mismatches(outcomes)).toEqual([]);
    });
  }
});
