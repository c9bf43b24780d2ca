/**
 * Characters no catalog or profile string may hold: C0 and C1 controls (NUL included),
 * DEL, bidi embeddings, overrides, isolates and marks (they make a reviewer read text in
 * another order than a tool does), zero-width characters and the Unicode line separators.
 * Newlines are allowed only where free text may span lines; the caller decides.
 */
export const UNSAFE_CHARS =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;
const UNSAFE_OR_NEWLINE = new RegExp(`(?:${UNSAFE_CHARS.source}|\\n)`, 'gu');

const WHY: Array<[RegExp, string]> = [
  [/[\u0000-\u001f\u007f-\u009f]/u, 'a control character'],
  [/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u, 'a bidirectional-text control, which shows the text in another order than tools read it'],
  [/[\u200b-\u200d\u2060\ufeff]/u, 'a zero-width character, invisible in review'],
  [/[\u2028\u2029]/u, 'a Unicode line separator'],
];

/** What kind of refused character `ch` is, for a message. */
export function unsafeKind(ch: string): string {
  return WHY.find(([re]) => re.test(ch))?.[1] ?? 'a character that is not allowed';
}

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
