import * as path from 'node:path';
import { apply, LINUX_TARGETS } from './fixture';
import { planNames, type CaseKind, type NameCase, type NamePlan } from './names';
import { layoutFor, PolicyModel, type Layout } from './probes';
import { renderLinux, type LinuxTarget, type Rendered } from './render';
import { LiveSite, ROUTER_V4 } from './site';
import { exampleProfiles, liveUnavailable, mismatches, nextTag, withLive } from './suite';

/**
 * The dnsmasq companions, live: an authoritative dnsmasq on the vendor side answers the policy's
 * names, made-up subdomains of them and the apex of every wildcard; the rendered companion runs
 * as the devices' resolver (in the router for a gateway, on the device itself for a host file,
 * since it fills that kernel's sets) and the rules are applied as rendered. After each lookup the
 * answer is probed: a name admits exactly what the catalog says, and what dnsmasq learned stays
 * admitted when the rules are applied again.
 */
const live = withLive(['dnsmasq']);

/** The vendor-side upstream of a gateway's companion: outside every range a policy names. */
const UPSTREAM = '198.19.255.53';
/** A name only the upstream knows, to see that the resolvers answer before anything is asked. */
const READY = 'fwgen-ready.test';

interface Resolver {
  /** The namespace the companion runs in and where devices send their queries. */
  ns: string;
  listen: string;
  upstream?: string;
  /** The companion file for this resolver. */
  file: string;
  /** The classes that ask it, with the source address of their queries. */
  askers: Map<string, string>;
}

function isV4(a: string): boolean {
  return !a.includes(':');
}

/** Where the companions run and which upstream each uses; host mode needs a resolver the host file lets it reach. */
function resolversFor(rendered: Rendered, layout: Layout, enforcing: Set<string>): Resolver[] {
  const model = new PolicyModel(rendered.policy, rendered.mode, enforcing, layout.lanOnly);
  const companions = [...rendered.files.keys()].filter((f) => f.endsWith('dnsmasq.conf'));
  if (rendered.mode === 'gateway') {
    const askers = new Map<string, string>();
    for (const [id, addrs] of layout.classAddresses) {
      const v4 = addrs.find(isV4);
      if (v4) askers.set(id, v4);
    }
    return companions.map((file) => ({ ns: 'router', listen: ROUTER_V4, upstream: UPSTREAM, file, askers }));
  }
  return companions.map((file) => {
    const cls = file.replace(/\.dnsmasq\.conf$/, '');
    const src = (layout.classAddresses.get(cls) ?? []).find(isV4);
    const upstream = src ? [...layout.places.keys()].filter(isV4).find((a) => a !== src && model.allows({ proto: 'udp', src, dst: a, port: 53 })) : undefined;
    return { ns: cls, listen: '127.0.0.1', upstream, file, askers: new Map([[cls, '127.0.0.1']]) };
  });
}

const KINDS: Array<[CaseKind, string]> = [
  ['exact', "a looked-up exact name's address passes"],
  ['subdomain of an exact name', 'a subdomain of an exact name is not admitted'],
  ['subdomain of a wildcard', 'a wildcard admits its subdomains'],
  ['apex of a wildcard', "a wildcard's apex passes only where the catalog names it"],
];

