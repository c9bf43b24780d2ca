/**
 * A firewall rule set as read back from a file some tool wrote (fwgen or not): nftables, iptables
 * with ipsets, pfSense config.xml, AWS security groups, Windows Firewall rules. Every reader turns
 * its format into these chains, so `query` (which rule decides this packet) and `audit` (what does
 * this rule set open, against what the profile asks for) have one model to reason over.
 *
 * The model keeps first-match order and jumps, so a rule set that another tool wrote (user chains,
 * RETURN, set lookups, a default policy) means the same here as in the kernel or on the box. What a
 * reader cannot model exactly is kept as `unsupported` on the rule, never guessed into a wider or
 * narrower match.
 */

/** Where a rule came from in the file that was read: the line and its text, for every answer. */
export interface SourceRef {
  file: string;
  /** 1-based; the element's line for XML and JSON. */
  line: number;
  /** The rule as the file says it (one line, trimmed), or a short rendering of a JSON/XML element. */
  text: string;
}

export type IpFamily = 4 | 6;

/** A set of addresses: canonical CIDRs (both families may be present). `negate` matches the complement. */
export interface AddressMatch {
  cidrs: string[];
  negate?: boolean;
  /** The set's or alias's name in the file, when the rule referred to one. */
  name?: string;
  /**
   * Host names the box matches by what they resolve to there (a pfSense FQDN alias entry, a
   * Windows dynamic keyword with AutoResolve); the file holds no addresses for them. Whoever
   * answers from the model looks them up (audit: in the site's lock file) or says it cannot.
   */
  names?: string[];
}

/** Inclusive port ranges; `negate` matches every other port. */
export interface PortMatch {
  ranges: Array<[number, number]>;
  negate?: boolean;
}

export type ConnState = 'new' | 'established' | 'related' | 'invalid' | 'untracked';

/** Every field that is absent matches anything. */
export interface RuleMatch {
  family?: IpFamily;
  /** 'icmp' is ICMP for IPv4 and ICMPv6 for IPv6; a number is any other IP protocol. */
  protocol?: 'tcp' | 'udp' | 'icmp' | number;
  negateProtocol?: boolean;
  src?: AddressMatch;
  dst?: AddressMatch;
  sport?: PortMatch;
  dport?: PortMatch;
  /** Interface names; a trailing "+" (iptables) or "*" (nftables) is a prefix match. */
  iif?: string;
  oif?: string;
  negateIif?: boolean;
  negateOif?: boolean;
  /** Connection tracking states the rule requires (any of them). */
  state?: ConnState[];
  /**
   * ICMP message types the rule requires (any of them), by their nft names ("echo-request"); the
   * same name stands for ICMP and ICMPv6. `negate` matches every other type.
   */
  icmpTypes?: { types: string[]; negate?: boolean };
  /** Windows: the program (full path, compared case-insensitively) whose traffic the rule matches. */
  program?: string;
}

export type Verdict =
  | { kind: 'accept' }
  | { kind: 'drop' }
  | { kind: 'reject' }
  | { kind: 'jump'; chain: string }
  | { kind: 'goto'; chain: string }
  | { kind: 'return' }
  /** A rule without a terminating verdict (log, counter, mark): evaluation goes on. */
  | { kind: 'continue' };

export interface RulesetRule {
  match: RuleMatch;
  verdict: Verdict;
  source: SourceRef;
  /**
   * What the reader could not model (a match on marks, time, a helper...). Such a rule is never
   * taken to match silently: query reports its decision as uncertain and audit names it.
   */
  unsupported?: string;
}

/**
 * Where traffic enters a base chain. A forwarded packet meets prerouting, forward and postrouting;
 * one to the host prerouting and input; one from the host output and postrouting.
 */
export type Hook = 'input' | 'output' | 'forward' | 'prerouting' | 'postrouting';

export interface Chain {
  /** Unique within the rule set, e.g. "inet fwgen input" or "filter FWGEN-OUT". */
  name: string;
  /** Base chains only: the hook they are attached to. User chains are reached by jump/goto. */
  hook?: Hook;
  /** The families the chain sees (an "inet" table or a pfSense rule sees both). */
  families: IpFamily[];
  /** Base chains: nftables priority, so several base chains on one hook run in order. */
  priority?: number;
  /** Base chains: the verdict when no rule decides (iptables policy, nft policy, AWS/Windows default). */
  policy?: 'accept' | 'drop';
  /** Where the policy is declared, for answers that end at the default. */
  policySource?: SourceRef;
  rules: RulesetRule[];
}

export type RulesetFormat = 'nftables' | 'nftables-json' | 'iptables-save' | 'pfsense' | 'aws' | 'windows';

/** A firewall's interface as its configuration declares it (pfSense's <interfaces>). */
export interface DeclaredInterface {
  /** The configuration's name for it: wan, lan, opt1. */
  name: string;
  /** The device under it (igb1, vtnet0), when the file says. */
  device?: string;
  /** The networks on it (its address with its prefix length), both families as declared. */
  networks: string[];
  /** The firewall's own addresses on it (host CIDRs). */
  addresses: string[];
}

export interface Ruleset {
  format: RulesetFormat;
  file: string;
  chains: Chain[];
  /** The interfaces the file declares (pfSense), for telling which one a packet arrives on. */
  interfaces?: DeclaredInterface[];
  /** What the reader noticed and could not model for the whole file (said once, with the answer). */
  notes: string[];
}
