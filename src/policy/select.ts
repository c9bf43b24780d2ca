import { flowCite } from '../catalog/flow-exclusions';
import type { FlowExclusion, Profile, ProfileVendor, VariableValue } from '../catalog/profile';
import type { Catalog, Flow, Service, Vendor } from '../catalog/types';
import { formatLocation, IssueList } from '../errors';
import { Cidr } from '../net/addresses';
import { hostNameProblem } from '../net/host-names';
import { expandReferences } from '../catalog/references';
import type { PortRange } from '../net/ports';
import type { Direction, Omission, PolicyExclusion } from './types';
import { append } from '../util/append';

/** A catalog flow chosen for this site, with its variables filled in. */
export interface SelectedFlow {
  vendor: Vendor;
  service: Service;
  flow: Flow;
  /** The flow's device classes that this site binds. */
  localClasses: string[];
  /** The directions (as seen from the local classes) the site keeps: both of a `both` flow unless the profile trims one. */
  directions: Direction[];
  domains: string[];
  addresses: Cidr[];
  ports: PortRange[];
}

export interface Selection {
  flows: SelectedFlow[];
  omitted: Omission[];
  /** Services with at least one selected flow, for explain. */
  services: Array<{ vendor: Vendor; service: Service; classes: string[] }>;
  /** The profile's excludeFlows entries that trimmed a flow the site would otherwise have. */
  exclusions: PolicyExclusion[];
}

function directionsOf(d: Flow['direction']): Direction[] {
  return d === 'both' ? ['outbound', 'inbound'] : [d];
}

/** The directions of a flow the profile's excludeFlows entries leave to the site. */
function keptDirections(flow: Flow, trims: FlowExclusion[]): Direction[] {
  return directionsOf(flow.direction).filter((d) => !trims.some((x) => x.direction === undefined || x.direction === d));
}

function exclusionOf(vendor: Vendor, service: Service, flow: Flow, x: FlowExclusion): PolicyExclusion {
  const cite = flowCite(service, flow);
  return {
    vendor: vendor.id,
    service: service.id,
    flow: flow.index,
    ...(cite ? { cite } : {}),
    excluded: x.direction ?? 'flow',
    reason: x.reason,
    loc: x.origin,
    flowLoc: flow.origin,
  };
}

function omit(vendor: Vendor, service: Service, reason: string, flow?: Flow): Omission {
  return {
    vendor: vendor.id,
    service: service.id,
    serviceName: service.name,
    flow: flow?.index,
    reason,
    loc: flow ? flow.origin : service.origin,
  };
}

/** Why a service is not for this site, or undefined when it is. */
function serviceExclusion(service: Service, profile: Profile, include: string[], exclude: string[]): string | undefined {
  if (service.regions && !service.regions.includes(profile.region)) {
    return `for region ${service.regions.join(', ')}; the site is in ${profile.region}`;
  }
  if (service.environments && !service.environments.some((e) => profile.environments.includes(e))) {
    return `for environment ${service.environments.join(', ')}; the site uses ${profile.environments.join(', ')}`;
  }
  if (exclude.includes(service.id)) return `excluded by the profile`;
  if (service.requirement === 'optional' && !include.includes(service.id)) {
    return `optional; add it to include to use it`;
  }
  if (service.requirement === 'conditional' && !include.includes(service.id)) {
    return `conditional (${service.condition}); add it to include if that is the case`;
  }
  const bound = service.deviceClasses.filter((c) => profile.deviceClasses.has(c));
  if (bound.length === 0) return `none of its device classes (${service.deviceClasses.join(', ')}) is at this site`;
  return undefined;
}

/**
 * Picks the flows a profile needs: vendor by vendor, service by service, by region,
 * environment, requirement, include/exclude and the device classes the site has.
 * Variables are expanded here; a missing one is an error naming it and the profile.
 */
