import { RE2JS } from 're2js';

/** The longest value a name variable may hold: a whole DNS name. */
export const MAX_NAME_VALUE = 253;

/** A vendor's pattern for a name variable, matched against the whole value. */
export interface NamePattern {
  source: string;
  matches(text: string): boolean;
}

/**
 * Compiles a vendor pattern with RE2 semantics (re2js): matching takes time linear in the
 * value whatever the pattern, so a pattern like ([0-9]+)+ cannot hang fwgen on a long value.
 * RE2 has no lookaround and no backreferences; a pattern that needs them is refused.
 */
export function compilePattern(source: string): NamePattern | { error: string } {
  try {
    const re = RE2JS.compile(`(?:${source})`);
    return { source, matches: (text) => re.matches(text) };
  } catch (err) {
    return { error: `not a valid regular expression for fwgen (RE2 syntax, no lookaround or backreferences): ${(err as Error).message}` };
  }
}
