import { FileError } from '../errors';
import { codePoint, UNSAFE_CHARS, unsafeKind } from '../util/unsafe-chars';

/**
 * The rule for names: ids, display names of vendors, services and device classes, group
 * names, file names. A name ends up in identifiers, file and group names, rule names and the
 * variables Ansible reads, where a brace may start a Jinja template (`{{`, `{%`, `{#`) and a
 * control, bidirectional or invisible character may break a line or show a reviewer another
 * text than the one a tool reads. No name needs either, so a name holds neither.
 *
 * Free text (descriptions, notes, program paths) keeps its braces; what protects it is that
 * it reaches Ansible only as `!unsafe` values (see targets/ansible.ts).
 */

/** The characters text-check refuses everywhere (line breaks aside), and a line break. */
const UNSAFE_BODY = `\\u000a${UNSAFE_CHARS.source.slice(1, -1)}`;
const CHAR = new RegExp(`[${UNSAFE_BODY}]`, 'u');

/**
 * The same rule as a JSON Schema pattern. The schemas' name fields carry exactly this text
 * (test/unit/name-rule.test.ts keeps them equal), so an editor checks names as fwgen does.
 */
export const NAME_PATTERN = `^[^{}${UNSAFE_BODY}]*$`;

/** Why `text` is not a name (one phrase to follow "the name"), or undefined when it is one. */
export function nameProblem(text: string): string | undefined {
  const template = /\{[{%#]/.exec(text);
  if (template) return `holds '${template[0]}', which Jinja (Ansible) reads as the start of a template; a name takes no braces`;
  const brace = /[{}]/.exec(text);
  if (brace) return `holds '${brace[0]}' at character ${brace.index + 1}; a name takes no braces`;
  const ch = CHAR.exec(text);
  if (ch) {
    return `holds ${codePoint(ch[0])} (${unsafeKind(ch[0])}) at character ${ch.index + 1}; a name takes no control, bidirectional or invisible characters`;
  }
  return undefined;
}

/**
 * A file whose name becomes part of a site name, a rule's origin or a generated header: its
 * name as shown (relative to the workspace) must be a name too.
 */
export function checkFileName(shown: string): void {
  const problem = nameProblem(shown);
  if (problem) throw new FileError(shown, `the file name ${problem}; rename the file`);
}
