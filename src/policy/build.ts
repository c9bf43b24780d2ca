import type { Profile } from '../catalog/profile';
import { citeSource } from '../catalog/cite';
import { SITE_VENDOR } from '../catalog/site-ids';
import type { Catalog } from '../catalog/types';
import { AddressSets, listBucket, sameList, type AddressSet } from '../net/addresses';
import { InputError, sortIssues } from '../errors';
import { answerFindings } from './answers';
import { byLocation, checkRules, explicitAnyFindings } from './checks';
import { lockOutFindings } from './lockout';
import { mergePorts, type PortRange } from '../net/ports';
import { select, type SelectedFlow, type Selection } from './select';
import {
  emptyAddressBook,
  type AddressBook,
  type BoundClass,
  type CheckFinding,
  type Direction,
  type NameInfo,
  type Policy,
  type Protocol,
  type Remote,
  type Rule,
  type Writable,
} from './types';

const OPPOSITE: Record<Direction, Direction> = { inbound: 'outbound', outbound: 'inbound' };

function protocolsOf(p: SelectedFlow['flow']['protocol']): Array<Protocol | undefined> {
  if (p === undefined) return [undefined];
  return p === 'tcp/udp' ? ['tcp', 'udp'] : [p];
}

interface Draft {
  sel: SelectedFlow;
  deviceClass: string;
  direction: Direction;
  protocol?: Protocol;
  ports: PortRange[];
  remote: Remote;
}

function remoteKey(r: Remote): string {
  return JSON.stringify([r.addresses.ipv4, r.addresses.ipv6, r.names, r.lists, r.peers]);
}

/**
 * What equal remotes share without spelling out their networks: names, lists and peers in
 * full, the networks by their buckets. Remotes with the same bucket are then compared
 * network by network.
 */
function remoteBucket(r: Remote): string {
  return JSON.stringify([listBucket(r.addresses.ipv4), listBucket(r.addresses.ipv6), r.names, r.lists, r.peers]);
}

/** `f`, computed once per remote: the drafts of a flow share one. */
function perRemote(f: (r: Remote) => string): (r: Remote) => string {
  const known = new Map<Remote, string>();
  return (r) => {
    let v = known.get(r);
    if (v === undefined) known.set(r, (v = f(r)));
    return v;
  };
}

function sameNetworks(a: Remote, b: Remote): boolean {
  return sameList(a.addresses.ipv4, b.addresses.ipv4) && sameList(a.addresses.ipv6, b.addresses.ipv6);
}

/**
 * Turns the selection into the flat IR: one rule per device class, direction and
 * protocol; flows between two device classes of the site are mirrored so each side gets
 * its half; rules that differ only in ports are merged; everything sorted.
 */
export function buildPolicy(catalog: Catalog, profile: Profile, book: AddressBook = emptyAddressBook, allowUnresolved = false): Policy {
  return buildFromSelection(catalog, profile, select(catalog, profile), book, allowUnresolved);
}

/**
 * The policy with lock-outs left unanswered, not refused: for what needs only its rules and
 * names (resolve pins names before the profile's answers are written; explain shows them).
 */
export function reviewPolicy(
  catalog: Catalog,
  profile: Profile,
  book: AddressBook = emptyAddressBook,
  allowUnresolved = false,
): { policy: Policy; lockOuts: CheckFinding[] } {
  return buildReviewed(catalog, profile, select(catalog, profile), book, allowUnresolved);
}

/**
 * The policy, refused while a lock-out check finds something the profile does not answer:
 * one located error per finding, all at once.
 */
export function buildFromSelection(catalog: Catalog, profile: Profile, selection: Selection, book: AddressBook, allowUnresolved = false): Policy {
  const { policy, lockOuts } = buildReviewed(catalog, profile, selection, book, allowUnresolved);
  if (lockOuts.length > 0) {
    throw new InputError(sortIssues(lockOuts.map((f) => ({ loc: f.loc, field: f.field ?? `deviceClasses.${f.deviceClass}`, message: `${f.check}: ${f.message}` }))));
  }
  return policy;
}

