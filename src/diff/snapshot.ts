import type { Catalog } from '../catalog/types';
import type { FlowIdentity } from './types';
import { aggregate, parseKnown, type Family } from '../net/addresses';
import { formatPort, mergePorts, type PortRange } from '../net/ports';
import type { Policy, Rule, RuleOrigin } from '../policy/types';
import { loadProfile, type Profile } from '../catalog/profile';
import { FAMILIES, lockPathFor, readLock, type Family as LockFamily } from '../resolve/lock';
import type { RenderedFile } from '../targets/render';
import { targets } from '../targets/registry';
import type { Diagnostic } from '../targets/types';
import { renderFleetParallel } from '../workspace/fleet-workers';
import type { OpenWorkspace } from '../workspace/sites';

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

export interface SiteState {
  name: string;
  file: string;
  policy: Policy;
  flows: Map<string, FlowState>;
  files: RenderedFile[];
  diagnostics: Diagnostic[];
  /** Per name, the address families whose last lookup failed (the lock keeps the older answer). */
  staleFamilies: Map<string, LockFamily[]>;
}

export interface Snapshot {
  label: string;
  catalog?: Catalog;
  sites: Map<string, SiteState>;
}

export const emptySnapshot = (label: string): Snapshot => ({ label, sites: new Map() });

/** Renders every site of a workspace in memory and indexes what each flow allows. */
export async function snapshot(ws: OpenWorkspace, label: string): Promise<Snapshot> {
  const fleet = await renderFleetParallel(ws, ws.siteFiles, targets, { allowUnresolved: false });
  const sites = new Map<string, SiteState>();
  for (const [i, policy] of fleet.policies.entries()) {
    const name = policy.profile.name;
    const profile = loadProfile(ws.siteFiles[i]!, ws.catalog, ws.root);
    if (profile.name !== name) throw new Error(`internal: site ${name} rendered out of order`);
    sites.set(name, {
      name,
      file: policy.profile.file,
      policy,
      flows: flowsOf(policy, variableOrigins(ws.catalog, profile)),
      files: fleet.files.filter((f) => f.path.startsWith(`${name}/`)),
      diagnostics: fleet.diagnostics.filter((d) => d.site === name),
      staleFamilies: staleFamiliesOf(policy, ws.siteFiles[i]!),
    });
  }
  return { label, catalog: ws.catalog, sites };
}

/**
 * The policy says a name is stale as one line; the lock says which family. A name whose IPv6
 * lookup already failed at the base and whose IPv4 lookup fails now is newly stale.
 */
function staleFamiliesOf(policy: Policy, siteFile: string): Map<string, LockFamily[]> {
  const out = new Map<string, LockFamily[]>();
  if (![...policy.names.values()].some((n) => n.stale)) return out;
  for (const [name, e] of readLock(lockPathFor(siteFile)).lock.names) {
    // As the policy describes it: a family is stale only where the lock still holds its addresses.
    const fams = FAMILIES.filter((f) => e.stale?.[f] && e[f].length > 0);
    if (fams.length > 0) out.set(name, fams);
  }
  return out;
}

function flowKey(r: Rule): string {
  return [r.deviceClass, r.direction, r.vendor, r.service, r.protocol ?? 'app'].join('/');
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

export function flowsOf(policy: Policy, fromProfile: VariableOrigins = () => []): Map<string, FlowState> {
  const groups = new Map<string, Rule[]>();
  for (const r of policy.rules) {
    const k = flowKey(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const flows = new Map<string, FlowState>();
  for (const [id, rules] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const r0 = rules[0]!;
    const pinned: Record<string, string[]> = {};
    const texts: string[] = [];
    for (const r of rules) {
      texts.push(...r.remote.addresses.ipv4, ...r.remote.addresses.ipv6);
      for (const n of r.remote.names) {
        const info = policy.names.get(n);
        const a = info?.addresses ? [...info.addresses.ipv4, ...info.addresses.ipv6] : [];
        pinned[n] = a;
        texts.push(...a);
      }
    }
    const cidrs = parseKnown(texts);
    const shape = rules
      .map((r) => JSON.stringify([r.ports, r.remote.addresses, r.remote.names, r.remote.peers, r.programs]))
      .sort()
      .join('\n');
    flows.set(id, {
      id,
      deviceClass: r0.deviceClass,
      direction: r0.direction,
      vendor: r0.vendor,
      service: r0.service,
      serviceName: r0.serviceName,
      protocol: r0.protocol ?? null,
      requirement: r0.requirement,
      addresses: (['ipv4', 'ipv6'] as Family[]).flatMap((f) => aggregate(cidrs, f)),
      names: [...new Set(rules.flatMap((r) => r.remote.names))].sort(),
      peers: [...new Set(rules.flatMap((r) => r.remote.peers))].sort(),
      ports: mergePorts(rules.flatMap((r) => r.ports)),
      programs: [...new Set(rules.flatMap((r) => r.programs))].sort(),
      origins: [...new Set(rules.flatMap((r) => r.origins.flatMap((o) => [`${o.loc.file}:${o.loc.line}`, ...fromProfile(o)])))].sort(),
      shape,
      pinned,
    });
  }
  return flows;
}

export function portTexts(ports: PortRange[]): string[] {
  return ports.map((p) => formatPort(p));
}
