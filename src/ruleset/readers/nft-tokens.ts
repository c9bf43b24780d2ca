import type { SourceLocation } from '../../errors';
import { readError } from './values';

/**
 * The words of an nft script or of `nft list ruleset` output, after the nft(8) grammar's lexical
 * rules: '#' starts a comment, a backslash at the end of a line continues it, a newline or ';'
 * ends a statement, '{' '}' ',' '=' are punctuation, "..." is a string; everything else
 * (addresses, ranges, '@set', '$var', '!=', '.') is a word.
 */

export type TokenKind = 'word' | 'string' | 'punct' | 'end';

export interface Token {
  kind: TokenKind;
  /** The word, the string's content, the punctuation mark; "\n" or ";" for an end of statement. */
  text: string;
  line: number;
  col: number;
}

const PUNCT = new Set(['{', '}', ',', '=']);

export function tokenize(file: string, text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let col = 1;
  let i = 0;
  const at = (): SourceLocation => ({ file, line, col });
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) {
      if (text[i] === '\n') {
        line++;
        col = 1;
      } else col++;
      i++;
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
      advance(text[i + 1] === '\r' ? 3 : 2);
      continue;
    }
    if (c === '\n' || c === ';') {
      out.push({ kind: 'end', text: c, line, col });
      advance(1);
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      advance(1);
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') advance(1);
      continue;
    }
    if (c === '"') {
      const start = at();
      advance(1);
      let s = '';
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\n') throw readError(start, 'string', 'a quoted string runs past the end of its line');
        if (text[i] === '\\' && i + 1 < text.length && text[i + 1] !== '\n') {
          s += text[i + 1];
          advance(2);
          continue;
        }
        s += text[i];
        advance(1);
      }
      if (i >= text.length) throw readError(start, 'string', 'a quoted string is not closed');
      advance(1);
      out.push({ kind: 'string', text: s, line: start.line, col: start.col });
      continue;
    }
    if ((c === '!' || c === '=') && text[i + 1] === '=') {
      out.push({ kind: 'word', text: `${c}=`, line, col });
      advance(2);
      continue;
    }
    if (PUNCT.has(c)) {
      out.push({ kind: 'punct', text: c, line, col });
      advance(1);
      continue;
    }
    if (c.charCodeAt(0) < 0x20 || c === '\u007f') throw readError(at(), 'text', `a control character (U+${c.charCodeAt(0).toString(16).padStart(4, '0')}) outside a string`);
    const start = at();
    let w = '';
    while (i < text.length && !/[\s;#"{},=]/.test(text[i]!)) {
      w += text[i];
      advance(1);
    }
    out.push({ kind: 'word', text: w, line: start.line, col: start.col });
  }
  out.push({ kind: 'end', text: '\n', line, col });
  return out;
}
