/**
 * Every string a catalog or profile supplies passes through one of these before it is
 * printed; each keeps the value inside the string it is printed in, for that format.
 */

/** Printable ASCII words, each one space apart: what printable() returns unchanged. */
const ALREADY_PRINTABLE = /^(?:[\x21-\x7e]+(?: [\x21-\x7e]+)*)?$/;

/** Collapses anything that is not printable ASCII to a space, then squeezes spaces. */
function printable(text: string): string {
  // Most descriptions are plain ASCII already; normalising each of them again was a few
  // per cent of a fleet's render.
  if (ALREADY_PRINTABLE.test(text)) return text;
  return text
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** One line: control characters (newlines, tabs) become spaces; everything else is kept. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}

/** Cuts to at most `max` characters, marking the cut. */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3).trimEnd()}...`;
}

/**
 * For comments in iptables-restore files and nft files: only characters neither format
 * gives a meaning to inside a quoted comment (no quotes, backslashes, semicolons, braces).
 */
export function safeComment(text: string, max: number): string {
  return cut(printable(text).replace(/[^A-Za-z0-9 ._:/()#,@+=-]/g, ' ').replace(/ +/g, ' ').trim(), max);
}

/** For `#` comment lines (nft, iptables, PowerShell, dnsmasq): one line, no control characters. */
export function commentLine(text: string): string {
  return printable(text).replace(/#>/g, '# >');
}

/** XML character data and attribute values. */
export function xml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Text for an XML comment: no "--", and not ending in "-". */
export function xmlComment(text: string): string {
  return printable(text).replace(/-{2,}/g, '-').replace(/-$/, '- ');
}

/** pfSense descriptions before XML escaping: no backslashes (pfSense strips or mangles them), one line. */
export function pfsenseText(text: string, max = 200): string {
  return cut(printable(text).replace(/\\/g, '/'), max);
}

/**
 * A PowerShell single-quoted string. Inside one, only quote characters are special: the
 * ASCII quote and U+2018..U+201B, which PowerShell also takes as single quotes. Doubling
 * each keeps it literal. $(), backticks and ; mean nothing inside single quotes.
 */
export function psString(text: string): string {
  return `'${text.replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
}

export function psArray(items: string[]): string {
  return `@(${items.map(psString).join(',')})`;
}

/** AWS security group rule descriptions: at most 255 characters from AWS's allowed set. */
export function awsDescription(text: string, max = 255): string {
  return cut(printable(text).replace(/[^a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]/g, ' ').replace(/ +/g, ' ').trim(), max);
}

/** An identifier for nft sets, ipsets and pfSense aliases: letters, digits, underscores. */
export function identifier(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_');
}
