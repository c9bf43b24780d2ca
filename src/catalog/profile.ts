import { InputError, IssueList, type LocatedIssue, type SourceLocation } from '../errors';
import { isCidrError, parseCidr, type Cidr } from '../policy/addresses';
import { parsePort, type PortRange } from '../policy/ports';
import { readYaml } from './read-file';
import { validateAgainst } from './schema';
import type { Catalog } from './types';
import type { YamlSource } from './yaml-source';

/** A profile variable's value, already checked against the vendor's declaration. */
export type VariableValue =
  | { kind: 'name'; value: string; origin: SourceLocation }
  | { kind: 'addresses'; value: Cidr[]; origin: SourceLocation }
  | { kind: 'ports'; value: PortRange[]; origin: SourceLocation };

export interface ProfileVendor {
  id: string;
  include: string[];
  exclude: string[];
  variables: Map<string, VariableValue>;
  origin: SourceLocation;
}

export interface Binding {
  id: string;
  cidrs: Cidr[];
  interface?: string;
  description?: string;
  origin: SourceLocation;
}

export interface Profile {
  name: string;
  description?: string;
  file: string;
  region: string;
  environment: string;
  vendors: Map<string, ProfileVendor>;
  deviceClasses: Map<string, Binding>;
  targets: Record<string, Record<string, unknown>>;
  source: YamlSource;
}

type Raw = Record<string, any>; // shape already checked by the JSON Schema

export function loadProfile(file: string, catalog: Catalog, base?: string): Profile {
  const src = readYaml(file, base);
  const schemaIssues = validateAgainst('profile', src);
  if (schemaIssues.length > 0) throw new InputError(schemaIssues);
  const raw = src.data as Raw;
  const issues = new IssueList();
  const found: LocatedIssue[] = [];

  const profile: Profile = {
    name: raw.profile.name,
    description: raw.profile.description,
    file: src.file,
    region: raw.region,
    environment: raw.environment,
    vendors: new Map(),
    deviceClasses: new Map(),
    targets: raw.targets ?? {},
    source: src,
  };

  for (const [id, given] of Object.entries<Raw | null>(raw.vendors)) {
    const v: Raw = given ?? {};
    const at = ['vendors', id];
    const vendor = catalog.vendors.get(id);
    if (!vendor) {
      found.push(src.issue(at, `no vendor '${id}' in the catalog (known: ${[...catalog.vendors.keys()].sort().join(', ')})`, true));
      continue;
    }
    const serviceIds = new Set(vendor.services.map((s) => s.id));
    for (const key of ['include', 'exclude'] as const) {
      (v[key] ?? []).forEach((sid: string, i: number) => {
        if (!serviceIds.has(sid)) found.push(src.issue([...at, key, i], `vendor '${id}' has no service '${sid}'`));
      });
    }
    const both = (v.include ?? []).filter((sid: string) => (v.exclude ?? []).includes(sid));
    for (const sid of both) found.push(src.issue([...at, 'exclude'], `service '${sid}' is both included and excluded`));

    const variables = new Map<string, VariableValue>();
    for (const [name, value] of Object.entries<unknown>(v.variables ?? {})) {
      const vAt = [...at, 'variables', name];
      const decl = vendor.variables.get(name);
      if (!decl) {
        const known = [...vendor.variables.keys()];
        found.push(src.issue(vAt, `vendor '${id}' declares no variable '${name}'${known.length ? ` (it has: ${known.join(', ')})` : ''}`, true));
        continue;
      }
      const checked = checkVariable(decl.kind, decl.pattern, value, vAt, src, found);
      if (checked) variables.set(name, checked);
    }
    profile.vendors.set(id, { id, include: v.include ?? [], exclude: v.exclude ?? [], variables, origin: src.locate(at, true) });
  }

  for (const [id, b] of Object.entries<Raw>(raw.deviceClasses)) {
    const at = ['deviceClasses', id];
    if (!catalog.deviceClasses.has(id)) {
      found.push(src.issue(at, `unknown device class '${id}' (known: ${[...catalog.deviceClasses.keys()].join(', ')})`, true));
      continue;
    }
    const cidrs: Cidr[] = [];
    b.addresses.forEach((a: string, i: number) => {
      const c = parseCidr(a);
      if (isCidrError(c)) found.push(src.issue([...at, 'addresses', i], c.error));
      else cidrs.push(c);
    });
    profile.deviceClasses.set(id, { id, cidrs, interface: b.interface, description: b.description, origin: src.locate(at, true) });
  }

  issues.addAll(found);
  issues.throwIfAny();
  return profile;
}

function checkVariable(
  kind: string,
  pattern: RegExp | undefined,
  value: unknown,
  at: Array<string | number>,
  src: YamlSource,
  found: LocatedIssue[],
): VariableValue | undefined {
  const origin = src.locate(at);
  const items = Array.isArray(value) ? value : [value];
  if (kind === 'name') {
    if (Array.isArray(value)) {
      found.push(src.issue(at, `takes one value, not a list`));
      return undefined;
    }
    const text = String(value);
    if (pattern && !pattern.test(text)) {
      found.push(src.issue(at, `${JSON.stringify(text)} does not match the vendor's pattern ${pattern.source.slice(4, -2)}`));
      return undefined;
    }
    return { kind: 'name', value: text, origin };
  }
  if (kind === 'addresses') {
    const cidrs: Cidr[] = [];
    items.forEach((item, i) => {
      const c = parseCidr(String(item));
      if (isCidrError(c)) found.push(src.issue(Array.isArray(value) ? [...at, i] : at, c.error));
      else cidrs.push(c);
    });
    return cidrs.length === items.length ? { kind: 'addresses', value: cidrs, origin } : undefined;
  }
  const ranges: PortRange[] = [];
  items.forEach((item, i) => {
    const r = parsePort(item as string | number);
    if ('error' in r) found.push(src.issue(Array.isArray(value) ? [...at, i] : at, r.error));
    else ranges.push(r);
  });
  return ranges.length === items.length ? { kind: 'ports', value: ranges, origin } : undefined;
}
