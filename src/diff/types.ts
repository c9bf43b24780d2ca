/** What `fwgen diff` finds; `--format json` prints exactly this (catalog/schema/diff.schema.json). */
export interface ChangeSet {
  version: 1;
  base: string;
  head: string;
  /** True when what any site allows changed (flows or sites added or removed). */
  policyChanged: boolean;
  summary: Summary;
  flags: Flag[];
  sites: SiteChange[];
  lists: ListChange[];
  /**
   * Sites whose base held no policy snapshot (rendered by an fwgen before out/<site>/policy.json):
   * their base was rendered again with this fwgen and its catalog, so catalog changes are not compared.
   */
  catalogNotCompared: string[];
}

export interface Summary {
  sites: number;
  sitesChanged: number;
  flowsAdded: number;
  flowsRemoved: number;
  flowsWidened: number;
  flowsNarrowed: number;
  flowsChanged: number;
  flags: number;
  filesChanged: number;
}

export type FlagKind =
  | 'new-inbound'
  | 'wide-prefix'
  | 'any-address'
  | 'wide-port-range'
  | 'required-removed'
  | 'name-unresolved'
  | 'name-stale'
  | 'list-source-moved'
  | 'target-limit';

export interface Flag {
  kind: FlagKind;
  site?: string;
  flow?: string;
  message: string;
  origins: string[];
}

export interface Delta<T> {
  added: T[];
  removed: T[];
}

export type FlowChangeKind = 'added' | 'removed' | 'widened' | 'narrowed' | 'changed';

export interface VendorPage {
  vendor: string;
  title: string;
  url?: string;
  /** Where on the page the service comes from, when the catalog says. */
  cite?: string;
}

/** Which flow: one per site, device class, direction, vendor, service and protocol. */
export interface FlowIdentity {
  /** <device class>/<direction>/<vendor>/<service>/<protocol or app> */
  id: string;
  deviceClass: string;
  direction: 'inbound' | 'outbound';
  vendor: string;
  service: string;
  serviceName: string;
  protocol: 'tcp' | 'udp' | 'icmp' | null;
  requirement: string;
}

export interface FlowChange extends FlowIdentity {
  change: FlowChangeKind;
  addresses: Delta<string>;
  names: Delta<string>;
  peers: Delta<string>;
  ports: Delta<string>;
  programs: Delta<string>;
  /** Catalog or profile file:line of the flows behind it (after the change; before it for a removal). */
  origins: string[];
  /** Lock files whose addresses moved this flow. */
  locks: string[];
  page?: VendorPage;
}

export interface FileChange {
  target: string;
  path: string;
  status: 'added' | 'removed' | 'changed';
  linesAdded: number;
  linesRemoved: number;
}

export interface SiteChange {
  site: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  file: string;
  flows: FlowChange[];
  files: FileChange[];
  /** Who may talk to whom after the change, with changed edges marked. */
  edges: Edge[];
  /** Device-class settings that change what its rules mean; absent when none changed. */
  classes?: ClassChange[];
  /** Acknowledgements and flow exclusions added, removed or changed; absent when none changed. */
  answers?: AnswerChange[];
}

export interface ClassChange {
  deviceClass: string;
  setting: 'os' | 'management' | 'defaultDrop';
  before: string;
  after: string;
}

export interface AnswerChange {
  kind: 'acknowledgement' | 'exclusion';
  change: 'added' | 'removed' | 'changed';
  what: string;
  reason: string;
  reasonBefore?: string;
  /** The profile entry, file:line. */
  at: string;
}

export interface Edge {
  from: string;
  to: string;
  label: string;
  change: 'added' | 'removed' | 'changed' | 'same';
}

export interface ListChange {
  id: string;
  before?: ListSource;
  after?: ListSource;
}

export interface ListSource {
  url: string;
  recorded: string;
  /** The published feed's own version or serial, and the date it says it was published. */
  version?: string;
  published?: string;
}
