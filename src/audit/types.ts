import type { Hook, Ruleset, SourceRef } from '../ruleset/model';

/** One thing audited: a rule set and what it protects (every class at a gateway, or one host). */
export interface AuditScope {
  /** How answers name it: the file, and the group or profile within it. */
  label: string;
  ruleset: Ruleset;
  /** A host's rule set: the device class it protects. Absent at a gateway (every class). */
  deviceClass?: string;
  /** Gateway: where a class sits (undefined: anywhere). */
  classInterface(deviceClass: string): string | undefined;
  /** Windows: rules match programs too. */
  programs: boolean;
  /** What the scope left out, said once with its answer. */
  notes: string[];
}

export interface RuleRef {
  file: string;
  line: number;
  text: string;
}

/** A deciding rule or a chain's default. */
export interface Decider {
  verdict: 'accept' | 'drop';
  chain: string;
  rule?: RuleRef;
  byDefault: boolean;
}

/** Part of a packet space in words: per family and protocol, the addresses and ports. */
export interface SpacePart {
  family: 4 | 6;
  protocols: string[];
  src: AddressWidth;
  dst: AddressWidth;
  /** Destination ports, "any" when every port (or the protocol has none). */
  ports: string;
  /** Source ports when the rule narrows them. */
  sourcePorts?: string;
  inInterfaces?: string[];
  outInterfaces?: string[];
  programs?: string[];
}

export interface AddressWidth {
  cidrs: string[];
  /** How many addresses, as a decimal string (IPv6 counts are large). */
  count: string;
  /** The shortest prefix among them (the widest network). */
  widest: number;
  /** When that reads shorter: the few networks of the family it leaves out. */
  except?: string[];
}

export type FlowStatus = 'met' | 'partial' | 'missing' | 'unchecked';

export interface FlowAudit {
  scope: string;
  id: string;
  vendor: string;
  service: string;
  deviceClass: string;
  direction: 'inbound' | 'outbound';
  protocol: string;
  ports: string;
  status: FlowStatus;
  /** The catalog or profile places the flow comes from, with the page's cite. */
  origins: Array<{ file: string; line: number; col: number; cite?: string }>;
  /** How to find the vendor's page. */
  page?: string;
  /** What of the flow is not admitted. */
  missing: SpacePart[];
  /** The rules that admit (part of) it. */
  admittedBy: RuleRef[];
  /** The rules (or defaults) that stop what is missing. */
  blockedBy: Decider[];
  /** Why it was not checked, or what of it could not be. */
  notes: string[];
}

export interface Opening {
  scope: string;
  by: Decider;
  parts: SpacePart[];
}

export interface UncertainRule {
  scope: string;
  rule: RuleRef;
  verdict: string;
  why: string;
}

export interface ScopeAudit {
  scope: string;
  format: string;
  deviceClass?: string;
  hooks: Hook[];
  notes: string[];
}

export interface AuditReport {
  version: 1;
  site: string;
  profile: string;
  files: string[];
  scopes: ScopeAudit[];
  flows: FlowAudit[];
  openings: Opening[];
  uncertain: UncertainRule[];
  summary: { met: number; partial: number; missing: number; unchecked: number; openings: number; uncertain: number };
  /** Nothing to report: every checked flow met, nothing beyond them, nothing uncertain. */
  clean: boolean;
}

export function ruleRef(s: SourceRef): RuleRef {
  return { file: s.file, line: s.line, text: s.text };
}
