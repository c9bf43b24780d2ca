import * as path from 'node:path';
import { evaluate, type Packet, type Path } from '../../src/ruleset/evaluate';
import type { Ruleset } from '../../src/ruleset/model';
import { readRulesets } from '../../src/ruleset/readers';
import { runBinary, runInProcess } from '../helpers';
import { apply, LINUX_TARGETS } from '../live/fixture';
import type { Probe } from '../live/probes';
import { renderLinux, type Mode, type Rendered } from '../live/render';
import { LiveSite } from '../live/site';
import { exampleProfiles, liveUnavailable, mismatches, nextTag, withLive } from '../live/suite';
import { randomPlan } from './packets';

/**
 * fwgen query --file against the kernel: every example, both Linux targets, both modes. The
 * rendered files are read back and evaluated for random packets (both families,
 * addresses at the policy's edges and elsewhere, ports at range edges); the same files are
 * applied in namespaces as their headers say and the same packets sent. Every verdict must be
 * what the kernel did. A few packets also go through the CLI: one allowed and one dropped through
 * the real binary (exit 0 or 3), the others through the same command run in this process.
 */

const live = withLive();
// 300 packets for each of the twelve example, target and mode runs: 3,600 in all, each sent
// through the kernel; FWGEN_QUERY_PACKETS raises it for a longer run.
const COUNT = Number(process.env.FWGEN_QUERY_PACKETS ?? 300);

/**
 * The rule sets of one place (the gateway, or one class's host) as query reads them, by file name.
 * Read once per rendered set, place and folder, not once per packet: the files do not change
 * between packets, and evaluate() keeps its address indexes on the rule sets it is given, so
 * every packet after the first reuses them.
 */
const readOnce = new WeakMap<Rendered, Map<string, Ruleset[]>>();
function rulesetsOf(rendered: Rendered, prefix: string, dir: string): Ruleset[] {
  let byPlace = readOnce.get(rendered);
  if (!byPlace) readOnce.set(rendered, (byPlace = new Map()));
  const key = `${dir}\0${prefix}`;
  const known = byPlace.get(key);
  if (known) return known;
  const files = [...rendered.files].filter(([name]) => name.startsWith(prefix) && /(\.nft|rules\.v[46]|ipsets)$/.test(name) && !name.endsWith('dnsmasq.conf'));
  const sets = files.length === 0 ? [] : readRulesets(files.map(([name, text]) => ({ file: path.join(dir, name), text })));
  byPlace.set(key, sets);
  return sets;
}

interface Expectation {
  pass: boolean;
  uncertain: boolean;
  /** The file and query arguments that answer it alone (gateway, or a single enforcing host). */
  cli?: { files: string[]; hook: Path; iif?: string; oif?: string };
}

function interfaceOf(site: LiveSite, addr: string): string {
  const place = site.layout.places.get(addr)!;
  if (place.kind === 'vendor') return 'wan0';
  return site.policy.deviceClasses.find((c) => c.id === place.id)!.interface ?? 'lan0';
}

function expectFor(site: LiveSite, rendered: Rendered, target: string, p: Omit<Probe, 'expect'>, dir: string): Expectation {
  const packet: Packet = { family: p.src.includes(':') ? 6 : 4, protocol: p.proto, src: p.src, dst: p.dst, dport: p.proto === 'icmp' ? undefined : p.port };
  if (rendered.mode === 'gateway') {
    const prefix = '';
    const sets = rulesetsOf(rendered, prefix, dir);
    const d = evaluate(sets, { ...packet, iif: { is: interfaceOf(site, p.src) }, oif: { is: interfaceOf(site, p.dst) } }, 'forward');
    const files = [...rendered.files.keys()].filter((n) => /(\.nft|rules\.v[46]|ipsets)$/.test(n)).map((n) => path.join(dir, n));
    return { pass: d.verdict === 'accept', uncertain: d.uncertain.length > 0, cli: { files, hook: 'forward', iif: interfaceOf(site, p.src), oif: interfaceOf(site, p.dst) } };
  }
  let pass = true;
  let uncertain = false;
  let cli: Expectation['cli'];
  for (const [addr, hook] of [[p.src, 'output'], [p.dst, 'input']] as const) {
    const place = site.layout.places.get(addr)!;
    if (place.kind !== 'class') continue;
    const prefix = target === 'nftables' ? `${place.id}.nft` : `${place.id}.`;
    const sets = rulesetsOf(rendered, prefix, dir);
    if (sets.length === 0) continue; // no host file for this class (not a Linux device)
    const d = evaluate(sets, { ...packet, ...(hook === 'output' ? { oif: { is: 'eth0' } } : { iif: { is: 'eth0' } }) }, hook);
    pass &&= d.verdict === 'accept';
    uncertain ||= d.uncertain.length > 0;
    const files = [...rendered.files.keys()].filter((n) => n.startsWith(prefix) && /(\.nft|rules\.v[46]|ipsets)$/.test(n)).map((n) => path.join(dir, n));
    cli = cli === undefined ? { files, hook } : undefined;
  }
  return { pass, uncertain, cli };
}

