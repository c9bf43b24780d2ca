import type { LocatedIssue, SourceLocation } from '../errors';
import type { Cidr } from '../net/addresses';
import { loadFlow } from './load-catalog';
import { RESOLVERS_SERVICE, SITE_VENDOR } from './site-ids';
import type { Catalog, Flow, Service, Vendor } from './types';
import type { YamlSource } from './yaml-source';

const DNS_PORT = { from: 53, to: 53 };

type Raw = Record<string, any>; // shape already checked by the JSON Schema

export interface BoundCidrs {
  id: string;
  cidrs: Cidr[];
}

/**
 * The profile's `flows:` and `resolvers:` as a vendor. Site flows use the catalog flow
 * grammar (loaded by the same code), minus variables; each becomes one service named by its id.
 */
export function siteVendor(
  raw: Raw,
  profileName: string,
  bound: BoundCidrs[],
  resolvers: Cidr[],
  catalog: Catalog,
  src: YamlSource,
  found: LocatedIssue[],
): Vendor {
  const vendor: Vendor = {
    id: SITE_VENDOR,
    name: `Site ${profileName}`,
    source: { title: `the site's own flows and resolvers in ${src.file}` },
    notes: [],
    variables: new Map(),
    services: [],
    file: src.file,
    origin: src.locate([]),
  };
  const boundIds = new Set(bound.map((b) => b.id));
  const firstSeen = new Map<string, number>();

  ((raw.flows ?? []) as Raw[]).forEach((f, i) => {
    const at = ['flows', i];
    if (f.id === RESOLVERS_SERVICE) {
      found.push(src.issue([...at, 'id'], `'${RESOLVERS_SERVICE}' is reserved for the rules made from resolvers:; give the flow another id`));
      return;
    }
    const previous = firstSeen.get(f.id);
    if (previous !== undefined) {
      found.push(src.issue([...at, 'id'], `duplicate flow id '${f.id}' (first defined on line ${src.locate(['flows', previous, 'id']).line})`));
      return;
    }
    firstSeen.set(f.id, i);
    for (const key of ['deviceClasses', 'peers'] as const) {
      ((f[key] ?? []) as string[]).forEach((id, k) => {
        if (catalog.deviceClasses.has(id) && !boundIds.has(id)) {
          found.push(src.issue([...at, key, k], `device class '${id}' is not bound at this site; bind it under deviceClasses with its addresses`));
        }
      });
    }
    const service: Service = {
      id: f.id,
      name: f.name ?? f.id,
      purpose: [],
      requirement: 'required',
      deviceClasses: f.deviceClasses,
      notes: [],
      flows: [],
      origin: src.locate(at),
    };
    service.flows.push(loadFlow(f, at, 0, service, vendor, catalog, src, found));
    vendor.services.push(service);
  });

  const dns = resolverService(bound, resolvers, src.locate(['resolvers'], true));
  if (dns.flows.length > 0) vendor.services.push(dns);
  return vendor;
}

/**
 * DNS for every bound class: udp and tcp 53 (tcp for the retry after a truncated answer)
 * to each resolver. A resolver that lies inside a bound class is reached as that class (a
 * peer flow), so the class also gets the inbound half it needs in host mode; the class does
 * not query itself through the firewall.
 */
function resolverService(bound: BoundCidrs[], resolvers: Cidr[], origin: SourceLocation): Service {
  const service: Service = {
    id: RESOLVERS_SERVICE,
    name: 'DNS to the site resolvers',
    purpose: ['Name resolution for every device class of the site (udp and tcp 53).'],
    requirement: 'required',
    deviceClasses: bound.map((b) => b.id),
    notes: [],
    flows: [],
    origin,
  };
  const flow = (index: number, deviceClasses: string[], addresses: Cidr[], peers: string[]): Flow => ({
    index,
    direction: 'outbound',
    protocol: 'tcp/udp',
    ports: [{ range: DNS_PORT }],
    deviceClasses,
    domains: [],
    addresses,
    lists: [],
    peers,
    programs: [],
    notes: [],
    origin,
    path: ['resolvers'],
  });
  const inside = new Map<string, Cidr[]>();
  const outside: Cidr[] = [];
  for (const r of resolvers) {
    const home = bound.find((b) => b.cidrs.some((c) => c.covers(r)));
    if (home) inside.set(home.id, [...(inside.get(home.id) ?? []), r]);
    else outside.push(r);
  }
  const all = bound.map((b) => b.id);
  if (outside.length > 0) service.flows.push(flow(service.flows.length, all, outside, []));
  for (const home of [...inside.keys()].sort()) {
    const clients = all.filter((id) => id !== home);
    if (clients.length > 0) service.flows.push(flow(service.flows.length, clients, [], [home]));
  }
  return service;
}
