import type { CheckId } from '../catalog/acknowledge';
import type { Direction as CatalogDirection, Requirement } from '../catalog/types';
import type { SourceLocation } from '../errors';
import type { AddressSet } from '../net/addresses';
import type { PortRange } from '../net/ports';

export type Protocol = 'tcp' | 'udp' | 'icmp';
export type Direction = Exclude<CatalogDirection, 'both'>;

/** Where a rule came from: which vendor, service and flow, at which file:line:col. */
export interface RuleOrigin {
  vendor: string;
  service: string;
  flow: number;
  loc: SourceLocation;
  /** Where on the vendor's page the flow is (section, table, row), when the catalog says. */
  cite?: string;
}

/** What a name turned into, from the lock file (never from DNS at render time). */
export interface NameInfo {
  name: string;
  wildcard: boolean;
  /** The vendor says its answers live at most this long. */
  maxTtl?: number;
  /** Present when the lock holds the name. */
  addresses?: AddressSet;
  ttl?: number;
  /** The last lookup failed; these addresses are from an earlier one (the lock says why). */
  stale?: string;
}

export interface Remote {
  /** Literal networks: the vendor's addresses, named lists and peer device classes, aggregated. */
  addresses: AddressSet;
  /** Host names, sorted; wildcards start with "*.". */
  names: string[];
  lists: string[];
  peers: string[];
}

/** One allow rule of the IR: a device class, a direction, a protocol, ports and the other end. */
export interface Rule {
  id: string;
  vendor: string;
  vendorName: string;
  service: string;
  serviceName: string;
  requirement: Requirement;
  deviceClass: string;
  direction: Direction;
  /** Absent for a program-only rule (the vendor names an application, not traffic). */
  protocol?: Protocol;
  ports: PortRange[];
  remote: Remote;
  programs: string[];
  origins: RuleOrigin[];
}

export interface BoundClass {
  id: string;
  name: string;
  /** The operating system the catalog says such devices run: windows, linux, android or any. */
  os: string;
  addresses: AddressSet;
  interface?: string;
  /** Where the profile binds the class, for messages about the class as a whole (always set by buildPolicy). */
  origin?: SourceLocation;
}

/** Gateway mode: what the profile says about one LAN interface (its `interfaces:` map). */
export interface InterfaceSetting {
  name: string;
  /** Traffic of an address on this interface that is in no device class. */
  unclassified: 'drop' | 'accept';
  loc: SourceLocation;
}

export interface Omission {
  vendor: string;
  service: string;
  serviceName: string;
  flow?: number;
  /** Only this direction of the flow is left out; the other is selected. */
  direction?: Direction;
  reason: string;
  loc: SourceLocation;
}

/** A vendor flow, or one direction of it, the profile leaves out (excludeFlows), with the profile's reason. */
export interface PolicyExclusion {
  vendor: string;
  service: string;
  /** The flow's index within its service (0-based). */
  flow: number;
  /** Where on the vendor's page the flow is, when the catalog says. */
  cite?: string;
  /** What is left out: the whole flow or one direction of it. */
  excluded: 'flow' | Direction;
  reason: string;
  /** The excludeFlows entry in the profile. */
  loc: SourceLocation;
  /** The flow in the catalog. */
  flowLoc: SourceLocation;
}

/** What a check found: a lock-out (refused until answered) or an explicit any (a warning until answered). */
export interface CheckFinding {
  check: CheckId;
  deviceClass: string;
  /** vendor/service of the rule it concerns, for the checks that look at rules one by one. */
  service?: string;
  loc: SourceLocation;
  /** The profile field to change, for lock-outs (deviceClasses.<class>). */
  field?: string;
  message: string;
}

/** An `acknowledge:` entry of the profile and the findings it answered. */
export interface PolicyAcknowledgement {
  check: CheckId;
  deviceClass: string;
  service?: string;
  reason: string;
  /** The acknowledge entry in the profile. */
  loc: SourceLocation;
  answers: Array<{ message: string; loc: SourceLocation }>;
}

export interface PolicyVendor {
  id: string;
  name: string;
  title: string;
  /** How a reader finds the page the rules come from: title, the URL the page gives, its date. */
  citation: string;
}

/** Something a user wrote that fwgen renders as asked but that deserves a second look. */
export interface PolicyWarning {
  loc: SourceLocation;
  message: string;
}

export interface Policy {
  profile: {
    name: string;
    file: string;
    region: string;
    environments: string[];
    description?: string;
    /** Per-target options as the profile gives them (the ansible target reads its siblings'). */
    targets?: Record<string, Record<string, unknown>>;
    /**
     * Where the profile gives them: `targets` itself under '', then each target, option and
     * option key by dotted path (`ansible`, `ansible.hosts`, `ansible.hosts.gateway`). Plain
     * data, so a policy rendered in a worker keeps it.
     */
    targetsAt?: Record<string, SourceLocation>;
  };
  /** The vendors the rules come from, with the page each was transcribed from; `site` for the profile's own flows. */
  vendors: PolicyVendor[];
  deviceClasses: BoundClass[];
  /** The profile's settings per LAN interface, sorted by name; an interface not listed drops unclassified traffic. */
  interfaces: InterfaceSetting[];
  rules: Rule[];
  names: Map<string, NameInfo>;
  omitted: Omission[];
  /**
   * Explicit "any" (0.0.0.0/0, ::/0, every port) from the catalog, the profile or the lock,
   * each at the place it was written; sorted by location. Every command prints them.
   */
  warnings: PolicyWarning[];
  /** The checks the profile answered (acknowledge:), each with its reason and what it answered; sorted by location. */
  acknowledgements: PolicyAcknowledgement[];
  /** The vendor flows, or directions of them, the profile trims (excludeFlows), sorted by vendor, service and flow. */
  exclusions: PolicyExclusion[];
  /** The lock file that supplied the names' addresses, if any. */
  lockFile?: string;
  /** Render leaves rules with unpinned names out (a warning) instead of failing. */
  allowUnresolved: boolean;
}

/** Name → addresses, as a lock file records them. The seam between resolving and rendering. */
export interface AddressBook {
  lookup(name: string): { addresses: AddressSet; ttl?: number; stale?: string } | undefined;
  /** The lock file behind the book; absent when there is none. */
  readonly file?: string;
  /** The selection digest the lock was made for. */
  readonly selection?: string;
}

export const emptyAddressBook: AddressBook = { lookup: () => undefined };
