import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { snapshotDigest, type PolicySnapshot, type SnapshotRule } from '../../src/policy/snapshot';
import { repoRoot } from '../helpers';

/**
 * The digest as it was first defined: the sha256 of one canonical text, every entry's fields
 * as JSON, sorted, and the whole as JSON. snapshotDigest feeds the hash the same text piece
 * by piece; committed snapshots hold digests made this way, so the two must agree byte for byte.
 */
function digestOfWholeText(s: Pick<PolicySnapshot, 'deviceClasses' | 'rules' | 'names' | 'limits'>): string {
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort(byText);
  const canonical = JSON.stringify({
    deviceClasses: sorted(s.deviceClasses.map((c) => [c.id, c.os, c.addresses, c.interface ?? null, ...(c.defaultDrop !== undefined ? [c.management ?? null, c.defaultDrop] : [])])),
    rules: sorted(s.rules.map((r) => [r.id, r.deviceClass, r.direction, r.protocol, r.ports, r.networks, r.names, r.lists, r.peers, r.programs, r.vendor, r.service, r.requirement])),
    names: sorted(s.names.map((n) => [n.name, n.wildcard, n.ipv4 ?? null, n.ipv6 ?? null, n.stale ? [n.stale.reason, n.stale.families] : null])),
    limits: sorted(s.limits.map((l) => [l.target, l.severity, l.message])),
  });
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/** A small deterministic generator (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ids that order differently as text and as JSON text, repeat, prefix one another and hold escapes and surrogates. */
const PIECES = ['a', 'a-b', 'a.b', 'b', '"', '\\', '\n', '\u0001', 'é', '\ud83d\ude00', '\ud800', '~', ' ', 'site.x'];

function randomSnapshot(next: () => number, rules: number, networks: number): PolicySnapshot {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const id = () => Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(PIECES)).join('');
  const nets = (n: number) => Array.from({ length: n }, () => `${Math.floor(next() * 224)}.${Math.floor(next() * 256)}.0.0/${8 + Math.floor(next() * 25)}`);
  const rule = (): SnapshotRule => ({
    id: id(),
    deviceClass: pick(['pos', 'web']),
    direction: pick(['inbound', 'outbound'] as const),
    protocol: pick(['tcp', 'udp', 'icmp', null] as const),
    ports: [pick(['80', '443', '1-1024'])],
    networks: nets(Math.floor(next() * networks)),
    names: next() < 0.3 ? [id()] : [],
    lists: [],
    peers: [],
    programs: [],
    vendor: pick(['site', 'v']),
    service: id(),
    serviceName: 'x',
    requirement: 'required',
    origins: [],
  });
  return {
    version: 1,
    site: 's',
    profile: 'p.yaml',
    digest: '',
    deviceClasses: Array.from({ length: 3 }, () => ({ id: id(), os: 'linux', addresses: nets(2), ...(next() < 0.5 ? { defaultDrop: ['nftables'] } : {}) })),
    rules: Array.from({ length: rules }, rule),
    names: Array.from({ length: 5 }, () => ({ name: id(), wildcard: next() < 0.5, ...(next() < 0.5 ? { ipv4: nets(2), ipv6: [] } : {}) })),
    lists: [],
    vendors: [],
    limits: Array.from({ length: 4 }, () => ({ target: pick(['aws', 'pfsense']), severity: pick(['error', 'warning'] as const), message: id() })),
  };
}

describe('the policy snapshot digest', () => {
  test('is the digest every committed snapshot under out/ records, and of the whole canonical text', () => {
    const files = fs
      .readdirSync(path.join(repoRoot, 'out'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => path.join(repoRoot, 'out', d.name, 'policy.json'))
      .filter((f) => fs.existsSync(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const doc = JSON.parse(fs.readFileSync(f, 'utf8')) as PolicySnapshot;
      expect(snapshotDigest(doc)).toBe(doc.digest);
      expect(snapshotDigest(doc)).toBe(digestOfWholeText(doc));
    }
  });

  test('agrees with the whole canonical text on random snapshots: ids repeated, escaped, prefixes of one another, in any order', () => {
    const next = random(22);
    for (let i = 0; i < 300; i++) {
      const s = randomSnapshot(next, Math.floor(next() * 12), 6);
      expect(snapshotDigest(s)).toBe(digestOfWholeText(s));
    }
  });

  test('agrees on a large generated policy: a thousand rules, two hundred thousand networks', () => {
    const s = randomSnapshot(random(5), 1000, 400);
    expect(s.rules.reduce((n, r) => n + r.networks.length, 0)).toBeGreaterThan(150_000);
    expect(snapshotDigest(s)).toBe(digestOfWholeText(s));
  });
});
