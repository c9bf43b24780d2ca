import * as path from 'node:path';
import { LINUX_HOSTS } from '../../src/targets/rule-selection';
import { apply, LINUX_TARGETS, openFixture, type Fixture } from './fixture';
import { contains, pinned, type Probe } from './probes';
import type { Mode } from './render';
import { counts, exampleProfiles, liveUnavailable, mismatches, withLive } from './suite';
import { besideAbove, supernet, widenPort, widenRange } from './widen';

/** Is this flow probe between the vendor side and a namespace whose loaded file enforces it? */
function enforcedVendorFlow(fx: Fixture, p: Probe): boolean {
  const from = fx.plan.layout.places.get(p.src)!;
  const to = fx.plan.layout.places.get(p.dst)!;
  const local = from.kind === 'class' ? from : to.kind === 'class' ? to : undefined;
  if (!local || local.kind !== 'class' || (from.kind !== 'vendor' && to.kind !== 'vendor')) return false;
  return fx.mode === 'gateway' || fx.enforcing.has(local.id);
}

/** Allowed flows between a loaded file's class and the vendor side, on one single port with the next port forbidden. */
function widenable(fx: Fixture): Probe[] {
  const { plan, rendered } = fx;
  return plan.probes.filter((p) => {
    const rule = rendered.nftables.policy.rules.find((r) => r.id === p.rule);
    const single = rule?.ports.length === 1 && rule.ports[0]!.from === rule.ports[0]!.to;
    return p.expect === 'pass' && p.proto !== 'icmp' && single && enforcedVendorFlow(fx, p) && besideAbove(p, plan.probes) !== undefined;
  });
}

/**
 * Probes just outside a vendor range that one more bit would take in. The range is widened in
 * every set that holds it, so the wider one must not overlap another element of those sets
 * (nftables refuses overlapping intervals).
 */
function rangeWidenable(fx: Fixture): Probe[] {
  const policy = fx.rendered.nftables.policy;
  const sets = policy.rules.map((r) => {
    const set = pinned(policy, r);
    return [...set.ipv4, ...set.ipv6];
  });
  return fx.plan.probes.filter((p) => {
    if (p.range === undefined || p.expect !== 'drop' || p.proto === 'icmp' || !enforcedVendorFlow(fx, p)) return false;
    const wider = supernet(p.range);
    const outside = fx.plan.layout.places.get(p.src)?.kind === 'vendor' ? p.src : p.dst;
    const neighbours = sets.filter((set) => set.includes(p.range!)).flat().filter((c) => c !== p.range);
    const overlaps = (c: string) => contains([wider], c.split('/')[0]!) || contains([c], wider.split('/')[0]!);
    return contains([wider], outside) && !neighbours.some(overlaps);
  });
}

/**
 * The live suite of one mode for every example: the site in namespaces, a control run without
 * rules (every probe, allowed or not, must pass: the harness can tell), each Linux target's
 * files applied as their headers say (allowed probes pass with their answers, forbidden ones
 * drop), and a deliberately widened rule that the probes must catch.
 */
