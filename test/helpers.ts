import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run, type Io } from '../src/cli';
import { formatLock } from '../src/resolve/lock';

export const repoRoot = path.resolve(__dirname, '..');
export const catalogRoot = path.join(repoRoot, 'catalog');
export const examplesRoot = path.join(repoRoot, 'examples');

export function tempDir(prefix = 'fwgen-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A throwaway catalog: the shipped device classes and lists, plus the given vendor files. */
export function tempCatalog(vendors: Record<string, string>, extra: Record<string, string> = {}): string {
  const root = tempDir();
  fs.mkdirSync(path.join(root, 'vendors'));
  fs.mkdirSync(path.join(root, 'lists'));
  fs.copyFileSync(path.join(catalogRoot, 'device-classes.yaml'), path.join(root, 'device-classes.yaml'));
  for (const f of fs.readdirSync(path.join(catalogRoot, 'lists'))) {
    fs.copyFileSync(path.join(catalogRoot, 'lists', f), path.join(root, 'lists', f));
  }
  for (const [name, text] of Object.entries(vendors)) fs.writeFileSync(path.join(root, 'vendors', name), text);
  for (const [name, text] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process, capturing what it prints. */
export async function runInProcess(args: string[], cwd?: string): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = { out: (t) => (stdout += t), err: (t) => (stderr += t) };
  const before = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    const status = await run(args, io);
    return { status, stdout, stderr };
  } finally {
    if (cwd) process.chdir(before);
  }
}

/** Runs the real binary as a user would, after the build. */
export function runBinary(args: string[], cwd = repoRoot): RunResult {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), ...args], { cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A small valid vendor file, as text, for tests to break one line of. */
export const minimalVendor = `vendor:
  id: acme
  name: Acme
  source:
    title: Acme firewall page
    seed: test.txt
variables:
  mid:
    description: merchant id
    pattern: "[0-9]+"
services:
  - id: api
    name: Acme API
    requirement: required
    deviceClasses: [pos-terminal]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [443]
        domains: ["m{mid}.acme.example"]
`;

export const minimalProfile = `profile:
  name: acme-site
region: eu
environment: production
vendors:
  acme:
    variables:
      mid: "42"
deviceClasses:
  pos-terminal:
    addresses: [10.0.0.0/24]
`;

/**
 * A test profile with lock-out checks answered: `acknowledge:` entries appended, so the text
 * must end with its last top-level section. For tests about something other than lock-outs;
 * by default the answers minimalProfile needs (its pos-terminal has no resolver and no admin flow).
 */
export function withAnswers(profile: string, answers: Array<[check: string, deviceClass: string]> = [['management-access', 'pos-terminal'], ['dns-lookup', 'pos-terminal']]): string {
  const lines = answers.map(([check, deviceClass]) => `  - { check: ${check}, deviceClass: ${deviceClass}, reason: A test site that is never applied }\n`);
  return lines.length === 0 ? profile : `${profile}acknowledge:\n${lines.join('')}`;
}

/** minimalProfile with its lock-outs answered: it validates and renders. */
export const answeredProfile = withAnswers(minimalProfile);

/** A vendor file for vendor acme holding the given `services:` items (YAML, indented as list items). */
export function acmeVendor(services: string): string {
  return `vendor:
  id: acme
  name: Acme
  source: { title: Acme page, seed: test.txt }
services:
${services}`;
}

/** A profile for site acme-site selecting vendor acme, with the given deviceClasses and targets bodies. */
export function acmeProfile(deviceClasses: string, targets = ''): string {
  return `profile:
  name: acme-site
region: eu
environment: production
vendors:
  acme: {}
deviceClasses:
${deviceClasses}${targets ? `targets:\n${targets}` : ''}`;
}

/** What a test lock pins for one name; the rest of the entry is filled with fixed values. */
export interface TestLockEntry {
  ipv4?: string[];
  ipv6?: string[];
  ttl?: number;
}

/**
 * A lock file as fwgen writes it (current version, digest over the content), pinning the
 * given names. Values are not checked here: a test may pin a malformed address on purpose.
 */
export function lockText(profile: string, entries: Record<string, TestLockEntry>): string {
  const names = new Map(
    Object.entries(entries).map(([name, e]) => [
      name,
      { ipv4: e.ipv4 ?? [], ipv6: e.ipv6 ?? [], ttl: e.ttl ?? 3600, cnames: [], server: '127.0.0.1:53', resolvedAt: '2026-01-01T00:00:00.000Z' },
    ]),
  );
  return formatLock({ profile, selection: 'sha256:0000000000000000', names }, ['A test lock.']);
}
