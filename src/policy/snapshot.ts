import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Profile } from '../catalog/profile';
import type { Catalog } from '../catalog/types';
import { formatPort } from '../net/ports';
import { usesTarget } from '../catalog/site-targets';
import { dropHostTargets } from './host-firewalls';
import type { Policy, Rule, RuleOrigin } from './types';

/**
 * The site's policy as a committed file, out/<site>/policy.json (catalog/schema/policy.schema.json):
 * what every rule allows, with the names' pinned addresses and where each rule comes from.
 * `fwgen diff` compares the base revision's committed snapshot with a fresh render, so a
 * catalog change that arrives with an fwgen upgrade shows as a policy change. Only what a
 * site's inputs decide goes in it: no timestamps, no install paths, one target set.
 */
export const SNAPSHOT_FILE = 'policy.json';
export const SNAPSHOT_VERSION = 1;

export type SnapshotFamily = 'ipv4' | 'ipv6';

export interface SnapshotOrigin {
  /** file:line of the catalog flow or the profile line (a portable path: fwgen/catalog/… for the shipped catalog). */
  at: string;
  /** Where on the vendor's page, when the catalog says. */
  cite?: string;
}

export interface SnapshotRule {
  id: string;
  deviceClass: string;
  direction: 'inbound' | 'outbound';
  /** null for a program-only rule. */
  protocol: 'tcp' | 'udp' | 'icmp' | null;
  ports: string[];
  /** Literal networks of the other end (addresses, lists, peers), aggregated. */
  networks: string[];
  names: string[];
  lists: string[];
  peers: string[];
  programs: string[];
  vendor: string;
  service: string;
  serviceName: string;
  requirement: string;
  origins: SnapshotOrigin[];
}

export interface SnapshotName {
  name: string;
  wildcard: boolean;
  /** The lock's addresses; both absent when the lock does not hold the name. */
  ipv4?: string[];
  ipv6?: string[];
  /** The last lookup failed for these families; the addresses are from an earlier one. */
  stale?: { reason: string; families: SnapshotFamily[] };
}

export interface SnapshotClass {
  id: string;
  /** What the class's devices run here (the profile's, else the catalog's default): it decides which targets write its rules. */
  os: string;
  addresses: string[];
  interface?: string;
  /** The tcp ports the profile says the class is managed on, when not SSH, RDP or WinRM. */
  management?: number[];
  /** The targets whose host firewall on these devices drops what the rules do not allow; absent in older snapshots. */
  defaultDrop?: string[];
}

/** An answer of the profile to a site check (acknowledge:), as a reviewer reads it. */
export interface SnapshotAcknowledgement {
  check: string;
  deviceClass: string;
  service?: string;
  reason: string;
  /** The acknowledge entry, file:line. */
  at: string;
}

/** A vendor flow, or one direction of it, the profile leaves out (excludeFlows). */
export interface SnapshotExclusion {
  vendor: string;
  service: string;
  flow: number;
  excluded: 'flow' | 'inbound' | 'outbound';
  reason: string;
  /** The excludeFlows entry, file:line. */
  at: string;
  /** The flow in the catalog, file:line. */
  flowAt: string;
  cite?: string;
}

export interface SnapshotList {
  id: string;
  url: string;
  recorded: string;
  version?: string;
  published?: string;
}

export interface SnapshotVendor {
  id: string;
  title: string;
  url?: string;
  /** Service id → where on the page the service comes from. */
  cites?: Record<string, string>;
}

/** What a target cannot hold (rule quotas, lengths): a reviewer hears when one is newly reached. */
export interface SnapshotLimit {
  target: string;
  severity: 'error' | 'warning';
  message: string;
  at?: string;
}

export interface PolicySnapshot {
  version: typeof SNAPSHOT_VERSION;
  site: string;
  profile: string;
  lock?: string;
  /** sha256 over what the site allows (everything but origins, pages and lists' sources): equal digests, unchanged site. */
  digest: string;
  deviceClasses: SnapshotClass[];
  rules: SnapshotRule[];
  names: SnapshotName[];
  lists: SnapshotList[];
  vendors: SnapshotVendor[];
  limits: SnapshotLimit[];
  /** Absent in snapshots of an fwgen before they were recorded: diff then does not compare them. */
  acknowledgements?: SnapshotAcknowledgement[];
  exclusions?: SnapshotExclusion[];
}

