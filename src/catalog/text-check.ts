import type { Document, LineCounter } from 'yaml';
import { fieldPath, type LocatedIssue } from '../errors';
import { codePoint, UNSAFE_CHARS, unsafeKind } from '../util/unsafe-chars';
import { yamlPackage } from '../util/yaml-package';

/**
 * Fields of free text that may span lines (a note, a description). Everything else reaches
 * a single line of some output (a rule name, a host name, a comment) and takes no newline.
 */
const MULTILINE_FIELDS = new Set(['description', 'notes', 'purpose', 'condition', 'vendorSays', 'incomplete', 'note']);

/**
 * One walk over a parsed YAML document: every key and string value is checked for
 * characters that could hide text from a reviewer or break the line they are printed in.
 */
export function unsafeTextIssues(file: string, doc: Document.Parsed, lines: LineCounter): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const { isPair, isScalar, isSeq, visit } = yamlPackage();
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string') return;
      const path: Array<string | number> = [];
      let isKey = false;
      const chain = [...ancestors, node];
      for (let i = 0; i < chain.length - 1; i++) {
        const a = chain[i];
        const next = chain[i + 1];
        if (isPair(a)) {
          if (a.key === next) isKey = true;
          if (isScalar(a.key)) path.push(String(a.key.value));
        } else if (isSeq(a)) {
          path.push(a.items.indexOf(next as never));
        }
      }
      const text = node.value;
      const multiline = !isKey && path.some((p) => typeof p === 'string' && MULTILINE_FIELDS.has(p));
      const unsafe = new RegExp(UNSAFE_CHARS.source, 'u').exec(text) ?? (!multiline ? /\n/.exec(text) : null);
      if (!unsafe) return;
      const ch = unsafe[0];
      const what = ch === '\n' ? 'a line break, allowed only in free text (descriptions and notes)' : unsafeKind(ch);
      const pos = lines.linePos(node.range?.[0] ?? 0);
      issues.push({
        loc: { file, line: pos.line, col: pos.col },
        field: fieldPath(path),
        message: `${isKey ? 'the key' : 'the value'} holds ${codePoint(ch)} (${what}) at character ${unsafe.index + 1}; remove it`,
      });
    },
  });
  return issues;
}

/**
 * The fast reading path's stand-in for the walk above: one scan of the raw text. A clean
 * text holds no refused character in any key or value (escapes aside, which the reader
 * checks in double-quoted scalars); a CR counts only where it is not part of a CRLF line
 * end, which YAML reads as a plain line break.
 */
const RAW_UNSAFE = new RegExp(`(?!\\r\\n)${UNSAFE_CHARS.source}`, 'u');

export function rawTextIsClean(text: string): boolean {
  return !RAW_UNSAFE.test(text);
}

/** Whether a value holds a refused character, line breaks aside (see newlinesOnlyInFreeText). */
export function holdsUnsafeChar(text: string): boolean {
  return UNSAFE_CHARS.test(text);
}

/**
 * Whether every line break in the data sits where the walk above allows one: in a value
 * (never a key) under a free-text field.
 */
export function newlinesOnlyInFreeText(data: unknown, freeText = false): boolean {
  if (typeof data === 'string') return freeText || data.indexOf('\n') === -1;
  if (Array.isArray(data)) return data.every((item) => newlinesOnlyInFreeText(item, freeText));
  if (data === null || typeof data !== 'object') return true;
  for (const [key, value] of Object.entries(data)) {
    if (key.indexOf('\n') !== -1) return false;
    if (!newlinesOnlyInFreeText(value, freeText || MULTILINE_FIELDS.has(key))) return false;
  }
  return true;
}