/** The policy and the lock-outs the profile leaves unanswered, for explain, which shows both. */
export function buildReviewed(
  catalog: Catalog,
  profile: Profile,
  selection: Selection,
  book: AddressBook,
  allowUnresolved = false,
): { policy: Policy; lockOuts: CheckFinding[] } {
  // Equal sets are made once and shared: a service's flows often repeat one per protocol.
  const sets = new AddressSets();
  const classAddresses = new Map<string, AddressSet>();
  for (const [id, b] of profile.deviceClasses) classAddresses.set(id, sets.of([b.cidrs]));

  const peerRemote = (id: string): Remote => ({
    addresses: classAddresses.get(id)!,
    names: [],
    lists: [],
    peers: [id],
  });
  const drafts: Draft[] = [];
  for (const sel of selection.flows) {
    const { flow } = sel;
    const external: Remote = {
      addresses: sets.of([sel.addresses, ...flow.lists.map((id) => catalog.lists.get(id)!.addresses)]),
      names: sel.domains,
      lists: [...flow.lists].sort(),
      peers: [],
    };
    const hasExternal = external.addresses.ipv4.length + external.addresses.ipv6.length + external.names.length > 0;
    for (const local of sel.localClasses) {
      for (const direction of sel.directions) {
        for (const protocol of protocolsOf(flow.protocol)) {
          // Literals of one shape, not a spread of a shared base: a draft is made per flow, class, direction and protocol.
          const ports = sel.ports;
          if (hasExternal || flow.peers.length === 0) {
            drafts.push({ sel, protocol, ports, deviceClass: local, direction, remote: external });
          }
          for (const peer of flow.peers) {
            drafts.push({ sel, protocol, ports, deviceClass: local, direction, remote: peerRemote(peer) });
            drafts.push({ sel, protocol, ports, deviceClass: peer, direction: OPPOSITE[direction], remote: peerRemote(local) });
          }
        }
      }
    }
  }

  // Drafts that differ only in ports become one rule. A remote's networks are compared only
  // within its bucket, and spelled out (for the last tie of the sort) only when it is reached.
  const bucketOf = perRemote(remoteBucket);
  const keyOf = perRemote(remoteKey);
  const merged = new Map<string, Writable<Rule>[]>();
  const made: Writable<Rule>[] = [];
  for (const d of drafts) {
    const { vendor, service, flow } = d.sel;
    const key = [vendor.id, service.id, d.deviceClass, d.direction, d.protocol ?? '', bucketOf(d.remote), flow.programs.join('|')].join('\u0000');
    const cite = flow.cite ?? service.cite;
    const origin = { vendor: vendor.id, service: service.id, flow: flow.index, loc: flow.origin, ...(cite ? { cite } : {}) };
    const candidates = merged.get(key) ?? [];
    const existing = candidates.find((r) => sameNetworks(r.remote, d.remote));
    if (existing) {
      existing.ports = mergePorts([...existing.ports, ...d.ports]);
      if (!existing.origins.some((o) => o.flow === origin.flow && o.service === origin.service)) existing.origins.push(origin);
      continue;
    }
    if (candidates.length === 0) merged.set(key, candidates);
    const rule: Writable<Rule> = {
      id: '',
      vendor: vendor.id,
      vendorName: vendor.name,
      service: service.id,
      serviceName: service.name,
      requirement: service.requirement,
      deviceClass: d.deviceClass,
      direction: d.direction,
      protocol: d.protocol,
      ports: mergePorts(d.ports),
      remote: d.remote,
      programs: [...flow.programs].sort(),
      origins: [origin],
    };
    candidates.push(rule);
    made.push(rule);
  }

  const rules = made.sort((a, b) => compareRules(a, b, keyOf));
  const seen = new Map<string, number>();
  for (const r of rules) {
    r.origins.sort((a, b) => a.loc.line - b.loc.line);
    const base = [r.vendor, r.service, r.deviceClass, r.direction === 'inbound' ? 'in' : 'out', r.protocol ?? 'app'].join('.');
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    r.id = n === 1 ? base : `${base}.${n}`;
  }

  const names = new Map<string, Writable<NameInfo>>();
  for (const sel of selection.flows) {
    for (const name of sel.domains) {
      const info: Writable<NameInfo> = names.get(name) ?? { name, wildcard: name.startsWith('*.') };
      if (sel.flow.maxTtl !== undefined) info.maxTtl = Math.min(info.maxTtl ?? Infinity, sel.flow.maxTtl);
      const found = info.wildcard ? undefined : book.lookup(name);
      if (found) {
        info.addresses = found.addresses;
        if (found.ttl !== undefined) info.ttl = found.ttl;
        if (found.stale !== undefined) info.stale = found.stale;
      }
      names.set(name, info);
    }
  }

  checkRules(rules);
  const sortedNames = new Map([...names].sort(([a], [b]) => a.localeCompare(b)));

  const deviceClasses: BoundClass[] = [...profile.deviceClasses.values()]
    .map((b) => ({
      id: b.id,
      name: catalog.deviceClasses.get(b.id)!.name,
      os: b.os,
      addresses: classAddresses.get(b.id)!,
      interface: b.interface,
      origin: b.origin,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));

  const lockOuts = lockOutFindings(profile, rules, deviceClasses);
  const anyFindings = explicitAnyFindings(rules, catalog, profile, sortedNames, book.file);
  const answered = answerFindings([...lockOuts, ...anyFindings], profile.acknowledge);
  const unansweredAny = answered.unanswered.filter((f) => anyFindings.includes(f));
  const policy: Policy = {
    profile: {
      name: profile.name,
      file: profile.file,
      region: profile.region,
      environments: profile.environments,
      description: profile.description,
      targets: profile.targets,
      ...(profile.uses ? { uses: profile.uses } : {}),
      targetsAt: profile.targetsAt,
    },
    vendors: [...new Map(selection.flows.map((s) => [s.vendor.id, s.vendor]))]
      .filter(([id]) => rules.some((r) => r.vendor === id))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, v]) => ({ id, name: v.name, title: v.source.title, citation: id === SITE_VENDOR ? v.source.title : citeSource(v.source) })),
    deviceClasses,
    interfaces: profile.interfaces.map((i) => ({ name: i.name, unclassified: i.unclassified, loc: i.origin })),
    rules,
    names: sortedNames,
    omitted: selection.omitted,
    warnings: [...unansweredAny.map((f) => ({ loc: f.loc, message: f.message })), ...answered.unused, ...profile.warnings].sort(byLocation),
    acknowledgements: answered.acknowledgements,
    exclusions: selection.exclusions,
    lockFile: book.file,
    allowUnresolved,
  };
  return { policy, lockOuts: answered.unanswered.filter((f) => !anyFindings.includes(f)) };
}

function compareRules(a: Rule, b: Rule, keyOf: (r: Remote) => string): number {
  return (
    a.deviceClass.localeCompare(b.deviceClass) ||
    a.vendor.localeCompare(b.vendor) ||
    a.service.localeCompare(b.service) ||
    a.direction.localeCompare(b.direction) ||
    (a.protocol ?? '').localeCompare(b.protocol ?? '') ||
    (a.ports[0]?.from ?? 0) - (b.ports[0]?.from ?? 0) ||
    keyOf(a.remote).localeCompare(keyOf(b.remote))
  );
}
