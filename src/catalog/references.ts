/** A variable reference as catalogs write it: {name}, lower case, in braces. */
const REFERENCE = /\{([a-z][a-z0-9_]*)\}/g;
const WHOLE_REFERENCE = /^\{([a-z][a-z0-9_]*)\}$/;

/**
 * The variable names a catalog value refers to, or why it is malformed. Any brace that is
 * not part of a well-formed {name} is an error: "{Gw}", "{gw", "gw}" or "{{gw}}" must never
 * be taken as literal text nor be dropped.
 */
export function referencesIn(text: string): { names: string[] } | { error: string } {
  const names = [...text.matchAll(REFERENCE)].map((m) => m[1]!);
  const rest = text.replace(REFERENCE, '');
  if (/[{}]/.test(rest)) {
    const bad = /\{[^{}]*\}?|\}/.exec(rest)![0];
    return {
      error: `'${bad}' is not a variable reference: write {name} with a lower-case letter first, then lower-case letters, digits or underscores, braces balanced`,
    };
  }
  return { names };
}

/** The variable a whole-item reference ("{gateway_ranges}") names, else undefined. */
export function wholeReference(text: string): string | undefined {
  return WHOLE_REFERENCE.exec(text)?.[1];
}

/** Fills every {name} of `text` with `value(name)`; undefined when one has no value. */
export function expandReferences(text: string, value: (name: string) => string | undefined): string | undefined {
  let complete = true;
  const out = text.replace(REFERENCE, (_m, name: string) => {
    const v = value(name);
    if (v === undefined) complete = false;
    return v ?? '';
  });
  return complete ? out : undefined;
}
