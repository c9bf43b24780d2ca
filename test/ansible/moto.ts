/** A moto server on loopback for the AWS plays, and what it holds as aws_state.py reads it. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
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
  /** aws_state.py's answer for a command (vpc, groups, stack, newvpc, deployed). */
  state(...args: string[]): unknown;
  stop(): void;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server: ChildProcess = spawn(awsPython!, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const moto: Moto = {
    endpoint,
    state: (...args) => {
      const r = spawnSync(awsPython!, [path.join(repoRoot, 'test/ansible/aws_state.py'), endpoint, ...args], { encoding: 'utf8', env: { ...process.env, ...awsEnv } });
      if (r.status !== 0) throw new Error(`aws_state.py ${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    stop: () => {
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
