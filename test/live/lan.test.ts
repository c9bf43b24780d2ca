import * as fs from 'node:fs';
import * as path from 'node:path';
import { lockPathFor } from '../../src/resolve/lock';
import { examplesRoot, tempDir } from '../helpers';
import { apply, LINUX_TARGETS, openFixture, type Fixture } from './fixture';
import type { Probe } from './probes';
import { counts, exampleProfiles, liveUnavailable, mismatches, withLive } from './suite';

/**
 * A gateway filters every forwarded packet of the site's LAN interfaces, not only the packets
 * of the addresses it knows. Probed with each example's gateway files loaded in the router:
 * - an address alias in no device class on the host of a class device (both families), out to
 *   the other ends its class uses and to common ports, and in to it: dropped;
 * - a class address arriving on another interface than its class's (spoofed, from a namespace
 *   of its own at the router, or from another LAN), on flows its class is allowed: dropped;
 * while class traffic stays exactly as allowed (the mode suite and the two-LAN site below).
 * `interfaces.<name>.unclassified: accept` lets the aliases through, with a warning.
 */
const live = withLive();

/** Spoofed copies of a sample of the allowed probes from the addresses of the classes `from` keeps. */
function spoofed(fx: Fixture, where: string, from: (classId: string) => boolean): Probe[] {
  const policy = fx.rendered.nftables.policy;
  const taken = new Map<string, number>();
  const out: Probe[] = [];
  for (const p of fx.plan.probes) {
    const src = fx.plan.layout.places.get(p.src);
    const dst = fx.plan.layout.places.get(p.dst);
    if (p.expect !== 'pass' || p.proto === 'icmp' || src?.kind !== 'class' || !from(src.id)) continue;
    // A few per class, family and kind of other end (vendor side, another class) keep the run short.
    const key = `${src.id} ${p.src.includes(':')} ${dst?.kind}`;
    if ((taken.get(key) ?? 0) >= 3) continue;
    taken.set(key, (taken.get(key) ?? 0) + 1);
    const bound = policy.deviceClasses.find((c) => c.id === src.id)!.interface !== undefined;
    // A class bound to no interface cannot be anti-spoofed: the README says so, and so does this.
    out.push({ ...p, expect: bound ? 'drop' : 'pass', why: `spoofed from ${where}: ${p.why}` });
  }
  return out;
}

/**
 * Spoofed probes run a class at a time: the addresses a run spoofs are routed to the spoofer,
 * so a probe to another class's device must not find that device's address there too.
 */
async function runSpoofed(fx: Fixture, probes: Probe[], bridge?: string): Promise<string[]> {
  const byClass = new Map<string, Probe[]>();
  for (const p of probes) {
    const place = fx.plan.layout.places.get(p.src)!;
    const id = place.kind === 'class' ? place.id : '';
    byClass.set(id, [...(byClass.get(id) ?? []), p]);
  }
  const out: string[] = [];
  for (const group of byClass.values()) out.push(...mismatches(await fx.site.runSpoofed(group, bridge)));
  return out;
}

/** The probes' outcome per expectation and address family, for the messages. */
function families(probes: Probe[]): { v4: number; v6: number } {
  return { v4: probes.filter((p) => !p.src.includes(':')).length, v6: probes.filter((p) => p.src.includes(':')).length };
}

/** An example profile edited, in a folder of its own beside a copy of its lock file. */
function variant(example: string, edit: (text: string) => string): string {
  const dir = tempDir('fwgen-lan-');
  const file = path.join(dir, path.basename(example));
  const text = fs.readFileSync(example, 'utf8');
  const edited = edit(text);
  if (edited === text) throw new Error(`the edit of ${example} changed nothing`);
  fs.writeFileSync(file, edited);
  fs.copyFileSync(lockPathFor(example), lockPathFor(file));
  return file;
}

const ALOHA = path.join(examplesRoot, 'eu-restaurant-aloha.yaml');

describe.each(exampleProfiles.map((f) => [path.basename(f, '.yaml'), f]))('%s: every forwarded packet of the LAN is filtered', (name, file) => {
  let fx: Fixture;
  let spoofs: Probe[];
  beforeAll(async () => {
    if (liveUnavailable() !== undefined) return;
    fx = await openFixture(file, 'gateway');
    spoofs = spoofed(fx, 'an interface of its own', () => true);
  });
  afterAll(() => fx?.site.destroy());

  live('without rules, aliases and spoofed sources pass (the harness can tell)', async () => {
    const bound = fx.rendered.nftables.policy.deviceClasses.filter((c) => c.interface !== undefined);
    // An alias per family of every class bound to an interface; none where no class is bound.
    expect(fx.plan.layout.aliases.size).toBe(bound.reduce((n, c) => n + (c.addresses.ipv4.length > 0 ? 1 : 0) + (c.addresses.ipv6.length > 0 ? 1 : 0), 0));
    expect(spoofs.length).toBeGreaterThan(0);
    fx.site.reset();
    const pass = (ps: Probe[]) => ps.map((p) => ({ ...p, expect: 'pass' as const }));
    expect(mismatches(await fx.site.run(pass(fx.aliases)))).toEqual([]);
    expect(await runSpoofed(fx, pass(spoofs))).toEqual([]);
  });

  for (const target of LINUX_TARGETS) {
    live(`${target}: an address alias in no class on a class's host is dropped both ways, both families`, async () => {
      fx.site.reset();
      apply[target](fx.site, fx.rendered[target], target);
      const outcomes = await fx.site.run(fx.aliases);
      // eslint-disable-next-line no-console
      console.info(`${name} ${target}: ${fx.aliases.length} alias probes (${JSON.stringify(families(fx.aliases))})`);
      expect(mismatches(outcomes)).toEqual([]);
      expect(fx.aliases.every((p) => p.expect === 'drop')).toBe(true);
      const v6 = fx.rendered.nftables.policy.deviceClasses.some((c) => c.interface !== undefined && c.addresses.ipv6.length > 0);
      expect(families(fx.aliases).v6 > 0).toBe(v6);
    });

    live(`${target}: a class address arriving on another interface is dropped; a class with no interface is not anti-spoofed`, async () => {
      fx.site.reset();
      apply[target](fx.site, fx.rendered[target], target);
      expect(await runSpoofed(fx, spoofs)).toEqual([]);
      const policy = fx.rendered[target].policy;
      if (policy.deviceClasses.some((c) => c.interface === undefined)) {
        expect(fx.rendered[target].warnings.join('\n')).toMatch(/has no interface: at the gateway its addresses are accepted from any interface \(no anti-spoofing\)/);
      }
    });
  }
});

