import * as fs from 'node:fs';
import * as path from 'node:path';
import { displayPath } from '../util/paths';
import { fieldPath, InputError, IssueList, type LocatedIssue } from '../errors';
import { isCidrError, parseCidr } from '../net/addresses';
import { hostNameProblem } from '../net/host-names';
import { parsePort } from '../net/ports';
import { expandReferences, referencesIn, wholeReference } from './references';
import { compilePattern } from './pattern';
import { readYaml, yamlFilesIn } from './read-file';
import { validateAgainst } from './schema';
import type {
  AddressItem,
  AddressList,
  Catalog,
  DeviceClass,
  Flow,
  PortItem,
  Service,
  Variable,
  VariableKind,
  Vendor,
} from './types';
import { SITE_VENDOR } from './site-ids';
import { checkVariable } from './variable-value';
import type { YamlSource } from './yaml-source';

type Raw = Record<string, any>; // shape already checked by the JSON Schema

/**
 * Reads a catalog folder: device-classes.yaml, lists/*.yaml, vendors/*.yaml. Every file is
 * checked against its schema and then for what a schema cannot say (references between
 * files, ranges, addresses); all problems are reported together.
 */
export function loadCatalog(root: string, extraVendorFiles: string[] = [], base?: string): Catalog {
  return loadCatalogLayers([root], extraVendorFiles, base).catalog;
}

/** A file of a later catalog layer that takes the place of an earlier layer's file. */
export interface CatalogOverride {
  /** vendors/<file> or lists/<file>, the same in both layers. */
  entry: string;
  file: string;
  replaces: string;
}

/** The files a layered catalog is read from, in reading order, and which of them replace others. */
export interface CatalogFiles {
  deviceClasses: string[];
  lists: string[];
  vendors: string[];
  overrides: CatalogOverride[];
}

/**
 * Which files make a layered catalog: the device classes of every layer (the first layer's
 * file even when missing, so that its absence is reported); a vendor or list file of a later
 * layer replaces the file of the same name in an earlier one (a local override of a shipped
 * vendor), which is returned so it can be reported.
 */
export function catalogFiles(roots: string[], extraVendorFiles: string[] = [], base?: string): CatalogFiles {
  const overrides: CatalogOverride[] = [];
  const layered = (sub: string): string[] => {
    const byName = new Map<string, string>();
    for (const root of roots) {
      for (const file of yamlFilesIn(path.join(root, sub))) {
        const entry = `${sub}/${path.basename(file)}`;
        const earlier = byName.get(entry);
        if (earlier) overrides.push({ entry, file: displayPath(file, base), replaces: displayPath(earlier, base) });
        byName.set(entry, file);
      }
    }
    return [...byName.keys()].sort().map((k) => byName.get(k)!);
  };
  const deviceClasses = roots.map((root) => path.join(root, 'device-classes.yaml')).filter((file, i) => i === 0 || fs.existsSync(file));
  return { deviceClasses, lists: layered('lists'), vendors: [...layered('vendors'), ...extraVendorFiles], overrides };
}

/** How a catalog file becomes a parsed source: from disk, or from bytes already read (see compiled-catalog.ts). */
export type CatalogReader = (file: string, base?: string) => YamlSource;

/** Reads catalog folders laid over each other (see catalogFiles); every problem is reported together. */
export function loadCatalogLayers(
  roots: string[],
  extraVendorFiles: string[] = [],
  base?: string,
  files: CatalogFiles = catalogFiles(roots, extraVendorFiles, base),
  read: CatalogReader = readYaml,
): { catalog: Catalog; overrides: CatalogOverride[] } {
  const issues = new IssueList();
  const catalog: Catalog = { root: roots[0]!, deviceClasses: new Map(), lists: new Map(), vendors: new Map() };
  for (const file of files.deviceClasses) {
    const dcSource = tryRead(file, issues, base, read);
    if (dcSource) loadDeviceClasses(dcSource, catalog, issues);
  }
  for (const file of files.lists) {
    const src = tryRead(file, issues, base, read);
    if (src) loadList(src, catalog, issues);
  }
  for (const file of files.vendors) {
    const src = tryRead(file, issues, base, read);
    if (src) loadVendor(src, catalog, issues);
  }
  issues.throwIfAny();
  return { catalog, overrides: files.overrides };
}