describe.each(exampleProfiles.map((f) => [path.basename(f, '.yaml'), f]))('%s: dnsmasq companions', (_name, file) => {
  const rendered = renderLinux(file);

  // The tests of one target run in order on one site: the first applies the rules and starts the
  // companions, the next ones look names up, the last applies the rules again.
  describe.each(LINUX_TARGETS.map((t) => [t]))('%s', (target: LinuxTarget) => {
    const r = rendered[target];
    const enforcing = new Set(r.policy.deviceClasses.map((c) => c.id).filter((id) => r.mode === 'gateway' || [...r.files.keys()].some((f) => f.startsWith(`${id}.`))));
    const layout = layoutFor(r.policy, r.mode);
    const planned: NamePlan = planNames(r.policy, layout, new PolicyModel(r.policy, r.mode, enforcing, layout.lanOnly));
    // A class without a host file (not Linux) has no kernel here to fill: nothing to probe.
    const names: NamePlan = { ...planned, cases: planned.cases.filter((c) => enforcing.has(c.deviceClass)) };
    const resolvers = resolversFor(r, layout, enforcing);
    live('a companion serves every class that uses wildcard names (no address can pin them)', () => {
      const wild = r.policy.rules.filter((x) => x.protocol !== undefined && x.remote.names.some((n) => n.startsWith('*.')));
      const served = new Set(resolvers.flatMap((res) => [...res.askers.keys()]));
      expect([...new Set(wild.map((x) => x.deviceClass))].filter((c) => enforcing.has(c) && !served.has(c))).toEqual([]);
    });

    // Without a companion (exact names pinned from the lock, say) there is nothing to look up.
    if (resolvers.length === 0) return;

    let site: LiveSite | undefined;
    const running: Array<{ stop: () => Promise<void> }> = [];
    const asked = new Set<NameCase>();

    const nsOf = (res: Resolver) => (res.ns === 'router' ? site!.router : site!.classNs.get(res.ns)!);
    const askerOf = (c: NameCase) => resolvers.find((res) => res.askers.has(c.deviceClass));

    async function startCompanions(): Promise<void> {
      for (const c of running.splice(0)) await c.stop();
      const dir = site!.write(r, `${target}-companions`);
      for (const res of resolvers) {
        const d = site!.daemon(nsOf(res), 'dnsmasq', [
          '--keep-in-foreground', `--conf-file=${path.join(dir, res.file)}`, '--no-resolv', '--no-hosts', '--no-poll',
          '--bind-interfaces', `--listen-address=${res.listen}`, '--port=53', '--pid-file=', '--user=root',
          ...(res.upstream ? [`--server=${res.upstream}`] : []),
        ]);
        running.push({ stop: () => site!.stop(d.child) });
        await ready(res, d.output);
      }
    }

    async function ready(res: Resolver, output: () => string): Promise<void> {
      const [cls, src] = [...res.askers][0]!;
      const agent = site!.agent(site!.classNs.get(cls)!);
      for (let i = 0; i < 50; i++) {
        const a = await agent.lookup(src, res.listen, READY, 'ipv4');
        if (a.addresses.length > 0) return;
        await new Promise((ok) => setTimeout(ok, 100));
      }
      throw new Error(`the companion for ${res.file} does not resolve through ${res.upstream ?? 'no upstream the host file allows'}: ${output()}`);
    }

    /** Each case's query, asked by a device of its class through its resolver; returns what went wrong. */
    async function lookUp(cases: NameCase[]): Promise<string[]> {
      const problems = await Promise.all(
        cases.map(async (c) => {
          const res = askerOf(c);
          if (!res) return `${c.query}: no companion serves ${c.deviceClass}`;
          const a = await site!.agent(site!.classNs.get(c.deviceClass)!).lookup(res.askers.get(c.deviceClass)!, res.listen, c.query, c.family);
          asked.add(c);
          return a.addresses.includes(c.address) ? undefined : `${c.query} (${c.family}) from ${c.deviceClass}: ${a.error ?? a.addresses.join(',')}`;
        }),
      );
      return problems.filter((p): p is string => p !== undefined);
    }

    beforeAll(async () => {
      if (liveUnavailable(['dnsmasq']) !== undefined) return;
      for (const a of [...names.addresses, UPSTREAM]) {
        if (!layout.places.has(a)) {
          layout.places.set(a, { kind: 'vendor' });
          layout.vendorAddresses.push(a);
        }
      }
      site = LiveSite.build(nextTag('n'), r.policy, layout);
      await site.listen(names.cases.map((c) => c.probe));
      const records = [...names.records, [READY, { ipv4: ['192.0.2.1'], ipv6: [] }] as const];
      // One address per family is enough for a probe; the first is the one each case expects.
      const hostRecords = records.map(([n, a]) => `--host-record=${[n, ...a.ipv4.slice(0, 1), ...a.ipv6.slice(0, 1)].join(',')}`);
      for (const upstream of new Set(resolvers.map((res) => res.upstream).filter((u): u is string => u !== undefined))) {
        site.daemon(site.nsOf(upstream), 'dnsmasq', [
          '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll', '--bind-interfaces',
          `--listen-address=${upstream}`, '--port=53', '--pid-file=', '--user=root', '--local-ttl=3600', ...hostRecords,
        ]);
      }
    });
    afterAll(() => site?.destroy());


    live('before any lookup the answers to come are dropped, and pass without rules', async () => {
      const fresh = names.cases.filter((c) => !c.pinned).map((c) => c.probe);
      site!.reset();
      expect(mismatches(await site!.run(fresh.map((p) => ({ ...p, expect: 'pass' as const }))))).toEqual([]);
      apply[target](site!, r, target);
      await startCompanions();
      expect(mismatches(await site!.run(fresh.map((p) => ({ ...p, expect: 'drop' as const }))))).toEqual([]);
    });

    for (const [kind, title] of KINDS) {
      const cases = names.cases.filter((c) => c.kind === kind);
      if (cases.length === 0) continue;
      live(`${title} (${cases.length} lookups)`, async () => {
        expect(await lookUp(cases)).toEqual([]);
        expect(mismatches(await site!.run(cases.map((c) => c.probe)))).toEqual([]);
      });
    }

    if (names.cases.length > 0) {
      live('what dnsmasq learned still passes after the rules are applied again, and after the next lookup', async () => {
        // What must stay admitted; what must not is asserted by the tests above.
        const learned = [...asked].filter((c) => c.probe.expect === 'pass');
        expect(learned.length).toBeGreaterThan(0);
        apply[target](site!, r, `${target}-again`);
        expect(mismatches(await site!.run(learned.map((c) => c.probe)))).toEqual([]);
        expect(await lookUp(learned)).toEqual([]); // answered from the companion's cache
        expect(mismatches(await site!.run(learned.map((c) => c.probe)))).toEqual([]);
      });
    }
  });
});
