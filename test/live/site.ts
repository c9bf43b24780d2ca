import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Policy } from '../../src/policy/types';
import { tempDir } from '../helpers';
import { Agent } from './listeners';
import { Namespaces, type Run } from './netns';
import type { Layout, Probe } from './probes';
import type { Rendered } from './render';

/**
 * A site in namespaces: a router, one namespace per device class (behind a bridge named as the
 * profile's interface, default lan0) and the vendor side ("internet", behind wan0) holding every
 * other address. The router is the only way between them, so a gateway file loaded there sees
 * every probe; a host file is loaded in its class's namespace. Echo listeners answer on every
 * address and port a probe is sent to.
 */

/** The router's address on every link: the next hop of every namespace (IPv4 and IPv6). */
export const ROUTER_V4 = '169.254.0.1';
const ROUTER_V6 = 'fe80::1';

export interface Outcome {
  probe: Probe;
  passed: boolean;
  detail: string;
}

const NO_DAD = { 'net.ipv6.conf.all.accept_dad': '0', 'net.ipv6.conf.default.accept_dad': '0' };
const NO_RP = { 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.default.rp_filter': '0' };
/**
 * Every device reaches every other through the router. A router forwarding back out of the
 * LAN a packet came in on sends a redirect, and a device that takes it sends to its peer
 * straight over the bridge from then on, past the firewall: the router sends none, and the
 * leaves take none (IPv6 routers always send them).
 */
const NO_REDIRECT_SENT = { 'net.ipv4.conf.all.send_redirects': '0', 'net.ipv4.conf.default.send_redirects': '0' };
const NO_REDIRECT_TAKEN = {
  'net.ipv4.conf.all.accept_redirects': '0',
  'net.ipv4.conf.default.accept_redirects': '0',
  'net.ipv6.conf.all.accept_redirects': '0',
  'net.ipv6.conf.default.accept_redirects': '0',
};
const LEAF = { ...NO_DAD, ...NO_RP, ...NO_REDIRECT_TAKEN };

/** The router's side of a link to a leaf namespace: its addresses there, up. */
function routerSide(dev: string): string[] {
  return [`addr add ${ROUTER_V4}/32 dev ${dev}`, `addr add ${ROUTER_V6}/64 dev ${dev} nodad`, `link set ${dev} up`];
}

/** A leaf namespace's way out: the router, for both families. */
const LEAF_ROUTES = [`route replace default via ${ROUTER_V4} dev eth0 onlink`, `route replace ::/0 via ${ROUTER_V6} dev eth0`];

function hostPrefix(a: string): string {
  return a.includes(':') ? `${a}/128` : `${a}/32`;
}

export class LiveSite {
  readonly router: string;
  readonly vendor: string;
  readonly classNs = new Map<string, string>();
  private readonly agents = new Map<string, Agent>();
  private readonly daemons = new Set<ChildProcess>();
  /** Spoofing namespaces by where they arrive at the router ('' for an interface of their own), with that device. */
  private readonly spoofers = new Map<string, { ns: string; dev: string }>();
  private readonly dir = tempDir('fwgen-live-');

  private constructor(
    readonly ns: Namespaces,
    readonly policy: Policy,
    readonly layout: Layout,
  ) {
    this.router = ns.add('r');
    this.vendor = ns.add('v');
  }

  /** Builds the namespaces and links for a policy's layout; nothing is filtered yet. */
  static build(tag: string, policy: Policy, layout: Layout): LiveSite {
    const site = new LiveSite(new Namespaces(tag), policy, layout);
    try {
      site.wire();
    } catch (e) {
      site.destroy();
      throw e;
    }
    return site;
  }

  private wire(): void {
    const { ns, router, vendor } = this;
    ns.sysctl(router, { ...NO_DAD, ...NO_RP, ...NO_REDIRECT_SENT, 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1' });
    const bridges = new Map<string, string[]>();
    this.policy.deviceClasses.forEach((c, i) => {
      const bridge = c.interface ?? 'lan0';
      if (!bridges.has(bridge)) bridges.set(bridge, []);
      const cns = ns.add(`c${i}`);
      this.classNs.set(c.id, cns);
      ns.sysctl(cns, LEAF);
      ns.link(router, `p${i}`, cns, 'eth0');
      bridges.get(bridge)!.push(`p${i}`);
      this.endpoint(cns, this.layout.classAddresses.get(c.id) ?? []);
    });
    ns.sysctl(vendor, LEAF);
    ns.link(router, 'wan0', vendor, 'eth0');
    this.endpoint(vendor, this.layout.vendorAddresses);
    const cmds: string[] = [];
    for (const [bridge, ports] of bridges) {
      cmds.push(`link add ${bridge} type bridge forward_delay 0 stp_state 0`, ...routerSide(bridge));
      for (const p of ports) cmds.push(`link set ${p} master ${bridge}`, `link set ${p} up`);
    }
    cmds.push(...routerSide('wan0'), `route add default dev wan0`, `route add ::/0 dev wan0`);
    this.policy.deviceClasses.forEach((c) => {
      for (const a of this.layout.classAddresses.get(c.id) ?? []) cmds.push(`route add ${hostPrefix(a)} dev ${c.interface ?? 'lan0'}`);
    });
    ns.batch(router, cmds);
  }

  /**
   * A namespace that sends with other devices' addresses: behind an interface of its own on the
   * router (neither a class's nor the vendor side's), or, given a LAN bridge, as one more device
   * on that LAN. Made on first use.
   */
  private spoofer(bridge: string | undefined): { ns: string; dev: string } {
    const known = this.spoofers.get(bridge ?? '');
    if (known) return known;
    const i = this.spoofers.size;
    const ns = this.ns.add(`s${i}`);
    this.ns.sysctl(ns, LEAF);
    this.ns.link(this.router, `sp${i}`, ns, 'eth0');
    this.ns.batch(this.router, bridge ? [`link set sp${i} master ${bridge}`, `link set sp${i} up`] : routerSide(`sp${i}`));
    this.endpoint(ns, []);
    const made = { ns, dev: bridge ?? `sp${i}` };
    this.spoofers.set(bridge ?? '', made);
    return made;
  }

  /**
   * Sends probes from a spoofer with their sources, addresses of device classes (see
   * `spoofer`). While they run the router routes those addresses to the spoofer, so an answer
   * to a probe that got through comes back to it; then the routes go back to the classes.
   */
  async runSpoofed(probes: Probe[], bridge?: string): Promise<Outcome[]> {
    const { ns, dev } = this.spoofer(bridge);
    const sources = [...new Set(probes.map((p) => p.src))];
    const home = (a: string) => {
      const place = this.layout.places.get(a);
      const id = place?.kind === 'class' ? place.id : undefined;
      if (id === undefined) throw new Error(`internal: spoofed source ${a} is not a device-class address`);
      return this.policy.deviceClasses.find((c) => c.id === id)!.interface ?? 'lan0';
    };
    const taken = probes.filter((p) => sources.includes(p.dst));
    if (taken.length > 0) throw new Error(`internal: spoofed probes to an address they spoof: ${taken.map((p) => p.dst).join(', ')}`);
    // Removing a device's last IPv4 address (the previous run's) took its routes with it: made again.
    this.ns.batch(ns, [...sources.map((a) => `addr add ${hostPrefix(a)} dev eth0${a.includes(':') ? ' nodad' : ''}`), ...LEAF_ROUTES]);
    this.ns.batch(this.router, sources.map((a) => `route replace ${hostPrefix(a)} dev ${dev}`));
    try {
      return await this.run(probes, undefined, undefined, ns);
    } finally {
      this.ns.batch(this.router, sources.map((a) => `route replace ${hostPrefix(a)} dev ${home(a)}`));
      this.ns.batch(ns, sources.map((a) => `addr del ${hostPrefix(a)} dev eth0`));
    }
  }

  /** A leaf namespace: its addresses on eth0 and the router as the way out. */
  private endpoint(name: string, addresses: string[]): void {
    this.ns.batch(name, [
      'link set eth0 up',
      ...addresses.map((a) => `addr add ${hostPrefix(a)} dev eth0${a.includes(':') ? ' nodad' : ''}`),
      ...LEAF_ROUTES,
    ]);
  }

  nsOf(addr: string): string {
    const place = this.layout.places.get(addr);
    if (!place) throw new Error(`internal: ${addr} has no place in the layout`);
    return place.kind === 'vendor' ? this.vendor : this.classNs.get(place.id)!;
  }

  agent(ns: string): Agent {
    let a = this.agents.get(ns);
    if (!a) this.agents.set(ns, (a = new Agent(ns, this.dir)));
    return a;
  }

  /** Echo listeners on every destination of the probes (TCP and UDP, on its exact address). Called once per site. */
  async listen(probes: Probe[]): Promise<void> {
    const wanted = new Map<string, { tcp: Set<string>; udp: Set<string> }>();
    for (const p of probes) {
      if (p.proto === 'icmp') continue;
      const ns = this.nsOf(p.dst);
      if (!wanted.has(ns)) wanted.set(ns, { tcp: new Set(), udp: new Set() });
      wanted.get(ns)![p.proto].add(JSON.stringify([p.dst, p.port]));
    }
    await Promise.all(
      [...wanted].map(([ns, w]) => {
        const parse = (s: Set<string>) => [...s].map((x) => JSON.parse(x) as [string, number]);
        return this.agent(ns).listen(parse(w.tcp), parse(w.udp));
      }),
    );
  }

  /**
   * Sends every probe from its source namespace, at most `width` at once. A probe expected to
   * drop waits `drop` ms for its answer: an allowed packet through a veth is answered within a
   * millisecond or two, so a wrongly passing probe is still seen, and the run stays short.
   * ICMP probes go last, on their own: each is a ping process, and spawning blocks an agent's
   * echo listeners for as long as it takes.
   */
  async run(probes: Probe[], timeouts = { pass: 2000, drop: 300 }, width = 256, sender?: string): Promise<Outcome[]> {
    const out: Outcome[] = new Array(probes.length);
    const phase = async (indexes: number[], at = width) => {
      let next = 0;
      const worker = async () => {
        while (next < indexes.length) {
          const i = indexes[next++]!;
          const p = probes[i]!;
          const a = await this.agent(sender ?? this.nsOf(p.src)).probe(p.proto, p.src, p.dst, p.port, p.expect === 'pass' ? timeouts.pass : timeouts.drop);
          out[i] = { probe: p, passed: a.passed, detail: a.detail };
        }
      };
      await Promise.all(Array.from({ length: Math.min(at, indexes.length) }, worker));
    };
    const all = probes.map((_, i) => i);
    await phase(all.filter((i) => probes[i]!.proto !== 'icmp'));
    await phase(all.filter((i) => probes[i]!.proto === 'icmp'));
    // A rule set decides the same way every time, so an allowed probe that went unanswered is sent
    // again, a few at a time: a burst of first packets to unresolved neighbours overflows the
    // kernel's queue for them, and a lost UDP datagram is never sent again the way a SYN is.
    // A probe the rules really drop times out again; one expected to drop is never retried.
    for (let round = 0; round < 2; round++) {
      const lost = all.filter((i) => probes[i]!.expect === 'pass' && !out[i]!.passed && out[i]!.detail === 'timeout');
      if (lost.length === 0) break;
      await phase(lost, 8);
    }
    return out;
  }

  /** Writes rendered files to a folder of their own and returns it. */
  write(rendered: Rendered, label: string): string {
    const dir = path.join(this.dir, label);
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, content] of rendered.files) fs.writeFileSync(path.join(dir, name), content);
    return dir;
  }

  /** Empties every firewall of the site (iptables-nft, nftables and ipsets alike). */
  reset(): void {
    for (const n of [this.router, this.vendor, ...this.classNs.values()]) {
      this.ns.mustExec(n, 'nft', ['flush', 'ruleset']);
      this.ns.exec(n, 'ipset', ['destroy']);
    }
  }

  exec(ns: string, cmd: string, args: string[], input?: string): Run {
    return this.ns.mustExec(ns, cmd, args, input);
  }

  /** A long-running process in a namespace (dnsmasq), stopped by `stop` or `destroy`. */
  daemon(ns: string, cmd: string, args: string[]): { child: ChildProcess; output: () => string } {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    this.daemons.add(child);
    child.on('exit', () => this.daemons.delete(child));
    return { child, output: () => output };
  }

  async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill();
    });
  }

  destroy(): void {
    for (const d of this.daemons) d.kill();
    for (const a of this.agents.values()) a.close();
    this.agents.clear();
    this.ns.destroy();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
