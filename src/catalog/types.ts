import type { SourceLocation } from '../errors';
import type { Cidr } from '../policy/addresses';
import type { PortRange } from '../policy/ports';
import type { NamePattern } from './pattern';

export type Requirement = 'required' | 'optional' | 'conditional';
export type Direction = 'outbound' | 'inbound' | 'both';
export type CatalogProtocol = 'tcp' | 'udp' | 'tcp/udp' | 'icmp';
export type VariableKind = 'name' | 'addresses' | 'ports';

export interface DeviceClass {
  id: string;
  name: string;
  description: string;
  os: string;
  origin: SourceLocation;
}

export interface AddressList {
  id: string;
  name: string;
  url: string;
  recorded: string;
  notes: string[];
  addresses: Cidr[];
  origin: SourceLocation;
}

export interface Variable {
  name: string;
  kind: VariableKind;
  description: string;
  pattern?: NamePattern;
  origin: SourceLocation;
}

/** A port item as the catalog writes it: a range, or a variable the profile fills. */
export type PortItem = { range: PortRange } | { variable: string };
/** An address item: a parsed network, or a variable the profile fills. */
export type AddressItem = { cidr: Cidr } | { variable: string };

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
  flows: Flow[];
  origin: SourceLocation;
}

export interface VendorSource {
  title: string;
  url?: string;
  seed: string;
  date?: string;
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
