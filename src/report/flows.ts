import type { Catalog, Flow, Service, Vendor } from '../catalog/types';
import { Cidr } from '../net/addresses';
import { formatPort } from '../net/ports';
import type { Selection } from '../policy/select';
import { largest } from '../util/append';

/** One flow as `fwgen list` shows it: everything a vendor page says about it, located. */
export interface FlowRow {
  vendor: string;
  vendorName: string;
  service: string;
  serviceName: string;
  requirement: string;
  condition: string | null;
  deviceClasses: string[];
  regions: string[];
  environments: string[];
  direction: string;
  protocol: string | null;
  ports: string[];
  domains: string[];
  addresses: string[];
  lists: string[];
  peers: string[];
  programs: string[];
  maxTtl: number | null;
  incomplete: string | null;
  notes: string[];
  /**
   * Where the flow is written (catalog or profile) and where a reader finds it on the vendor's page:
   * `cite` is the service's (where its ports and purpose come from), `flowCite` the flow's own
   * narrower one, which adds to the service's and never replaces it.
   */
  source: { file: string; line: number; col: number; title: string; url: string | null; date: string | null; cite: string | null; flowCite: string | null };
}

function row(vendor: Vendor, service: Service, flow: Flow, override?: Partial<FlowRow>): FlowRow {
  return {
    vendor: vendor.id,
    vendorName: vendor.name,
    service: service.id,
    serviceName: service.name,
    requirement: service.requirement,
    condition: service.condition ?? null,
    deviceClasses: flow.deviceClasses ?? service.deviceClasses,
    regions: service.regions ?? ['any'],
    environments: service.environments ?? ['any'],
    direction: flow.direction,
    protocol: flow.protocol ?? null,
    ports: flow.ports.map((p) => ('range' in p ? formatPort(p.range) : `{${p.variable}}`)),
    domains: flow.domains,
    addresses: flow.addresses.map((a) => (a instanceof Cidr ? a.text : `{${a.variable}}`)),
    lists: flow.lists,
    peers: flow.peers,
    programs: flow.programs,
    maxTtl: flow.maxTtl ?? null,
    incomplete: flow.incomplete ?? null,
    notes: [...service.notes, ...flow.notes],
    source: {
      file: flow.origin.file,
      line: flow.origin.line,
      col: flow.origin.col,
      title: vendor.source.title,
      url: vendor.source.url ?? null,
      date: vendor.source.date ?? null,
      cite: service.cite ?? flow.cite ?? null,
      flowCite: service.cite !== undefined ? (flow.cite ?? null) : null,
    },
    ...override,
  };
}

/** Every flow of the catalog, as written (variables unexpanded). */
export function catalogRows(catalog: Catalog): FlowRow[] {
  const rows: FlowRow[] = [];
  for (const vendor of [...catalog.vendors.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const service of vendor.services) {
      for (const flow of service.flows) rows.push(row(vendor, service, flow));
    }
  }
  return rows;
}

/** The flows a profile selects, with its variables filled in and its device classes only. */
export function selectionRows(selection: Selection): FlowRow[] {
  return selection.flows.map((s) =>
    row(s.vendor, s.service, s.flow, {
      deviceClasses: s.localClasses,
      domains: s.domains,
      addresses: s.addresses.map((c) => c.text),
      ports: s.ports.map((p) => formatPort(p)),
    }),
  );
}

function cell(values: string[], empty = '-'): string {
  return values.length === 0 ? empty : values.join(',');
}

/** A plain text table for people; widths from the content, nothing truncated. */
export function formatTable(rows: FlowRow[]): string {
  const header = ['VENDOR', 'SERVICE', 'REQUIREMENT', 'DEVICE CLASSES', 'DIRECTION', 'PROTOCOL', 'PORTS', 'OTHER END'];
  const body = rows.map((r) => {
    const ends = [
      ...r.domains,
      ...r.addresses,
      ...r.lists.map((l) => `list:${l}`),
      ...r.peers.map((p) => `class:${p}`),
      ...r.programs.map((p) => `program:${p}`),
    ];
    return [
      r.vendor,
      r.service,
      r.requirement,
      cell(r.deviceClasses),
      r.direction,
      r.protocol ?? '-',
      cell(r.ports),
      r.incomplete !== null ? `INCOMPLETE: ${r.incomplete}` : cell(ends),
    ];
  });
  const widths = header.map((h, i) => largest(h.length, body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)].join('\n') + '\n';
}
