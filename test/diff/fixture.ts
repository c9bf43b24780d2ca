import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatLock, type LockEntry } from '../../src/resolve/lock';
import { selectionDigest } from '../../src/resolve/update-lock';
import { runInProcess, tempDir } from '../helpers';

/** The files of a small workspace: one own vendor with an address list, two sites, a lock. */
export interface FleetFiles {
  vendor: string;
  list: string;
  site: string;
  lock: string;
}

export const vendorText = `vendor:
  id: acme
  name: Acme Payments
  source:
    title: Acme network requirements
    url: https://acme.example/firewall
    seed: acme.txt
services:
  - id: api
    name: Acme API
    requirement: required
    deviceClasses: [pos-terminal, boh-server]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [443]
        domains: [api.acme.example]
        deviceClasses: [pos-terminal]
      - direction: outbound
        protocol: tcp
        ports: [8443]
        lists: [acme-edge]
        deviceClasses: [boh-server]
  - id: support
    name: Remote support
    requirement: required
    deviceClasses: [boh-server]
    flows:
      - direction: inbound
        protocol: tcp
        ports: [5938]
        addresses: [192.0.2.64/27]
`;

export const listText = `list:
  id: acme-edge
  name: Acme edge ranges
  source:
    url: https://acme.example/ranges.txt
    recorded: 2026-10-01
addresses:
  - 198.51.100.0/25
`;

export const siteText = `profile:
  name: store-1
region: eu
environment: production
# The site's DNS resolvers: pos-terminal reaches api.acme.example by name.
resolvers: [192.0.2.53]
vendors:
  acme: {}
deviceClasses:
  pos-terminal:
    addresses: [10.1.0.0/28]
  boh-server:
    addresses: [10.1.0.20]
# The store's machines are managed at their consoles: their host firewalls let no admin in.
acknowledge:
  - { check: management-access, deviceClass: pos-terminal, reason: Managed at the console }
  - { check: management-access, deviceClass: boh-server, reason: Managed at the console }
`;

/** What a test lock pins for api.acme.example beyond its one IPv4 address. */
export interface FixtureLock {
  /** When the lookup ran: a re-resolve that found the same addresses only moves this. */
  resolvedAt?: string;
  /** Why the last IPv4 lookup failed (its address is from an earlier one). */
  staleIpv4?: string;
  ipv6?: string[];
  /** Why the last IPv6 lookup failed. */
  staleIpv6?: string;
  /** The name pinned, when not the one the vendor file asks for. */
  name?: string;
}

/**
 * Site store-1's lock as fwgen resolve writes it (current version, the selection of the name
 * it pins, digest over the content), through the real formatLock. The address is not checked here: a test may pin a malformed one on purpose.
 */
export function lockText(address: string, o: FixtureLock = {}): string {
  const entry: LockEntry = {
    ipv4: [address],
    ipv6: o.ipv6 ?? [],
    ttl: 3600,
    cnames: [],
    server: '127.0.0.1:53',
    resolvedAt: o.resolvedAt ?? '2026-11-01T00:00:00.000Z',
  };
  const stale = { ...(o.staleIpv4 ? { ipv4: o.staleIpv4 } : {}), ...(o.staleIpv6 ? { ipv6: o.staleIpv6 } : {}) };
  if (Object.keys(stale).length > 0) entry.stale = stale;
  const name = o.name ?? 'api.acme.example';
  return formatLock({ profile: 'store-1', selection: selectionDigest([name]), names: new Map([[name, entry]]) }, ['A test lock.']);
}

export const workspaceText = `sites: [sites/*.yaml]
catalog: [catalog-local]
output: out
`;

export function git(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.org',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.org',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: cwd,
    },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Writes files (relative path → text) into the repository and commits them under a tag. */
export function commit(repo: string, tag: string, files: Record<string, string>): void {
  writeTree(files, repo);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', tag]);
  git(repo, ['tag', tag]);
}

/** A folder holding the given files (relative path → text). */
export function writeTree(files: Record<string, string>, root = tempDir('fwgen-tree-')): string {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

/** The first commit of the test repository: the workspace, its own catalog layer, one site and its lock. */
const startFiles = (): Record<string, string> => ({
  'fwgen.yaml': workspaceText,
  'catalog-local/vendors/acme.yaml': vendorText,
  'catalog-local/lists/acme-edge.yaml': listText,
  'sites/store-1.yaml': siteText,
  'sites/store-1.lock.yaml': lockText('203.0.113.10'),
});

/** A repository whose commits hold no rendered output (as an fwgen before policy snapshots left it, or a workspace that never rendered). */
export function newRepo(): string {
  const repo = tempDir('fwgen-diff-');
  git(repo, ['init', '-q', '-b', 'main']);
  commit(repo, 'start', startFiles());
  return repo;
}

/** Writes files, renders the workspace (out/, policy snapshots included) and commits both, as a pull request that passes fwgen check. */
export async function commitRendered(repo: string, tag: string, files: Record<string, string>): Promise<void> {
  writeTree(files, repo);
  const r = await runInProcess(['render'], repo);
  if (r.status !== 0) throw new Error(`fwgen render in ${repo}: ${r.stderr}`);
  commit(repo, tag, {});
}

/** A repository whose commits hold out/ as rendered: the base side of diff is the committed snapshot. */
export async function newRenderedRepo(): Promise<string> {
  const repo = tempDir('fwgen-diff-');
  git(repo, ['init', '-q', '-b', 'main']);
  await commitRendered(repo, 'start', startFiles());
  return repo;
}
