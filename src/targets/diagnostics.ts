import { formatLocation, type SourceLocation } from '../errors';
import type { Rule } from '../policy/types';
import type { Diagnostic } from './types';

/** Diagnostics deduplicated by message, in the order first seen. */
export class Diagnostics {
  private readonly seen = new Map<string, Diagnostic>();

  constructor(private readonly target: string) {}

  add(severity: Diagnostic['severity'], message: string, rule?: Rule): void {
    this.keep({ severity, target: this.target, message, loc: rule?.origins[0]?.loc });
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