describe('two LAN interfaces: each class is anti-spoofed against the other LAN too', () => {
  // The order-entry terminals on a LAN of their own: the back-of-house server talks to them across the gateway.
  const file = () => variant(ALOHA, (t) => t.replace(/(order-entry-terminal:\n\s+addresses: .*\n\s+interface: )lan0/, '$1lan1'));
  let fx: Fixture;
  beforeAll(async () => {
    if (liveUnavailable() === undefined) fx = await openFixture(file(), 'gateway');
  });
  afterAll(() => fx?.site.destroy());

  const fromLan = (lan: string) => (id: string) => fx.rendered.nftables.policy.deviceClasses.find((c) => c.id === id)!.interface !== lan;

  live('without rules every probe passes', async () => {
    expect(new Set(fx.rendered.nftables.policy.deviceClasses.map((c) => c.interface))).toEqual(new Set(['lan0', 'lan1']));
    fx.site.reset();
    const pass = [...fx.plan.probes, ...fx.aliases].map((p) => ({ ...p, expect: 'pass' as const }));
    expect(mismatches(await fx.site.run(pass))).toEqual([]);
  });

  for (const target of LINUX_TARGETS) {
    live(`${target}: class traffic as allowed across both LANs; spoofed from the other LAN and aliases dropped`, async () => {
      fx.site.reset();
      apply[target](fx.site, fx.rendered[target], target);
      expect(mismatches(await fx.site.run(fx.plan.probes))).toEqual([]);
      expect(counts(fx.plan.probes).pass).toBeGreaterThan(0);
      expect(mismatches(await fx.site.run(fx.aliases))).toEqual([]);
      for (const lan of ['lan0', 'lan1']) {
        const spoofs = spoofed(fx, lan, fromLan(lan));
        expect(spoofs.length).toBeGreaterThan(0);
        expect(spoofs.every((p) => p.expect === 'drop')).toBe(true);
        expect(await runSpoofed(fx, spoofs, lan)).toEqual([]);
      }
    });
  }

  live('the spoofed probes from the other LAN pass without rules (the harness can tell)', async () => {
    fx.site.reset();
    for (const lan of ['lan0', 'lan1']) {
      const pass = spoofed(fx, lan, fromLan(lan)).map((p) => ({ ...p, expect: 'pass' as const }));
      expect(await runSpoofed(fx, pass, lan)).toEqual([]);
    }
  });
});

describe('unclassified: accept on an interface lets addresses in no class through, with a warning', () => {
  const file = () => variant(ALOHA, (t) => `${t}interfaces:\n  lan0:\n    unclassified: accept\n`);
  let fx: Fixture;
  beforeAll(async () => {
    if (liveUnavailable() === undefined) fx = await openFixture(file(), 'gateway');
  });
  afterAll(() => fx?.site.destroy());

  for (const target of LINUX_TARGETS) {
    live(`${target}: aliases reach the vendor side and back, never a class; spoofing is still dropped`, async () => {
      const line = fs.readFileSync(fx.rendered[target].policy.profile.file, 'utf8').split('\n').indexOf('  lan0:') + 1;
      expect(fx.rendered[target].warnings).toContainEqual(
        `${fx.rendered[target].policy.profile.file}:${line}:3: warning: [${target}] interface lan0: traffic of addresses in no device class is forwarded, not dropped (interfaces.lan0.unclassified: accept)`,
      );
      fx.site.reset();
      apply[target](fx.site, fx.rendered[target], target);
      expect(mismatches(await fx.site.run(fx.aliases))).toEqual([]);
      const c = counts(fx.aliases);
      expect(c.pass).toBeGreaterThan(0);
      // The other classes are still behind their rules: an alias reaching them is dropped.
      expect(c.drop).toBeGreaterThan(0);
      expect(mismatches(await fx.site.run(fx.plan.probes))).toEqual([]);
      expect(await runSpoofed(fx, spoofed(fx, 'an interface of its own', () => true))).toEqual([]);
    });
  }
});
