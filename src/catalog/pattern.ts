import type * as Re2jsPackage from 're2js';
import { rememberedMatch, rememberMatch } from './pattern-memo';

/** The longest value a name variable may hold: a whole DNS name. */
export const MAX_NAME_VALUE = 253;

/** A vendor's pattern for a name variable, matched against the whole value. */
export interface NamePattern {
  source: string;
  matches(text: string): boolean;
}

/** re2js, loaded when a pattern is first compiled: most runs read the catalog from its cache and match no name. */
function compileRe2(source: string): Re2jsPackage.RE2JS {
  return (require('re2js') as typeof Re2jsPackage).RE2JS.compile(`(?:${source})`);
}

/**
 * Compiles a vendor pattern with RE2 semantics (re2js): matching takes time linear in the
 * value whatever the pattern, so a pattern like ([0-9]+)+ cannot hang fwgen on a long value.
 * RE2 has no lookaround and no backreferences; a pattern that needs them is refused.
 */
export function compilePattern(source: string): NamePattern | { error: string } {
  try {
    const re = compileRe2(source);
    return { source, matches: remembering(source, () => re) };
  } catch (err) {
    return { error: `not a valid regular expression for fwgen (RE2 syntax, no lookaround or backreferences): ${(err as Error).message}` };
  }
}

/**
 * A pattern this fwgen build compiled when it validated the catalog (the compiled catalog's
 * cache holds only such patterns, keyed by the build): compiled on its first match, so a run
 * that matches no name never loads the regular expression engine.
 */
export function validatedPattern(source: string): NamePattern {
  let re: Re2jsPackage.RE2JS | undefined;
  const compiled = (): Re2jsPackage.RE2JS => {
    try {
      return compileRe2(source);
    } catch (err) {
      throw new Error(`internal: the cached pattern ${JSON.stringify(source)} no longer compiles: ${(err as Error).message}`);
    }
  };
  return { source, matches: remembering(source, () => (re ??= compiled())) };
}

/**
 * A pattern's match that asks the cache before the engine (see pattern-memo.ts) until this
 * process has compiled the pattern: from then on the engine answers at once, cheaper than a
 * cache entry is read, and a fleet's thousands of values leave no entry each.
 */
function remembering(source: string, engine: () => Re2jsPackage.RE2JS): (text: string) => boolean {
  let asked = false;
  return (text) => {
    if (!asked && rememberedMatch(source, text)) return true;
    const first = !asked;
    asked = true;
    const matched = engine().matches(text);
    if (matched && first) rememberMatch(source, text);
    return matched;
  };
}
