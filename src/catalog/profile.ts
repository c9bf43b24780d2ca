import { formatLocation, InputError, IssueList, type LocatedIssue, type SourceLocation } from '../errors';
import { isCidrError, parseCidr, type Cidr } from '../net/addresses';
import { loadAcknowledgements, type Acknowledgement } from './acknowledge';
import { loadFlowExclusions, type FlowExclusion } from './flow-exclusions';
import { cachedProfile, profileEntry, storeProfile, withoutTree } from './compiled-profile';
import { parseYamlBytes, readCatalogBytes } from './read-file';
import { displayPath } from '../util/paths';
import { validateAgainst } from './schema';
import { siteVendor } from './site';
import type { SiteTargets } from './site-targets';
import type { Catalog, Vendor } from './types';
import { checkVariable, type VariableValue } from './variable-value';
import type { YamlSource } from './yaml-source';

export type { VariableValue } from './variable-value';
export type { Acknowledgement } from './acknowledge';
export type { FlowExclusion } from './flow-exclusions';

export interface ProfileVendor {
  id: string;
  include: string[];
  exclude: string[];
  /** Vendor flows, or one direction of them, the site leaves out with a reason. */
  excludeFlows: FlowExclusion[];
  variables: Map<string, VariableValue>;
  origin: SourceLocation;
}

export interface Binding {
  id: string;
  cidrs: Cidr[];
  interface?: string;
  description?: string;
  /** The system the site's devices of this class run: the profile's os, else the catalog's default. */
  os: string;
  /** True when the profile set os; explain tells a site's choice from fwgen's default. */
  osFromProfile: boolean;
  /** The tcp ports the class is managed on, when not SSH, RDP or WinRM. */
  management?: number[];
  origin: SourceLocation;
}

/** What a gateway does on one LAN interface (the profile's `interfaces:` map). */
export interface InterfaceSetting {
  name: string;
  /** Traffic of an address on this interface that is in no device class. */
  unclassified: 'drop' | 'accept';
  origin: SourceLocation;
}

export interface Profile {
  name: string;
  description?: string;
  file: string;
  region: string;
  /** One or more vendor environments (production, test). */
  environments: string[];
  vendors: Map<string, ProfileVendor>;
  deviceClasses: Map<string, Binding>;
  /** Settings per LAN interface, sorted by name; an interface not listed drops unclassified traffic. */
  interfaces: InterfaceSetting[];
  /** The site's own flows and its resolvers, as the vendor `site`. */
  site: Vendor;
  /** The profile's answers to the site checks (lock-outs, explicit any), each with its reason. */
  acknowledge: Acknowledgement[];
  /** The targets the site uses (its own list, else the workspace's); absent: every target. */
  uses?: SiteTargets;
  /** Options per target, as written under `targets:`. */
  targets: Record<string, Record<string, unknown>>;
  /** What the profile says that takes no effect (options of a target the site does not use), each at its place. */
  warnings: ProfileWarning[];
  /** Where `targets:` and its options are written, three levels deep ('' for `targets:` itself; 'aws.maxRules'). */
  targetsAt: Record<string, SourceLocation>;
  source: YamlSource;
}

export interface ProfileWarning {
  loc: SourceLocation;
  message: string;
}

type Raw = Record<string, any>; // shape already checked by the JSON Schema

/** What a workspace gives the sites that do not say it themselves. */
export interface SiteDefaults {
  targets?: SiteTargets;
}

/**
 * A profile read, validated and checked against the catalog. A large one that was read
 * before, unchanged and against the same catalog, comes from the cache (compiled-profile.ts).
 */
export function loadProfile(file: string, catalog: Catalog, base?: string, defaults: SiteDefaults = {}): Profile {
  const bytes = readCatalogBytes(file, base);
  const shown = displayPath(file, base);
  const entry = profileEntry(shown, bytes, catalog, defaults);
  if (!entry) return withoutTree(profileFrom(parseYamlBytes(file, bytes, base), catalog, defaults), bytes);
  const text = bytes.toString('utf8');
  const hit = cachedProfile(entry, shown, text);
  if (hit) return hit;
  const profile = profileFrom(parseYamlBytes(file, bytes, base), catalog, defaults);
  storeProfile(entry, profile);
  return withoutTree(profile, bytes);
}

