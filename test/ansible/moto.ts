/** A moto server on loopback for the AWS plays, and what it holds as aws_state.py reads it. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { repoRoot } from '../helpers';
import { awsPython } from './harness';

/** Credentials that reach nothing but the local endpoint. */
export const awsEnv = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether a GET of the URL is answered with a 2xx status. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000, agent: false }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

export interface Moto {
  endpoint: string;
  /** aws_state.py's answer for a question (vpc, groups, stack, newvpc, deployed). */
  state(...args: string[]): Promise<unknown>;
  stop(): void;
}

/**
 * One aws_state.py for the endpoint, asked a question a line: its boto3 import is paid once per
 * file, not once per question. Started with the server, so the import overlaps moto's own start.
 */
function stateReader(endpoint: string): { ask: (args: string[]) => Promise<unknown>; stop: () => void } {
  const child = spawn(awsPython!, [path.join(repoRoot, 'test/ansible/aws_state.py'), endpoint], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...awsEnv } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const waiting: Array<{ args: string[]; resolve: (v: unknown) => void; reject: (e: Error) => void }> = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const asked = waiting.shift()!;
    const reply = JSON.parse(line) as { ok?: unknown; error?: string };
    if (reply.error !== undefined) asked.reject(new Error(`aws_state.py ${asked.args.join(' ')}: ${reply.error}`));
    else asked.resolve(reply.ok);
  });
  child.on('exit', (code) => {
    for (const asked of waiting.splice(0)) asked.reject(new Error(`aws_state.py ${asked.args.join(' ')}: exited (${code}) ${stderr}`));
  });
  return {
    ask: (args) =>
      new Promise((resolve, reject) => {
        waiting.push({ args, resolve, reject });
        child.stdin!.write(`${JSON.stringify(args)}\n`);
      }),
    stop: () => {
      child.kill('SIGKILL');
      child.unref();
    },
  };
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server: ChildProcess = spawn(awsPython!, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const reader = stateReader(endpoint);
  const moto: Moto = {
    endpoint,
    state: (...args) => reader.ask(args),
    stop: () => {
      reader.stop();
      server.kill('SIGKILL');
      server.unref();
    },
  };
  // Polled from here: a Python started every 200 ms to ask would cost more CPU than the wait.
  for (let i = 0; i < 100; i++) {
    if (await answers(`${endpoint}/moto-api/`)) return moto;
    await new Promise((r) => setTimeout(r, 200));
  }
  moto.stop();
  throw new Error(`moto did not start on ${endpoint}`);
}
