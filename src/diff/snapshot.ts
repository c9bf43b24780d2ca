import { aggregate, parseKnown, type Family } from '../net/addresses';
import { formatPort, mergePorts, parsePort, type PortRange } from '../net/ports';
import type {
  PolicySnapshot,
  SnapshotAcknowledgement,
  SnapshotClass,
  SnapshotExclusion,
  SnapshotFamily,
  SnapshotLimit,
  SnapshotList,
  SnapshotRule,
  SnapshotVendor,
} from '../policy/snapshot';
import type { FlowIdentity } from './types';
import { append } from '../util/append';

/** Everything a flow allows, merged over the rules it became: the unit diff compares. */
export interface FlowState extends FlowIdentity {
  /** Literal networks and the pinned addresses of its names, aggregated. */
  addresses: string[];
  names: string[];
  peers: string[];
  ports: PortRange[];
  programs: string[];
  origins: string[];
  /** The rules' shape without positions: two states with the same shape allow the same traffic. */
  shape: string;
  /** name → its pinned addresses, to tell a moved lock from a changed catalog. */
  pinned: Record<string, string[]>;
}

export interface NameState {
  wildcard: boolean;
  /** The lock's addresses; absent when the lock does not hold the name. */
  pinned?: string[];
  stale?: string;
  staleFamilies: SnapshotFamily[];
}

/** A file of the site as rendered (head) or as committed (base): <site>/<target>/<file>. */
export interface SiteFile {
  path: string;
  content: string;
}

export interface SiteState {
  name: string;
  file: string;
  digest: string;
  lockFile?: string;
  flows: Map<string, FlowState>;
  names: Map<string, NameState>;
  limits: SnapshotLimit[];
  lists: SnapshotList[];
  vendors: SnapshotVendor[];
  classes: SnapshotClass[];
  /** Absent when the snapshot is from an fwgen that did not record them. */
  acknowledgements?: SnapshotAcknowledgement[];
  exclusions?: SnapshotExclusion[];
  /** The site's target files; read only for a site whose policy changed. */
  files: () => SiteFile[];
}

export interface Snapshot {
  label: string;
  sites: Map<string, SiteState>;
  /** Sites whose base held no policy snapshot: rendered again with this fwgen and its catalog. */
  rerendered: string[];
}

export const emptySnapshot = (label: string): Snapshot => ({ label, sites: new Map(), rerendered: [] });

/** One site as diff compares it, from its policy snapshot (fresh or committed: read the same way). */
export function siteState(doc: PolicySnapshot, files: () => SiteFile[]): SiteState {
  const names = new Map<string, NameState>();
  for (const n of doc.names) {
    names.set(n.name, {
      wildcard: n.wildcard,
      ...(n.ipv4 || n.ipv6 ? { pinned: [...(n.ipv4 ?? []), ...(n.ipv6 ?? [])] } : {}),
      ...(n.stale ? { stale: n.stale.reason } : {}),
      staleFamilies: n.stale?.families ?? [],
    });
  }
  return {
    name: doc.site,
    file: doc.profile,
    digest: doc.digest,
    ...(doc.lock !== undefined ? { lockFile: doc.lock } : {}),
    flows: flowsOf(doc.rules, names),
    names,
    limits: doc.limits,
    lists: doc.lists,
    vendors: doc.vendors,
    classes: doc.deviceClasses,
    ...(doc.acknowledgements ? { acknowledgements: doc.acknowledgements } : {}),
    ...(doc.exclusions ? { exclusions: doc.exclusions } : {}),
    files,
  };
}

function flowKey(r: SnapshotRule): string {
  return [r.deviceClass, r.direction, r.vendor, r.service, r.protocol ?? 'app'].join('/');
}

function portsOf(texts: string[]): PortRange[] {
  return texts.map((t) => {
    const p = parsePort(t);
    if ('error' in p) throw new Error(`internal: invalid port ${t} in a checked snapshot`);
    return p;
  });
}

function flowsOf(rules: SnapshotRule[], names: Map<string, NameState>): Map<string, FlowState> {
  const groups = new Map<string, SnapshotRule[]>();
  for (const r of rules) {
    const k = flowKey(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const flows = new Map<string, FlowState>();
  for (const [id, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const r0 = group[0]!;
    const pinned: Record<string, string[]> = {};
    const texts: string[] = [];
    for (const r of group) {
      append(texts, r.networks);
      for (const n of r.names) {
        const a = names.get(n)?.pinned ?? [];
        pinned[n] = a;
        append(texts, a);
      }
    }
    const cidrs = parseKnown(texts);
    const shape = group
      .map((r) => JSON.stringify([r.ports, r.networks, r.names, r.peers, r.programs]))
      .sort()
      .join('\n');
    flows.set(id, {
      id,
      deviceClass: r0.deviceClass,
      direction: r0.direction,
      vendor: r0.vendor,
      service: r0.service,
      serviceName: r0.serviceName,
      protocol: r0.protocol,
      requirement: r0.requirement,
      addresses: (['ipv4', 'ipv6'] as Family[]).flatMap((f) => aggregate(cidrs, f)),
      names: [...new Set(group.flatMap((r) => r.names))].sort(),
      peers: [...new Set(group.flatMap((r) => r.peers))].sort(),
      ports: mergePorts(group.flatMap((r) => portsOf(r.ports))),
      programs: [...new Set(group.flatMap((r) => r.programs))].sort(),
      origins: [...new Set(group.flatMap((r) => r.origins.map((o) => o.at)))].sort(),
      shape,
      pinned,
    });
  }
  return flows;
}

export function portTexts(ports: PortRange[]): string[] {
  return ports.map((p) => formatPort(p));
}