const MODES: Mode[] = ['gateway', 'host'];

describe.each(exampleProfiles.map((f) => [path.basename(f, '.yaml'), f]))('query --file agrees with the kernel: %s', (name, file) => {
  for (const mode of MODES) {
    describe(`${mode} mode`, () => {
      let site: LiveSite | undefined;
      let rendered: Record<string, Rendered>;
      let probes: Array<Omit<Probe, 'expect'>> = [];
      const seed = Number(process.env.FWGEN_QUERY_SEED ?? [...`${name} ${mode}`].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7));

      beforeAll(async () => {
        if (liveUnavailable() !== undefined) return;
        rendered = renderLinux(file, mode);
        const policy = rendered.nftables!.policy;
        const plan = randomPlan(policy, mode, seed, COUNT);
        probes = plan.probes;
        site = LiveSite.build(nextTag(`q${mode[0]}`), policy, plan.layout);
        await site.listen(probes.map((p) => ({ ...p, expect: 'pass' })));
      }, 600_000);
      afterAll(() => site?.destroy());

      for (const target of LINUX_TARGETS) {
        live(
          `${target}: every packet's verdict from the rendered files is what the kernel does (seed ${seed})`,
          async () => {
            const s = site!;
            s.reset();
            const r = rendered[target]!;
            const applied = apply[target](s, r, `q-${target}`);
            const dir = path.join('/rendered', target);
            const planned: Array<Probe & { x: Expectation }> = probes.map((p) => {
              const x = expectFor(s, r, target, p, dir);
              return { ...p, expect: x.pass ? 'pass' : 'drop', x };
            });
            if (mode === 'host' && applied.enforcing.size === 0) {
              // No Linux device at this site: no host file, nothing filters, every packet passes.
              expect(planned.every((p) => p.expect === 'pass')).toBe(true);
              return;
            }
            const outcomes = await s.run(planned);
            const allowed = planned.filter((p) => p.expect === 'pass').length;
            // eslint-disable-next-line no-console
            console.info(`${name} ${mode} ${target}: ${planned.length} packets, ${allowed} allowed, ${planned.filter((p) => p.x.uncertain).length} uncertain (seed ${seed})`);
            expect(mismatches(outcomes)).toEqual([]);
            expect(allowed).toBeGreaterThan(0);
            expect(planned.length - allowed).toBeGreaterThan(0);
            // Both families wherever the site has device addresses of both (the shop has no IPv6 on its hosts).
            const classFamilies = new Set([...s.layout.places].filter(([, pl]) => pl.kind === 'class').map(([a]) => a.includes(':')));
            for (const v6 of classFamilies) expect(planned.filter((p) => p.src.includes(':') === v6).length).toBeGreaterThan(0);

            // The CLI on the same files, for one allowed and one dropped packet of each family; the
            // first allowed and the first dropped through the real binary (its exit status and output).
            const written = s.write(r, `q-${target}-cli`);
            const picks = [true, false].flatMap((pass) => [4, 6].map((f) => planned.find((p) => p.x.cli && (p.expect === 'pass') === pass && (p.src.includes(':') ? 6 : 4) === f && p.proto !== 'icmp')));
            const throughBinary = new Set([picks[0] ?? picks[1], picks[2] ?? picks[3]]);
            for (const p of picks) {
              if (!p) continue;
              const cli = p.x.cli!;
              const args = ['query', '--from', p.src, '--to', p.dst, '--protocol', p.proto, '--port', String(p.port), '--hook', cli.hook, '--json'];
              for (const f of cli.files) args.push('--file', path.join(written, path.relative(dir, f)));
              if (cli.hook !== 'output' && cli.iif) args.push('--iif', cli.iif);
              if (cli.hook !== 'input' && cli.oif) args.push('--oif', cli.oif);
              const res = throughBinary.has(p) ? runBinary(args) : await runInProcess(args);
              const kernel = outcomes.find((o) => o.probe.src === p.src && o.probe.dst === p.dst && o.probe.port === p.port && o.probe.proto === p.proto)!;
              expect({ args: args.join(' '), status: res.status }).toEqual({ args: args.join(' '), status: kernel.passed ? 0 : 3 });
              expect(JSON.parse(res.stdout).verdict).toBe(kernel.passed ? 'allow' : 'drop');
            }
          },
          900_000,
        );
      }
    });
  }
});
