/**
 * Characters no catalog or profile string may hold: C0 and C1 controls (NUL included),
 * DEL, bidi embeddings, overrides, isolates and marks (they make a reviewer read text in
 * another order than a tool does), zero-width characters and the Unicode line separators.
 * Newlines are allowed only where free text may span lines; the caller decides.
 */
export const UNSAFE_CHARS =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;
const UNSAFE_OR_NEWLINE = new RegExp(`(?:${UNSAFE_CHARS.source}|\\n)`, 'gu');

/** Names the character for a message: "U+202E" or "U+0000". */
export function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * A message as it may reach a terminal: every unsafe character (and newline) inside it
 * written as an escape, so a value can neither reorder, hide nor inject what is printed.
 */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE_OR_NEWLINE, (ch) => (ch === '\n' ? '\\n' : `\\u{${ch.codePointAt(0)!.toString(16)}}`));
}