function tryRead(file: string, issues: IssueList, base: string | undefined, read: CatalogReader): YamlSource | undefined {
  try {
    return read(file, base);
  } catch (err) {
    if (err instanceof InputError) issues.addAll(err.issues);
    else throw err;
    return undefined;
  }
}

function schemaOk(src: YamlSource, schema: Parameters<typeof validateAgainst>[0], issues: IssueList): boolean {
  const found = validateAgainst(schema, src);
  issues.addAll(found);
  return found.length === 0;
}

function loadDeviceClasses(src: YamlSource, catalog: Catalog, issues: IssueList): void {
  if (!schemaOk(src, 'device-classes', issues)) return;
  const raw = src.data as Raw;
  raw.deviceClasses.forEach((dc: Raw, i: number) => {
    const at = ['deviceClasses', i, 'id'];
    if (catalog.deviceClasses.has(dc.id)) {
      issues.addAll([src.issue(at, `duplicate device class id '${dc.id}'`)]);
      return;
    }
    const entry: DeviceClass = {
      id: dc.id,
      name: dc.name,
      description: dc.description,
      os: dc.os ?? 'any',
      notes: dc.notes ?? [],
      origin: src.locate(['deviceClasses', i]),
    };
    catalog.deviceClasses.set(dc.id, entry);
  });
}

function loadList(src: YamlSource, catalog: Catalog, issues: IssueList): void {
  if (!schemaOk(src, 'list', issues)) return;
  const raw = src.data as Raw;
  const list: AddressList = {
    id: raw.list.id,
    name: raw.list.name,
    url: raw.list.source.url,
    recorded: raw.list.source.recorded,
    notes: raw.list.notes ?? [],
    addresses: [],
    origin: src.locate(['list']),
  };
  const feed = raw.list.feed;
  if (feed) {
    list.feed = { format: feed.format, urls: feed.urls, version: feed.version, published: feed.published, fetched: feed.fetched, digest: feed.digest, vendor: feed.vendor };
  }
  raw.addresses.forEach((text: string, i: number) => {
    const c = parseCidr(text);
    if (isCidrError(c)) issues.addAll([src.issue(['addresses', i], c.error)]);
    else list.addresses.push(c);
  });
  if (catalog.lists.has(list.id)) {
    issues.addAll([src.issue(['list', 'id'], `duplicate list id '${list.id}'`)]);
    return;
  }
  catalog.lists.set(list.id, list);
}

function loadVendor(src: YamlSource, catalog: Catalog, issues: IssueList): void {
  if (!schemaOk(src, 'vendor', issues)) return;
  const raw = src.data as Raw;
  const found: LocatedIssue[] = [];
  const vendor: Vendor = {
    id: raw.vendor.id,
    name: raw.vendor.name,
    source: { ...raw.vendor.source },
    notes: raw.vendor.notes ?? [],
    variables: new Map(),
    services: [],
    file: src.file,
    origin: src.locate(['vendor']),
  };

  for (const [name, v] of Object.entries<Raw>(raw.variables ?? {})) {
    const at = ['variables', name];
    const kind: VariableKind = v.kind ?? 'name';
    const variable: Variable = { name, kind, description: v.description, origin: src.locate(at, true) };
    if (kind === 'name') {
      if (v.pattern === undefined) found.push(src.issue(at, `a name variable needs a pattern its values must match`, true));
      else {
        const compiled = compilePattern(v.pattern);
        if ('error' in compiled) found.push(src.issue([...at, 'pattern'], compiled.error));
        else variable.pattern = compiled;
      }
    } else if (v.pattern !== undefined) {
      found.push(src.issue([...at, 'pattern'], `only name variables take a pattern; ${kind} values are checked as ${kind}`));
    }
    if (v.default !== undefined) variable.default = checkVariable(kind, variable.pattern, v.default, [...at, 'default'], src, found);
    vendor.variables.set(name, variable);
  }

  if (vendor.id === SITE_VENDOR) {
    found.push(src.issue(['vendor', 'id'], `'${SITE_VENDOR}' is reserved for a profile's own flows; give the vendor another id`));
  }
  const firstSeen = new Map<string, number>();
  raw.services.forEach((s: Raw, si: number) => {
    const sPath = ['services', si];
    const previous = firstSeen.get(s.id);
    if (previous !== undefined) {
      const line = src.locate(['services', previous, 'id']).line;
      found.push(src.issue([...sPath, 'id'], `duplicate service id '${s.id}' (first defined on line ${line})`));
      return;
    }
    firstSeen.set(s.id, si);
    if (s.requirement !== 'conditional' && s.condition !== undefined) {
      found.push(src.issue([...sPath, 'condition'], `only a conditional service has a condition`));
    }
    checkClasses(s.deviceClasses, [...sPath, 'deviceClasses'], catalog, src, found);
    const service: Service = {
      id: s.id,
      name: s.name,
      purpose: s.purpose ?? [],
      requirement: s.requirement,
      condition: s.condition,
      vendorSays: s.vendorSays,
      deviceClasses: s.deviceClasses,
      regions: s.regions,
      environments: s.environments,
      notes: s.notes ?? [],
      cite: s.cite,
      flows: [],
      origin: src.locate(sPath),
    };
    s.flows.forEach((f: Raw, fi: number) => {
      service.flows.push(loadFlow(f, [...sPath, 'flows', fi], fi, service, vendor, catalog, src, found));
    });
    vendor.services.push(service);
  });

  if (catalog.vendors.has(vendor.id)) {
    found.push(src.issue(['vendor', 'id'], `duplicate vendor id '${vendor.id}' (also in ${catalog.vendors.get(vendor.id)!.file})`));
  }
  issues.addAll(found);
  if (found.length === 0) catalog.vendors.set(vendor.id, vendor);
}