export interface SnapshotInputs {
  policy: Policy;
  catalog: Catalog;
  profile: Profile;
  /** Per name, the families whose last lookup failed, as the lock records them. */
  staleFamilies: Map<string, SnapshotFamily[]>;
  limits: SnapshotLimit[];
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The snapshot of one rendered site. */
export function policySnapshot(i: SnapshotInputs): PolicySnapshot {
  const { policy, catalog } = i;
  const fromProfile = variableOrigins(catalog, i.profile);
  const rules = policy.rules.map((r) => snapshotRule(r, fromProfile));
  const names: SnapshotName[] = [...policy.names.values()]
    .map((n) => {
      const fams = i.staleFamilies.get(n.name) ?? [];
      return {
        name: n.name,
        wildcard: n.wildcard,
        ...(n.addresses ? { ipv4: [...n.addresses.ipv4], ipv6: [...n.addresses.ipv6] } : {}),
        ...(n.stale !== undefined ? { stale: { reason: n.stale, families: [...fams] } } : {}),
      };
    })
    .sort((a, b) => byText(a.name, b.name));
  const lists = snapshotLists(catalog, policyListIds(policy));
  const vendors = policy.vendors
    .map((v): SnapshotVendor => {
      const cat = catalog.vendors.get(v.id);
      const used = new Set(policy.rules.filter((r) => r.vendor === v.id).map((r) => r.service));
      const cites: Record<string, string> = {};
      for (const s of cat?.services ?? []) if (used.has(s.id) && s.cite) cites[s.id] = s.cite;
      return { id: v.id, title: v.title, ...(cat?.source.url ? { url: cat.source.url } : {}), ...(Object.keys(cites).length ? { cites } : {}) };
    })
    .sort((a, b) => byText(a.id, b.id));
  const deviceClasses = policy.deviceClasses
    .map((c): SnapshotClass => {
      const management = i.profile.deviceClasses.get(c.id)?.management;
      return {
        id: c.id,
        os: c.os,
        addresses: [...c.addresses.ipv4, ...c.addresses.ipv6],
        ...(c.interface !== undefined ? { interface: c.interface } : {}),
        ...(management ? { management: [...management] } : {}),
        defaultDrop: dropHostTargets(c.os, i.profile.targets).filter((t) => usesTarget(i.profile, t)),
      };
    })
    .sort((a, b) => byText(a.id, b.id));
  const line = (loc: { file: string; line: number }) => `${loc.file}:${loc.line}`;
  const acknowledgements = policy.acknowledgements.map(
    (a): SnapshotAcknowledgement => ({ check: a.check, deviceClass: a.deviceClass, ...(a.service ? { service: a.service } : {}), reason: a.reason, at: line(a.loc) }),
  );
  const exclusions = policy.exclusions.map(
    (x): SnapshotExclusion => ({
      vendor: x.vendor,
      service: x.service,
      flow: x.flow,
      excluded: x.excluded,
      reason: x.reason,
      at: line(x.loc),
      flowAt: line(x.flowLoc),
      ...(x.cite ? { cite: x.cite } : {}),
    }),
  );
  const limits = [...i.limits].sort((a, b) => byText(JSON.stringify(a), JSON.stringify(b)));
  const body = { deviceClasses, rules: sortRules(rules), names, limits };
  return {
    version: SNAPSHOT_VERSION,
    site: policy.profile.name,
    profile: policy.profile.file,
    // Beside the profile, named from the same root: the policy's own lock path depends on the working folder.
    ...(policy.lockFile ? { lock: path.posix.join(path.posix.dirname(policy.profile.file), path.basename(policy.lockFile)) } : {}),
    digest: snapshotDigest(body),
    deviceClasses: body.deviceClasses,
    rules: body.rules,
    names,
    lists,
    vendors,
    limits,
    acknowledgements,
    exclusions,
  };
}

/** The file as committed: two-space JSON, keys in the order built, one trailing newline. */
export function formatSnapshot(s: PolicySnapshot): string {
  return JSON.stringify(s, null, 2) + '\n';
}

/** By id, then (two rules of one id) by their whole text: the order of `${id}\0${JSON}`, without writing every rule out. */
function sortRules(rules: SnapshotRule[]): SnapshotRule[] {
  return orderedBy(rules, (r) => r.id, (r) => JSON.stringify(r));
}

/**
 * `items` sorted by `key`, and where two keys are equal (or either is missing) by `whole`,
 * each item's whole text made only for such ties and once: `whole` may be as long as a rule
 * of ten thousand addresses, and a million of them must not be held at once.
 */
function orderedBy<T>(items: readonly T[], key: (t: T) => string | undefined, whole: (t: T) => string): T[] {
  const keys = new Map<T, string | undefined>(items.map((t) => [t, key(t)]));
  const text = new Map<T, string>();
  const wholeOf = (t: T) => text.get(t) ?? (text.set(t, whole(t)), text.get(t)!);
  return [...items].sort((a, b) => {
    const ka = keys.get(a);
    const kb = keys.get(b);
    return (ka !== undefined && kb !== undefined && byText(ka, kb)) || byText(wholeOf(a), wholeOf(b));
  });
}

/**
 * The digest over what the site allows, whatever order a file lists it in: diff recomputes
 * it for a committed snapshot, so an edited file cannot claim another file's digest.
 *
 * It is the sha256 of one canonical text, JSON.stringify({ deviceClasses, rules, names,
 * limits }) where each is the JSON text of every entry's fields, sorted. That text is fed to
 * the hash piece by piece, entry by entry, so it is never held whole: for a million
 * addresses it is twice the size of policy.json.
 */
export function snapshotDigest(s: Pick<PolicySnapshot, 'deviceClasses' | 'rules' | 'names' | 'limits'>): string {
  const hash = createHash('sha256');
  const part = (name: string, rows: unknown[][], first: boolean) => {
    hash.update(`${first ? '{' : ','}${JSON.stringify(name)}:[`);
    sortedRows(rows).forEach((row, i) => hash.update((i > 0 ? ',' : '') + JSON.stringify(JSON.stringify(row))));
    hash.update(']');
  };
  // A class's management ports and default drop count where recorded: a snapshot from before
  // they were keeps the digest it was written with.
  part('deviceClasses', s.deviceClasses.map((c) => [c.id, c.os, c.addresses, c.interface ?? null, ...(c.defaultDrop !== undefined ? [c.management ?? null, c.defaultDrop] : [])]), true);
  part('rules', s.rules.map((r) => [r.id, r.deviceClass, r.direction, r.protocol, r.ports, r.networks, r.names, r.lists, r.peers, r.programs, r.vendor, r.service, r.requirement]), false);
  part('names', s.names.map((n) => [n.name, n.wildcard, n.ipv4 ?? null, n.ipv6 ?? null, n.stale ? [n.stale.reason, n.stale.families] : null]), false);
  part('limits', s.limits.map((l) => [l.target, l.severity, l.message]), false);
  hash.update('}');
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Rows in the order of their JSON texts. A row starts with its entry's id or name: where that
 * is a string, JSON texts of two different ones differ before either ends (a closing quote
 * meets a character or an escape), so comparing them orders the rows as their whole texts do.
 */
function sortedRows(rows: unknown[][]): unknown[][] {
  return orderedBy(rows, (row) => (typeof row[0] === 'string' ? JSON.stringify(row[0]) : undefined), (row) => JSON.stringify(row));
}

function snapshotRule(r: Rule, fromProfile: VariableOrigins): SnapshotRule {
  const origins = new Map<string, SnapshotOrigin>();
  for (const o of r.origins) {
    const at = `${o.loc.file}:${o.loc.line}`;
    origins.set(`${at}\u0000${o.cite ?? ''}`, { at, ...(o.cite ? { cite: o.cite } : {}) });
  }
  for (const v of r.origins.flatMap(fromProfile)) if (!origins.has(`${v}\u0000`)) origins.set(`${v}\u0000`, { at: v });
  return {
    id: r.id,
    deviceClass: r.deviceClass,
    direction: r.direction,
    protocol: r.protocol ?? null,
    ports: r.ports.map((p) => formatPort(p)),
    networks: [...r.remote.addresses.ipv4, ...r.remote.addresses.ipv6],
    names: [...r.remote.names],
    lists: [...r.remote.lists],
    peers: [...r.remote.peers],
    programs: [...r.programs],
    vendor: r.vendor,
    service: r.service,
    serviceName: r.serviceName,
    requirement: r.requirement,
    // The rule's own flows first (catalog or profile), then the profile lines their variables come from.
    origins: [...origins.values()],
  };
}

/** The profile lines a rule depends on: for each vendor flow, the variables it uses. */
type VariableOrigins = (o: RuleOrigin) => string[];

const IN_NAME = /\{([^}]*)\}/g;

function variableOrigins(catalog: Catalog, profile: Profile): VariableOrigins {
  return (o) => {
    const flow = catalog.vendors.get(o.vendor)?.services.find((s) => s.id === o.service)?.flows[o.flow];
    const values = profile.vendors.get(o.vendor)?.variables;
    if (!flow || !values) return [];
    const used = [
      ...flow.ports.flatMap((p) => ('variable' in p ? [p.variable] : [])),
      ...flow.addresses.flatMap((a) => ('variable' in a ? [a.variable] : [])),
      ...flow.domains.flatMap((d) => [...d.matchAll(IN_NAME)].map((m) => m[1]!)),
    ];
    return used.flatMap((v) => {
      const loc = values.get(v)?.origin;
      return loc ? [`${loc.file}:${loc.line}`] : [];
    });
  };
}

/** The address lists a policy's rules name, sorted. */
export function policyListIds(policy: Pick<Policy, 'rules'>): string[] {
  return [...new Set(policy.rules.flatMap((r) => r.remote.lists))].sort(byText);
}

/** The sources of the named lists as a snapshot records them (diff compares them). */
export function snapshotLists(catalog: Pick<Catalog, 'lists'>, ids: string[]): SnapshotList[] {
  return ids.flatMap((id): SnapshotList[] => {
    const l = catalog.lists.get(id);
    if (!l) return [];
    const version = l.feed?.version;
    const published = l.feed?.published;
    return [{ id, url: l.url, recorded: String(l.recorded), ...(version !== undefined ? { version: String(version) } : {}), ...(published !== undefined ? { published: String(published) } : {}) }];
  });
}
