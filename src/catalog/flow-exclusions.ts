import type { LocatedIssue, SourceLocation } from '../errors';
import type { Flow, Service, Vendor } from './types';
import type { YamlSource } from './yaml-source';

/** What a profile trims off one vendor flow: the whole flow, or one direction of a `both` flow. */
export interface FlowExclusion {
  service: string;
  /** The flow's index within its service (0-based; explain prints it 1-based). */
  flow: number;
  /** The direction left out, as seen from the device; absent for the whole flow. */
  direction?: 'inbound' | 'outbound';
  reason: string;
  origin: SourceLocation;
}

type Raw = Record<string, any>; // shape already checked by the JSON Schema

/** The cite a reader finds a flow by: its own, else its service's. */
export function flowCite(service: Service, flow: Flow): string | undefined {
  return flow.cite ?? service.cite;
}

/** Each flow of a service as a line for a message: its number, direction, ports and cite. */
function describeFlows(service: Service): string {
  return service.flows.map((f) => `flow ${f.index + 1} (${f.direction}${flowCite(service, f) ? `, cite '${flowCite(service, f)}'` : ''})`).join('; ');
}

/**
 * The flow a reference names: its number within the service (as explain prints it), the
 * cite it carries (stable while the page's wording is, whatever lines the file moves by),
 * or nothing when the service has one flow.
 */
function findFlow(service: Service, ref: unknown): Flow | string {
  if (ref === undefined) {
    if (service.flows.length === 1) return service.flows[0]!;
    return `service '${service.id}' has ${service.flows.length} flows; name one with flow: (its number or its cite): ${describeFlows(service)}`;
  }
  if (typeof ref === 'number') {
    return service.flows[ref - 1] ?? `service '${service.id}' has no flow ${ref}: ${describeFlows(service)}`;
  }
  const matches = service.flows.filter((f) => flowCite(service, f) === ref);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) return `no flow of service '${service.id}' carries the cite '${String(ref)}': ${describeFlows(service)}`;
  return `${matches.length} flows of service '${service.id}' carry the cite '${String(ref)}'; name one by its number: ${describeFlows(service)}`;
}

/**
 * A vendor's `excludeFlows:` in a profile, each resolved to the flow it names and checked:
 * the service exists and is not excluded whole, the flow is found, the direction is one the flow has, and nothing is
 * trimmed twice (the schema holds the reason to some words).
 */
export function loadFlowExclusions(
  raw: Raw[] | undefined,
  vendor: Vendor,
  excludedServices: string[],
  at: Array<string | number>,
  src: YamlSource,
  found: LocatedIssue[],
): FlowExclusion[] {
  const out: FlowExclusion[] = [];
  const seen = new Map<string, number>();
  (raw ?? []).forEach((x, i) => {
    const here = [...at, 'excludeFlows', i];
    const service = vendor.services.find((s) => s.id === x.service);
    if (!service) {
      found.push(src.issue([...here, 'service'], `vendor '${vendor.id}' has no service '${x.service}'`));
      return;
    }
    if (excludedServices.includes(service.id)) {
      found.push(src.issue([...here, 'service'], `service '${service.id}' is excluded as a whole (exclude:); trimming one of its flows means nothing`));
      return;
    }
    const flow = findFlow(service, x.flow);
    if (typeof flow === 'string') {
      found.push(src.issue([...here, x.flow === undefined ? 'service' : 'flow'], flow));
      return;
    }
    let problem = false;
    if (x.direction !== undefined && flow.direction !== 'both' && flow.direction !== x.direction) {
      found.push(src.issue([...here, 'direction'], `${vendor.id}/${service.id} flow ${flow.index + 1} is ${flow.direction} only; it has no ${x.direction} half to leave out`));
      problem = true;
    }
    // The whole flow, however it was asked for, is one trim: inbound of an inbound flow is the flow.
    const direction = x.direction === undefined || flow.direction !== 'both' ? undefined : (x.direction as 'inbound' | 'outbound');
    const halves = direction ? [direction] : ['inbound', 'outbound'];
    for (const half of halves) {
      const earlier = seen.get(`${service.id}|${flow.index}|${half}`);
      if (earlier !== undefined) {
        found.push(src.issue(here, `${vendor.id}/${service.id} flow ${flow.index + 1} is already trimmed on line ${src.locate([...at, 'excludeFlows', earlier]).line}`));
        return;
      }
    }
    for (const half of halves) seen.set(`${service.id}|${flow.index}|${half}`, i);
    if (!problem) out.push({ service: service.id, flow: flow.index, ...(direction ? { direction } : {}), reason: x.reason.trim(), origin: src.locate(here) });
  });
  return out;
}