function profileFrom(src: YamlSource, catalog: Catalog, defaults: SiteDefaults): Profile {
  const schemaIssues = validateAgainst('profile', src);
  if (schemaIssues.length > 0) throw new InputError(schemaIssues);
  const raw = src.data as Raw;
  const issues = new IssueList();
  const found: LocatedIssue[] = [];

  if ((raw.environment === undefined) === (raw.environments === undefined)) {
    const both = raw.environment !== undefined;
    found.push(src.issue(both ? ['environments'] : [], both ? `write environment or environments, not both` : `missing required field 'environment'`, both));
  }
  const vendors = new Map<string, ProfileVendor>();
  const deviceClasses = new Map<string, Binding>();

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
    const excludeFlows = loadFlowExclusions(v.excludeFlows, vendor, v.exclude ?? [], at, src, found);
    vendors.set(id, { id, include: v.include ?? [], exclude: v.exclude ?? [], excludeFlows, variables, origin: src.locate(at, true) });
  }

  for (const [id, b] of Object.entries<Raw>(raw.deviceClasses)) {
    const at = ['deviceClasses', id];
    if (!catalog.deviceClasses.has(id)) {
      found.push(src.issue(at, `unknown device class '${id}' (known: ${[...catalog.deviceClasses.keys()].join(', ')})`, true));
      continue;
    }
    const cidrs = cidrsAt(b.addresses, [...at, 'addresses'], src, found);
    deviceClasses.set(id, {
      id,
      cidrs,
      interface: b.interface,
      description: b.description,
      os: b.os ?? catalog.deviceClasses.get(id)!.os,
      osFromProfile: b.os !== undefined,
      management: b.management,
      origin: src.locate(at, true),
    });
  }

  const interfaces = interfaceSettings(raw.interfaces ?? {}, [...deviceClasses.values()], src, found);
  const resolvers = cidrsAt(raw.resolvers ?? [], ['resolvers'], src, found);
  const site = siteVendor(raw, raw.profile.name, [...deviceClasses.values()], resolvers, catalog, src, found);
  const used = new Map<string, Vendor>([...vendors.keys()].map((id) => [id, catalog.vendors.get(id)!]));
  used.set(site.id, site);
  const acknowledge = loadAcknowledgements(raw.acknowledge, new Set(deviceClasses.keys()), used, src, found);

  issues.addAll(found);
  issues.throwIfAny();
  const { uses } = usesOf(raw, src, defaults);
  return {
    name: raw.profile.name,
    description: raw.profile.description,
    file: src.file,
    region: raw.region,
    environments: [raw.environment ?? raw.environments].flat(),
    vendors,
    deviceClasses,
    interfaces,
    site,
    acknowledge,
    ...(uses ? { uses } : {}),
    targets: raw.targets ?? {},
    warnings: unusedTargetOptions(raw.targets ?? {}, uses, src),
    targetsAt: targetLocations(raw.targets ?? {}, src),
    source: src,
  };
}

/**
 * Options under `targets:` for a target the site does not render change nothing: said at
 * the options, with the site's list, so a site that meant to use the target can add it.
 */
function unusedTargetOptions(given: Record<string, unknown>, uses: SiteTargets | undefined, src: YamlSource): ProfileWarning[] {
  if (uses === undefined) return [];
  return Object.keys(given)
    .filter((id) => !uses.ids.includes(id))
    .map((id) => ({
      loc: src.locate(['targets', id], true),
      message:
        `targets.${id}: options for ${id}, a target this site does not use (its targets: ${uses.ids.join(', ')}, at ${formatLocation(uses.origin)}); ` +
        `they are ignored. Add ${id} to that list, or remove these options`,
    }));
}

/** Locations of the profile's target options, three levels deep (target, option, key of an option map). */
function targetLocations(targets: Record<string, unknown>, src: YamlSource): Record<string, SourceLocation> {
  const out: Record<string, SourceLocation> = { '': src.locate(['targets'], true) };
  const walk = (value: unknown, at: string[]): void => {
    if (at.length >= 3 || typeof value !== 'object' || value === null || Array.isArray(value)) return;
    for (const [key, inner] of Object.entries(value)) {
      const here = [...at, key];
      out[here.join('.')] = src.locate(['targets', ...here], true);
      walk(inner, here);
    }
  };
  walk(targets, []);
  return out;
}

function usesOf(raw: Raw, src: YamlSource, defaults: SiteDefaults): { uses?: SiteTargets } {
  if (raw.profile.targets !== undefined) return { uses: { ids: raw.profile.targets as string[], origin: src.locate(['profile', 'targets']) } };
  return defaults.targets ? { uses: defaults.targets } : {};
}

function cidrsAt(texts: string[], at: Array<string | number>, src: YamlSource, found: LocatedIssue[]): Cidr[] {
  const cidrs: Cidr[] = [];
  texts.forEach((a, i) => {
    const c = parseCidr(a);
    if (isCidrError(c)) found.push(src.issue([...at, i], c.error));
    else cidrs.push(c);
  });
  return cidrs;
}

/**
 * The `interfaces:` map. Its keys are the interfaces the bound device classes sit behind: a
 * setting for any other name would silently do nothing (a typo leaving unclassified traffic
 * dropped, or an admin believing an interface is covered when no class is on it).
 */
function interfaceSettings(raw: Record<string, Raw>, bound: Binding[], src: YamlSource, found: LocatedIssue[]): InterfaceSetting[] {
  const known = [...new Set(bound.flatMap((b) => (b.interface ? [b.interface] : [])))].sort();
  const out: InterfaceSetting[] = [];
  for (const [name, setting] of Object.entries(raw)) {
    const at = ['interfaces', name];
    if (!known.includes(name)) {
      const which = known.length > 0 ? `they sit behind ${known.join(', ')}` : 'none names an interface';
      found.push(src.issue(at, `no bound device class sits behind interface '${name}' (${which}); name it under a class's interface, or remove it here`, true));
      continue;
    }
    out.push({ name, unclassified: setting.unclassified, origin: src.locate(at, true) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
