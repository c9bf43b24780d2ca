import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

/**
 * Named network namespaces for the live-kernel tests: creation, veth links, addresses and
 * commands run inside them. Every name carries the process id, since others run the same
 * tests on the same machine, and everything made here is deleted by `destroy` (also on exit).
 */

export interface Run {
  ok: boolean;
  status: number | null;
  stdout: string;
  stderr: string;
}

function toRun(r: SpawnSyncReturns<string>): Run {
  return { ok: r.status === 0 && !r.error, status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export function sh(cmd: string, args: string[], input?: string): Run {
  return toRun(spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 60_000 }));
}

function must(r: Run, what: string): Run {
  if (!r.ok) throw new Error(`${what} failed (${r.status}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r;
}

/** Can this process make named namespaces and veth pairs? (root, iproute2, a kernel with netns) */
function probeNetns(): string | undefined {
  const name = `fwgen${process.pid}probe`;
  const add = sh('ip', ['netns', 'add', name]);
  if (!add.ok) return `ip netns add: ${add.stderr.trim()}`;
  try {
    const veth = sh('ip', ['-n', name, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0']);
    if (!veth.ok) return `veth: ${veth.stderr.trim()}`;
    const nft = sh('ip', ['netns', 'exec', name, 'nft', 'list', 'ruleset']);
    if (!nft.ok) return `nft in a namespace: ${nft.stderr.trim()}`;
    return undefined;
  } finally {
    sh('ip', ['netns', 'del', name]);
  }
}

let netnsProblem: string | undefined | null = null;

/** Why live namespaces cannot be used here, or undefined when they can. Probed once. */
export function netnsUnavailable(): string | undefined {
  if (netnsProblem === null) netnsProblem = probeNetns();
  return netnsProblem;
}

const live = new Set<Namespaces>();
function destroyAll(): void {
  for (const n of live) n.destroy();
}
process.on('exit', destroyAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    destroyAll();
    process.kill(process.pid, signal);
  });
}

/** A group of namespaces with one prefix (fwgen<pid><tag>), deleted together. */
export class Namespaces {
  readonly prefix: string;
  private readonly names: string[] = [];

  constructor(tag: string) {
    this.prefix = `fwgen${process.pid}${tag}`;
    live.add(this);
  }

  /** Creates namespace `<prefix>-<short>` with lo up and returns its full name. */
  add(short: string): string {
    const name = `${this.prefix}-${short}`;
    sh('ip', ['netns', 'del', name]); // a leftover of a crashed run with the same pid
    must(sh('ip', ['netns', 'add', name]), `ip netns add ${name}`);
    this.names.push(name);
    this.batch(name, ['link set lo up']);
    return name;
  }

  /** A veth pair made inside `a` with its peer moved straight into `b`: no name in the root namespace. */
  link(a: string, aName: string, b: string, bName: string): void {
    must(sh('ip', ['-n', a, 'link', 'add', aName, 'type', 'veth', 'peer', 'name', bName, 'netns', b]), `veth ${a}/${aName} ${b}/${bName}`);
  }

  /** Runs `ip` commands in a namespace through one `ip -batch`. */
  batch(ns: string, commands: string[]): void {
    if (commands.length === 0) return;
    must(sh('ip', ['-n', ns, '-batch', '-'], `${commands.join('\n')}\n`), `ip -n ${ns} -batch`);
  }

  exec(ns: string, cmd: string, args: string[], input?: string): Run {
    return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }

  mustExec(ns: string, cmd: string, args: string[], input?: string): Run {
    return must(this.exec(ns, cmd, args, input), `${ns}: ${cmd} ${args.join(' ')}`);
  }

  sysctl(ns: string, settings: Record<string, string>): void {
    this.mustExec(ns, 'sysctl', ['-q', '-w', ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)]);
  }

  destroy(): void {
    for (const name of this.names.splice(0)) sh('ip', ['netns', 'del', name]);
    live.delete(this);
  }
}
