import type { SourceLocation } from '../errors';
import type { Cidr } from '../net/addresses';
import type { PortRange } from '../net/ports';
import type { VariableValue } from './variable-value';
import type { NamePattern } from './pattern';

export type Requirement = 'required' | 'optional' | 'conditional';
export type Direction = 'outbound' | 'inbound' | 'both';
export type CatalogProtocol = 'tcp' | 'udp' | 'tcp/udp' | 'icmp';
export type VariableKind = 'name' | 'addresses' | 'ports';

export interface DeviceClass {
  id: string;
  name: string;
  description: string;
  /** fwgen's default for the system the class runs; a profile's deviceClasses.<class>.os wins. */
  os: string;
  /** Where the default comes from (no vendor page names a class's system outright). */
  notes: string[];
  origin: SourceLocation;
}

/** The published feed a list is kept from (fwgen lists update), with what the last update recorded. */
export interface AddressListFeed {
  format: string;
  urls: string[];
  /** The feed's own version or serial (AWS/Google syncToken, Microsoft 365 version). */
  version?: string;
  /** When the feed says it was published (AWS createDate, Google creationTime). */
  published?: string;
  /** The day the addresses were fetched (YYYY-MM-DD). */
  fetched?: string;
  /** sha256 of the addresses, one a line. */
  digest?: string;
  /** The vendor file the update generates from the same feed. */
  vendor?: string;
}

export interface AddressList {
  id: string;
  name: string;
  url: string;
  recorded: string;
  notes: string[];
  addresses: Cidr[];
  feed?: AddressListFeed;
  origin: SourceLocation;
}

export interface Variable {
  name: string;
  kind: VariableKind;
  description: string;
  pattern?: NamePattern;
  /** Used when the profile does not set the variable. */
  default?: VariableValue;
  origin: SourceLocation;
}

/** A port item as the catalog writes it: a range, or a variable the profile fills. */
export type PortItem = { range: PortRange } | { variable: string };
/** An address item: a parsed network (held as is: a flow may have a million), or a variable the profile fills. */
export type AddressItem = Cidr | { variable: string };

export interface Flow {
  index: number;
  direction: Direction;
  protocol?: CatalogProtocol;
  ports: PortItem[];
  deviceClasses?: string[];
  domains: string[];
  addresses: AddressItem[];
  lists: string[];
  peers: string[];
  programs: string[];
  maxTtl?: number;
  incomplete?: string;
  notes: string[];
  /** Where on the vendor page the flow comes from, when narrower than its service's cite. */
  cite?: string;
  origin: SourceLocation;
  /** Path of the flow inside its file, for messages about it. */
  path: Array<string | number>;
}

export interface Service {
  id: string;
  name: string;
  purpose: string[];
  requirement: Requirement;
  condition?: string;
  vendorSays?: string;
  deviceClasses: string[];
  regions?: string[];
  environments?: string[];
  notes: string[];
  /** Where on the vendor page the service comes from: section, table, row. */
  cite?: string;
  flows: Flow[];
  origin: SourceLocation;
}

/** The page a vendor file was transcribed from, as a reader can find it. */
export interface VendorSource {
  title: string;
  url?: string;
  date?: string;
  /** Internal traceability only (which transcription the file was checked against); never shown. */
  seed?: string;
}

export interface Vendor {
  id: string;
  name: string;
  source: VendorSource;
  notes: string[];
  variables: Map<string, Variable>;
  services: Service[];
  file: string;
  origin: SourceLocation;
}

export interface Catalog {
  root: string;
  deviceClasses: Map<string, DeviceClass>;
  lists: Map<string, AddressList>;
  vendors: Map<string, Vendor>;
}
