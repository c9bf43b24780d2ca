import { parseAllDocuments } from 'yaml';

/**
 * The shape of a rendered file with the text a catalog or profile supplied taken out:
 * quoted strings, comments and descriptions become placeholders. Two renders that differ
 * only in such text must have the same shape, or a value changed what the file does.
 */
const PS_QUOTE = `['\u2018\u2019\u201a\u201b]`;
const PS_STRING = new RegExp(`${PS_QUOTE}(?:[^'\u2018\u2019\u201a\u201b]|${PS_QUOTE}{2})*${PS_QUOTE}`, 'g');
const C_STRING = /"(?:[^"\\\n]|\\.)*"/g;

function lines(text: string, strings: RegExp): string {
  return text
    .split('\n')
    .map((l) => (l.trimStart().startsWith('#') ? '#' : l.replace(strings, 'S')))
    .join('\n');
}

function blankDescriptions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(blankDescriptions);
  if (value && typeof value === 'object') {
    const tag = (value as { Key?: unknown }).Key === 'Name'; // a Name tag carries the profile's group name
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        // Metadata carries the vendor citations (titles) as text; nothing there is applied.
        k === 'Metadata' ? blankStrings(v) : (/Description$/.test(k) || (tag && k === 'Value')) && typeof v === 'string' ? 'S' : blankDescriptions(v),
      ]),
    );
  }
  return value;
}

/** Every string leaf of a YAML document becomes a placeholder: keys, nesting and list lengths stay. */
function blankStrings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(blankStrings);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, blankStrings(v)]));
  return typeof value === 'string' ? 'S' : value;
}

export function shapeOf(file: string, text: string): string {
  if (/\.ya?ml$/.test(file)) return JSON.stringify(parseAllDocuments(text).map((d) => blankStrings(d.toJS())), null, 1);
  if (file.endsWith('.json')) return JSON.stringify(blankDescriptions(JSON.parse(text)), null, 1);
  if (file.endsWith('.xml')) {
    return text
      .replace(/<!--[\s\S]*?-->/g, '<!---->')
      .replace(/<(descr|detail)>[^<]*<\/\1>/g, '<$1/>');
  }
  if (file.endsWith('.ps1')) return lines(text, PS_STRING);
  return lines(text, C_STRING);
}
