import { formatLocation, type SourceLocation } from '../errors';
import type { Policy, Rule } from '../policy/types';
import { programRuleLeftOut } from './rule-selection';
import type { Diagnostic } from './types';

/** Diagnostics deduplicated by message, in the order first seen. */
export class Diagnostics {
  private readonly seen = new Map<string, Diagnostic>();

  constructor(private readonly target: string) {}

  /** A diagnostic located at the rule's first origin, or at a place in an input (a device class's binding). */
  add(severity: Diagnostic['severity'], message: string, at?: Rule | SourceLocation): void {
    const loc = at === undefined ? undefined : 'origins' in at ? at.origins[0]?.loc : at;
    this.keep({ severity, target: this.target, message, loc });
  }

  /**
   * A program rule left out by a target that matches traffic, not applications. Every such
   * target says it in these words, so a site's render prints it once, naming them all.
   */
  programsLeftOut(policy: Policy, rule: Rule): void {
    this.add('warning', programRuleLeftOut(policy, rule), rule);
  }

  /** For what a profile setting (not a rule) asks for, at the place it is written. */
  addAt(severity: Diagnostic['severity'], message: string, loc: SourceLocation): void {
    this.keep({ severity, target: this.target, message, loc });
  }

  /** Adds what another list of the same target said, as if it had been said here. */
  addAll(list: Diagnostic[]): void {
    for (const d of list) this.keep(d);
  }

  private keep(d: Diagnostic): void {
    const key = `${d.severity}|${d.message}|${d.loc ? formatLocation(d.loc) : ''}`;
    if (!this.seen.has(key)) this.seen.set(key, d);
  }

  list(): Diagnostic[] {
    return [...this.seen.values()];
  }
}
