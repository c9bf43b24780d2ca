import type { CheckId } from '../catalog/acknowledge';
import type { Direction as CatalogDirection, Requirement } from '../catalog/types';
import type { SiteTargets } from '../catalog/site-targets';
import type { SourceLocation } from '../errors';
import type { AddressSet } from '../net/addresses';
import type { PortRange } from '../net/ports';

export type Protocol = 'tcp' | 'udp' | 'icmp';
export type Direction = Exclude<CatalogDirection, 'both'>;

/** Where a rule came from: which vendor, service and flow, at which file:line:col. */
export interface RuleOrigin {
  readonly vendor: string;
  readonly service: string;
  readonly flow: number;
  readonly loc: SourceLocation;
  /** Where on the vendor's page the flow is (section, table, row), when the catalog says. */
  readonly cite?: string;
}

/** What a name turned into, from the lock file (never from DNS at render time). */
export interface NameInfo {
  readonly name: string;
  readonly wildcard: boolean;
  /** The vendor says its answers live at most this long. */
  readonly maxTtl?: number;
  /** Present when the lock holds the name. */
  readonly addresses?: AddressSet;
  readonly ttl?: number;
  /** The last lookup failed; these addresses are from an earlier one (the lock says why). */
  readonly stale?: string;
}

export interface Remote {
  /** Literal networks: the vendor's addresses, named lists and peer device classes, aggregated. */
  readonly addresses: AddressSet;
  /** Host names, sorted; wildcards start with "*.". */
  readonly names: readonly string[];
  readonly lists: readonly string[];
  readonly peers: readonly string[];
}

/** One allow rule of the IR: a device class, a direction, a protocol, ports and the other end. */
export interface Rule {
  readonly id: string;
  readonly vendor: string;
  readonly vendorName: string;
  readonly service: string;
  readonly serviceName: string;
  readonly requirement: Requirement;
  readonly deviceClass: string;
  readonly direction: Direction;
  /** Absent for a program-only rule (the vendor names an application, not traffic). */
  readonly protocol?: Protocol;
  readonly ports: readonly PortRange[];
  readonly remote: Remote;
  readonly programs: readonly string[];
  readonly origins: readonly RuleOrigin[];
}

export interface BoundClass {
  readonly id: string;
  readonly name: string;
  /** The operating system the catalog says such devices run: windows, linux, android or any. */
  readonly os: string;
  readonly addresses: AddressSet;
  readonly interface?: string;
  /** Where the profile binds the class, for messages about the class as a whole (always set by buildPolicy). */
  readonly origin?: SourceLocation;
}

/** Gateway mode: what the profile says about one LAN interface (its `interfaces:` map). */
export interface InterfaceSetting {
  readonly name: string;
  /** Traffic of an address on this interface that is in no device class. */
  readonly unclassified: 'drop' | 'accept';
  readonly loc: SourceLocation;
}

export interface Omission {
  readonly vendor: string;
  readonly service: string;
  readonly serviceName: string;
  readonly flow?: number;
  /** Only this direction of the flow is left out; the other is selected. */
  readonly direction?: Direction;
  readonly reason: string;
  readonly loc: SourceLocation;
}

/** A vendor flow, or one direction of it, the profile leaves out (excludeFlows), with the profile's reason. */
export interface PolicyExclusion {
  readonly vendor: string;
  readonly service: string;
  /** The flow's index within its service (0-based). */
  readonly flow: number;
  /** Where on the vendor's page the flow is, when the catalog says. */
  readonly cite?: string;
  /** What is left out: the whole flow or one direction of it. */
  readonly excluded: 'flow' | Direction;
  readonly reason: string;
  /** The excludeFlows entry in the profile. */
  readonly loc: SourceLocation;
  /** The flow in the catalog. */
  readonly flowLoc: SourceLocation;
}

/** What a check found: a lock-out (refused until answered) or an explicit any (a warning until answered). */
export interface CheckFinding {
  readonly check: CheckId;
  readonly deviceClass: string;
  /** vendor/service of the rule it concerns, for the checks that look at rules one by one. */
  readonly service?: string;
  readonly loc: SourceLocation;
  /** The profile field to change, for lock-outs (deviceClasses.<class>). */
  readonly field?: string;
  readonly message: string;
}

/** An `acknowledge:` entry of the profile and the findings it answered. */
export interface PolicyAcknowledgement {
  readonly check: CheckId;
  readonly deviceClass: string;
  readonly service?: string;
  readonly reason: string;
  /** The acknowledge entry in the profile. */
  readonly loc: SourceLocation;
  readonly answers: ReadonlyArray<{ message: string; loc: SourceLocation }>;
}

export interface PolicyVendor {
  readonly id: string;
  readonly name: string;
  readonly title: string;
  /** How a reader finds the page the rules come from: title, the URL the page gives, its date. */
  readonly citation: string;
}

/** Something a user wrote that fwgen renders as asked but that deserves a second look. */
export interface PolicyWarning {
  readonly loc: SourceLocation;
  readonly message: string;
}

export interface Policy {
  readonly profile: {
    readonly name: string;
    readonly file: string;
    readonly region: string;
    readonly environments: readonly string[];
    readonly description?: string;
    /** Per-target options as the profile gives them (the ansible target reads its siblings'). */
    readonly targets?: Record<string, Record<string, unknown>>;
    /** The targets the site uses; absent: every target. The ansible target installs only these. */
    readonly uses?: SiteTargets;
    /**
     * Where the profile gives them: `targets` itself under '', then each target, option and
     * option key by dotted path (`ansible`, `ansible.hosts`, `ansible.hosts.gateway`). Plain
     * data, so a policy rendered in a worker keeps it.
     */
    readonly targetsAt?: Record<string, SourceLocation>;
  };
  /** The vendors the rules come from, with the page each was transcribed from; `site` for the profile's own flows. */
  readonly vendors: readonly PolicyVendor[];
  readonly deviceClasses: readonly BoundClass[];
  /** The profile's settings per LAN interface, sorted by name; an interface not listed drops unclassified traffic. */
  readonly interfaces: readonly InterfaceSetting[];
  readonly rules: readonly Rule[];
  readonly names: ReadonlyMap<string, NameInfo>;
  readonly omitted: readonly Omission[];
  /**
   * Explicit "any" (0.0.0.0/0, ::/0, every port) from the catalog, the profile or the lock,
   * each at the place it was written; sorted by location. Every command prints them.
   */
  readonly warnings: readonly PolicyWarning[];
  /** The checks the profile answered (acknowledge:), each with its reason and what it answered; sorted by location. */
  readonly acknowledgements: readonly PolicyAcknowledgement[];
  /** The vendor flows, or directions of them, the profile trims (excludeFlows), sorted by vendor, service and flow. */
  readonly exclusions: readonly PolicyExclusion[];
  /** The lock file that supplied the names' addresses, if any. */
  readonly lockFile?: string;
  /** Render leaves rules with unpinned names out (a warning) instead of failing. */
  readonly allowUnresolved: boolean;
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

/**
 * A policy object while its builder fills it in: the same fields, writable, arrays mutable.
 * Only the builders use it; what they return is the readonly type above.
 */
export type Writable<T> = { -readonly [K in keyof T]: T[K] extends ReadonlyArray<infer E> ? E[] : T[K] };
