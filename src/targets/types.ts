import type { SourceLocation } from '../errors';
import type { Policy } from '../policy/types';

export type Severity = 'error' | 'warning';

/** Something a target cannot express or must warn about, tied to the rule's catalog line. */
export interface Diagnostic {
  severity: Severity;
  target: string;
  message: string;
  loc?: SourceLocation;
}

export interface OptionInfo<T> {
  describe: string;
  /** A fixed default, or one derived from the profile (a group name, say). */
  default: T | ((policy: Policy) => T);
}

export type OptionSpec<O> = { [K in keyof O]: OptionInfo<O[K]> };

/**
 * One file a target writes: where (under out/<profile>/<target>/), from which template, for
 * which part of the policy. The scope is data of the target's own type S: its view() reads the
 * fields, another target may read them too (the Linux files the ansible target installs), and
 * generic code prints or compares it with scopeKey (scope.ts) only.
 */
export interface OutputFile<S = unknown> {
  path: string;
  template: string;
  /** Which part of the policy the file holds (a device class, an address family, ...). */
  scope: S;
  /** The part of a composed target that makes the file (parts.ts); none: the target itself. */
  part?: string;
}

export interface Target<O, V, S = unknown> {
  id: string;
  describe: string;
  /** How the user applies the files, for the header and `fwgen targets`. */
  apply: string;
  options: OptionSpec<O>;
  files(policy: Policy, o: O): Array<OutputFile<S>>;
  check(policy: Policy, o: O): Diagnostic[];
  /**
   * What the target cannot hold (a rule quota): the diagnostics of check() that say so, found
   * without building the files. The policy snapshot records them for every target the site
   * uses, whichever were rendered, so they must be cheap; none: the target has no limits.
   */
  limits?(policy: Policy, o: O): Diagnostic[];
  view(policy: Policy, o: O, file: OutputFile<S>): V;
  /** The other targets whose files this one's output reads (the playbooks install them): a render without them says so. */
  reads?(policy: Policy, o: O): string[];
}

/**
 * A generator of its own whose files a target writes beside its own, in its folder and under
 * its name (the Network Firewall rule group in the aws target's). It takes no options.
 */
export interface TargetPart<V, S = unknown> {
  id: string;
  /** How the user applies its files, appended to the target's own. */
  apply: string;
  files(policy: Policy): Array<OutputFile<S>>;
  check(policy: Policy): Diagnostic[];
  view(policy: Policy, file: OutputFile<S>): V;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTarget = Target<any, any, any>;