export function select(catalog: Catalog, profile: Profile): Selection {
  const issues = new IssueList();
  const selection: Selection = { flows: [], omitted: [], services: [], exclusions: [] };
  const src = profile.source;
  const reported = new Set<string>();

  const chosen = [...profile.vendors]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, pv]) => ({ vendor: catalog.vendors.get(id)!, pv }));
  // The site's own flows come last and are always selected (all required, classes bound).
  const siteChoice: ProfileVendor = { id: profile.site.id, include: [], exclude: [], excludeFlows: [], variables: new Map(), origin: profile.site.origin };
  chosen.push({ vendor: profile.site, pv: siteChoice });

  for (const { vendor, pv } of chosen) {
    for (const service of vendor.services) {
      const why = serviceExclusion(service, profile, pv.include, pv.exclude);
      if (why) {
        selection.omitted.push(omit(vendor, service, why));
        continue;
      }
      const serviceClasses = new Set<string>();
      for (const flow of service.flows) {
        const classes = (flow.deviceClasses ?? service.deviceClasses).filter((c) => profile.deviceClasses.has(c));
        if (classes.length === 0) {
          selection.omitted.push(omit(vendor, service, `its device classes (${(flow.deviceClasses ?? []).join(', ')}) are not at this site`, flow));
          continue;
        }
        if (flow.incomplete !== undefined) {
          selection.omitted.push(omit(vendor, service, `incomplete in the catalog: ${flow.incomplete}`, flow));
          continue;
        }
        const trims = pv.excludeFlows.filter((x) => x.service === service.id && x.flow === flow.index);
        const directions = keptDirections(flow, trims);
        append(selection.exclusions, trims.map((x) => exclusionOf(vendor, service, flow, x)));
        if (directions.length === 0) {
          const why = trims.map((x) => `${x.reason} (${formatLocation(x.origin)})`).join('; ');
          selection.omitted.push(omit(vendor, service, `excluded by the profile: ${why}`, flow));
          continue;
        }
        for (const x of trims) {
          selection.omitted.push({ ...omit(vendor, service, `${x.direction} half excluded by the profile: ${x.reason} (${formatLocation(x.origin)})`, flow), direction: x.direction });
        }
        const missingPeers = flow.peers.filter((p) => !profile.deviceClasses.has(p));
        if (missingPeers.length > 0) {
          issues.addAll([
            src.issue(
              ['deviceClasses'],
              `${vendor.id}/${service.id} (${formatLocation(flow.origin)}) talks to device class ${missingPeers.map((p) => `'${p}'`).join(', ')}; bind it here with its addresses, or exclude the service`,
              true,
            ),
          ]);
          continue;
        }
        const values = (name: string): VariableValue | undefined => {
          const v = pv.variables.get(name) ?? vendor.variables.get(name)!.default;
          if (!v && !reported.has(`${vendor.id}/${name}`)) {
            reported.add(`${vendor.id}/${name}`);
            const decl = vendor.variables.get(name)!;
            issues.addAll([
              src.issue(
                ['vendors', vendor.id],
                // As for an unbound peer: the way out for a site that does not use the service is said too.
                `variable '${name}' is not set; ${vendor.id}/${service.id} (${formatLocation(flow.origin)}) needs it: ${decl.description.replace(/\.\s*$/, '')}; ` +
                  `set it under variables, or exclude the service (exclude: [${service.id}])`,
                true,
              ),
            ]);
          }
          return v;
        };
        const domains: string[] = [];
        for (const d of flow.domains) {
          const used: string[] = [];
          const expanded = expandReferences(d, (name) => {
            const v = values(name);
            if (!v || v.kind !== 'name') return undefined;
            used.push(name);
            return v.value.toLowerCase();
          });
          if (expanded === undefined) continue;
          // The vendor's pattern may be loose; whatever it let through must still be a name.
          const why = hostNameProblem(expanded);
          if (why) {
            const at = used.length > 0 ? ['vendors', vendor.id, 'variables', used[0]!] : ['vendors', vendor.id];
            issues.addAll([
              src.issue(
                at,
                `${vendor.id}/${service.id} (${formatLocation(flow.origin)}) turns '${d}' into '${expanded}', which is not a host name: ${why}`,
              ),
            ]);
            continue;
          }
          domains.push(expanded);
        }
        const addresses: Cidr[] = [];
        for (const a of flow.addresses) {
          if (a instanceof Cidr) addresses.push(a);
          else {
            const v = values(a.variable);
            // A loop, not push(...): a variable may hold more networks than a call takes arguments.
            if (v && v.kind === 'addresses') for (const c of v.value) addresses.push(c);
          }
        }
        const ports: PortRange[] = [];
        for (const p of flow.ports) {
          if ('range' in p) ports.push(p.range);
          else {
            const v = values(p.variable);
            if (v && v.kind === 'ports') append(ports, v.value);
          }
        }
        classes.forEach((c) => serviceClasses.add(c));
        selection.flows.push({ vendor, service, flow, localClasses: classes, directions, domains: [...new Set(domains)].sort(), addresses, ports });
      }
      if (serviceClasses.size > 0) selection.services.push({ vendor, service, classes: [...serviceClasses].sort() });
    }
  }
  issues.throwIfAny();
  return selection;
}