export function defineModeSuite(mode: Mode): void {
  const live = withLive();

  describe.each(exampleProfiles.map((f) => [path.basename(f, '.yaml'), f]))(`%s (${mode} mode)`, (name, file) => {
    let fx: Fixture;
    /** Host mode for a site without Linux devices: no host file to load at all. */
    let nothingToLoad = false;

    beforeAll(async () => {
      if (liveUnavailable() !== undefined) return;
      fx = await openFixture(file, mode);
      nothingToLoad = mode === 'host' && fx.enforcing.size === 0;
    });
    afterAll(() => fx?.site.destroy());

    live('without rules every probe passes, forbidden ones included (the harness can tell)', async () => {
      if (nothingToLoad) {
        expect(fx.rendered.nftables.policy.deviceClasses.filter((c) => LINUX_HOSTS.includes(c.os))).toEqual([]);
        return;
      }
      fx.site.reset();
      const all = [...fx.plan.probes, ...fx.lanV6];
      expect(mismatches(await fx.site.run(all.map((p) => ({ ...p, expect: 'pass' as const }))))).toEqual([]);
      expect(counts(fx.plan.probes).drop).toBeGreaterThan(0);
    });

    for (const target of LINUX_TARGETS) {
      live(`${target}: every selected flow passes with its answer, every sampled forbidden one drops`, async () => {
        if (nothingToLoad) {
          expect([...fx.rendered[target].files.keys()]).toEqual([]);
          return;
        }
        fx.site.reset();
        const applied = apply[target](fx.site, fx.rendered[target], target);
        if (mode === 'host') expect([...applied.enforcing].sort()).toEqual([...fx.enforcing].sort());
        else expect(applied.loaded.length).toBeGreaterThan(0);
        const outcomes = await fx.site.run(fx.plan.probes);
        const c = counts(fx.plan.probes);
        // eslint-disable-next-line no-console
        console.info(`${name} ${mode} ${target}: ${c.pass} allowed and ${c.drop} forbidden probes (${applied.loaded.join(', ')})`);
        expect(mismatches(outcomes)).toEqual([]);
        expect(c.pass).toBeGreaterThan(0);
        expect(c.drop).toBeGreaterThan(0);
      });

      live(`${target}: a rule widened by one port is caught`, async () => {
        const [allowed] = widenable(fx);
        if (!allowed) {
          // Possible in host mode only, when no loaded host file allows a pinned flow to the vendor
          // side (no Linux device, or a class whose names are all wildcards that dnsmasq follows).
          expect(mode).toBe('host');
          expect(fx.plan.probes.filter((p) => p.expect === 'pass' && p.rule !== undefined && enforcedVendorFlow(fx, p))).toEqual([]);
          return;
        }
        const widened = widenPort(fx.rendered[target], allowed, allowed.rule!, fx.plan.probes);
        fx.site.reset();
        apply[target](fx.site, widened.rendered, `${target}-widened`);
        const outcomes = await fx.site.run(fx.plan.probes);
        // The probe the widening lets through waits only as long as a forbidden one (300 ms): on a
        // busy runner its first packet, held up by neighbour discovery, can miss that. It is sent once
        // more with an allowed probe's patience; every other probe keeps its first answer.
        const at = fx.plan.probes.indexOf(widened.probe);
        if (at >= 0 && !outcomes[at]!.passed) outcomes[at] = (await fx.site.run([widened.probe], { pass: 2000, drop: 2000 }))[0]!;
        const caught = mismatches(outcomes);
        expect(caught.length).toBeGreaterThan(0);
        expect(caught.filter((m) => m.startsWith('PASSED but forbidden') && m.includes(`:${allowed.port + 1} `))).toEqual(caught);
        expect(caught.some((m) => m.includes(`${widened.probe.src} -> ${widened.probe.dst}:${widened.probe.port} `))).toBe(true);
      });
    }

    for (const target of LINUX_TARGETS) {
      live(`${target}: a range widened by one bit is caught`, async () => {
        const [outside] = rangeWidenable(fx);
        if (!outside) {
          // As above: no loaded host file matches a vendor range at all.
          expect(mode).toBe('host');
          expect(fx.plan.probes.filter((p) => p.range !== undefined && enforcedVendorFlow(fx, p))).toEqual([]);
          return;
        }
        const widened = widenRange(fx.rendered[target], outside);
        fx.site.reset();
        apply[target](fx.site, widened.rendered, `${target}-wider`);
        const caught = (await fx.site.run(fx.plan.probes)).filter((o) => o.passed !== (o.probe.expect === 'pass'));
        expect(caught.some((o) => o.probe === outside)).toBe(true);
        // Nothing else moved: every probe that changed has its vendor end in the added half.
        const vendorEnd = (p: Probe) => (fx.plan.layout.places.get(p.src)?.kind === 'vendor' ? p.src : p.dst);
        expect(caught.filter((o) => !o.passed || !contains([widened.wider], vendorEnd(o.probe)) || contains([widened.range], vendorEnd(o.probe))).map((o) => o.probe)).toEqual([]);
      });
    }
  });
}