function checkClasses(ids: string[], at: Array<string | number>, catalog: Catalog, src: YamlSource, found: LocatedIssue[]): void {
  ids.forEach((id, i) => {
    if (!catalog.deviceClasses.has(id)) {
      found.push(src.issue([...at, i], `unknown device class '${id}' (known: ${[...catalog.deviceClasses.keys()].join(', ')})`));
    }
  });
}

/**
 * An address or port item that mentions a variable: it must be exactly one well-formed
 * reference to a declared variable of the right kind. Returns the variable's name, null
 * when the item mentions none, or undefined (with an issue) when it is malformed.
 */
function variableItem(
  text: string,
  kind: VariableKind,
  at: Array<string | number>,
  vendor: Vendor,
  src: YamlSource,
  found: LocatedIssue[],
): string | null | undefined {
  const refs = referencesIn(text);
  if ('error' in refs) {
    found.push(src.issue(at, refs.error));
    return undefined;
  }
  if (refs.names.length === 0) return null;
  const name = wholeReference(text);
  if (!name) {
    found.push(src.issue(at, `'${text}': a variable must be the whole item, like "{${refs.names[0]}}"`));
    return undefined;
  }
  const v = vendor.variables.get(name);
  if (!v) found.push(src.issue(at, `undefined variable '${name}' (declare it under variables)`));
  else if (v.kind !== kind) found.push(src.issue(at, `variable '${name}' is a ${v.kind} variable; ${kind} are expected here`));
  return name;
}

/** Any brace: an item without one cannot be (or hold a broken) variable reference. */
const BRACES = /[{}]/;

