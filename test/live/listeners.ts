import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as ts from 'typescript';
import type { AgentRequest, ListenAnswer, LookupAnswer, ProbeAnswer, Proto } from './agent';

let compiled: string | undefined;

/** agent.ts as JavaScript that `node` runs inside a namespace: compiled once, written into `dir`. */
function agentScript(dir: string): string {
  compiled ??= ts.transpileModule(fs.readFileSync(path.join(__dirname, 'agent.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = path.join(dir, 'agent.js');
  if (!fs.existsSync(file)) fs.writeFileSync(file, compiled);
  return file;
}

type Answer = ListenAnswer & ProbeAnswer & LookupAnswer;
type Pending = (a: Answer) => void;
type Body<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The echo listeners of one namespace and the sender of the probes that start there. */
export class Agent {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private stderr = '';

  /** Starts the agent of namespace `ns`; its script is written into `dir` (the site's folder). */
  constructor(readonly ns: string, dir: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, agentScript(dir)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d) => (this.stderr += d.toString()));
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      const a = JSON.parse(line) as Answer;
      this.pending.get(a.id)?.(a);
      this.pending.delete(a.id);
    });
    this.child.on('exit', (code) => {
      for (const p of this.pending.values()) {
        const why = `agent in ${ns} exited (${code}): ${this.stderr}`;
        p({ id: 0, errors: [why], passed: false, detail: why, addresses: [], error: why });
      }
      this.pending.clear();
    });
  }

  private request(body: Body<AgentRequest>): Promise<Answer> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  async listen(tcp: Array<[string, number]>, udp: Array<[string, number]>): Promise<void> {
    const a = await this.request({ op: 'listen', tcp, udp });
    if (a.errors.length > 0) throw new Error(`listeners in ${this.ns}: ${a.errors.join('; ')}`);
  }

  async probe(proto: Proto, src: string, dst: string, port: number, timeout: number): Promise<ProbeAnswer> {
    return this.request({ op: 'probe', proto, src, dst, port, timeout });
  }

  /** Resolves a name from `src` through the resolver at `server`, as a device of this namespace would. */
  async lookup(src: string, server: string, name: string, family: 'ipv4' | 'ipv6'): Promise<LookupAnswer> {
    return this.request({ op: 'lookup', src, server, name, family });
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}