/** One flow in the catalog grammar; also used for the site flows of a profile. */
export function loadFlow(
  f: Raw,
  at: Array<string | number>,
  index: number,
  service: Service,
  vendor: Vendor,
  catalog: Catalog,
  src: YamlSource,
  found: LocatedIssue[],
): Flow {
  const ports: PortItem[] = [];
  (f.ports ?? []).forEach((p: string | number, i: number) => {
    const pAt = [...at, 'ports', i];
    const name = variableItem(String(p), 'ports', pAt, vendor, src, found);
    if (name === undefined) return;
    if (name !== null) {
      ports.push({ variable: name });
      return;
    }
    const r = parsePort(p);
    if ('error' in r) found.push(src.issue(pAt, r.error));
    else ports.push({ range: r });
  });

  const addresses: AddressItem[] = [];
  (f.addresses ?? []).forEach((a: string, i: number) => {
    // Most items are plain networks, by the million in a large profile: their path is made only for an issue.
    if (!BRACES.test(a)) {
      const c = parseCidr(a);
      if (isCidrError(c)) found.push(src.issue([...at, 'addresses', i], c.error));
      else addresses.push(c);
      return;
    }
    const aAt = [...at, 'addresses', i];
    const name = variableItem(a, 'addresses', aAt, vendor, src, found);
    if (name === undefined) return;
    if (name !== null) {
      addresses.push({ variable: name });
      return;
    }
    const c = parseCidr(a);
    if (isCidrError(c)) found.push(src.issue(aAt, c.error));
    else addresses.push(c);
  });

  (f.domains ?? []).forEach((d: string, i: number) => {
    const dAt = [...at, 'domains', i];
    const refs = referencesIn(d);
    if ('error' in refs) {
      found.push(src.issue(dAt, refs.error));
      return;
    }
    for (const name of refs.names) {
      const v = vendor.variables.get(name);
      if (!v) found.push(src.issue(dAt, `undefined variable '${name}' (declare it under variables)`));
      else if (v.kind !== 'name') found.push(src.issue(dAt, `variable '${name}' is a ${v.kind} variable; only name variables go into host names`));
    }
    // Each variable stands for at least one label; what is around it must already be a name.
    const why = hostNameProblem(expandReferences(d, () => 'x')!);
    if (why) found.push(src.issue(dAt, `'${d}' is not a host name: ${why}`));
  });
  (f.lists ?? []).forEach((id: string, i: number) => {
    if (!catalog.lists.has(id)) found.push(src.issue([...at, 'lists', i], `unknown address list '${id}' (add catalog/lists/${id}.yaml)`));
  });
  if (f.peers) checkClasses(f.peers, [...at, 'peers'], catalog, src, found);
  if (f.deviceClasses) {
    checkClasses(f.deviceClasses, [...at, 'deviceClasses'], catalog, src, found);
    f.deviceClasses.forEach((id: string, i: number) => {
      if (!service.deviceClasses.includes(id)) {
        found.push(src.issue([...at, 'deviceClasses', i], `device class '${id}' is not one of the service's (${service.deviceClasses.join(', ')})`));
      }
    });
  }

  const hasEnd = ['domains', 'addresses', 'lists', 'peers'].some((k) => (f[k] ?? []).length > 0);
  const programs: string[] = f.programs ?? [];
  if (f.protocol === 'icmp' && f.ports) found.push(src.issue([...at, 'ports'], `icmp has no ports`));
  if ((f.protocol === 'tcp' || f.protocol === 'udp' || f.protocol === 'tcp/udp') && !f.ports) {
    found.push(src.issue([...at, 'protocol'], `a ${f.protocol} flow needs ports (fwgen never opens every port)`));
  }
  if (f.ports && !f.protocol) found.push(src.issue([...at, 'ports'], `ports need a protocol`));
  if (hasEnd && !f.protocol && !f.ports && f.incomplete === undefined) {
    // Without a protocol a rule matches programs only; the other end would be dropped and the
    // programs allowed everywhere, wider than the flow says.
    found.push({
      loc: src.locate(at),
      field: fieldPath([...at, 'protocol']),
      message: `missing: the flow names its other end (domains, addresses, lists or peers) but no protocol; give protocol and ports${programs.length ? ', or drop the other end to allow the programs as such' : ''}`,
    });
  }
  if (!hasEnd && f.incomplete === undefined) {
    if (programs.length === 0) {
      found.push(src.issue(at, `the flow names no other end (domains, addresses, lists or peers) and is not marked incomplete`));
    } else if (f.protocol || f.ports) {
      found.push(src.issue(at, `a program-only flow allows the programs as such; give it no protocol or ports, or name the other end`));
    }
  }

  return {
    index,
    direction: f.direction,
    protocol: f.protocol,
    ports,
    deviceClasses: f.deviceClasses,
    domains: f.domains ?? [],
    addresses,
    lists: f.lists ?? [],
    peers: f.peers ?? [],
    programs,
    maxTtl: f.maxTtl,
    incomplete: f.incomplete,
    notes: f.notes ?? [],
    cite: f.cite,
    origin: src.locate(at),
    path: at,
  };
}
