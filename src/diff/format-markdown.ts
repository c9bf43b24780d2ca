import { notComparedNote } from './notes';
import type { ChangeSet, Edge, Flag, FlowChange, SiteChange } from './types';
import { append } from '../util/append';

/** Sites whose details are written out; more would not fit a pull-request comment. */
export const MARKDOWN_SITE_LIMIT = 30;
/** Flags listed one by one. */
export const MARKDOWN_FLAG_LIMIT = 60;
/** GitHub refuses comments over 65,536 characters; details stop well before. */
export const MARKDOWN_CHAR_BUDGET = 50_000;
/** Rows of the summary table and of the file table. */
export const MARKDOWN_ROW_LIMIT = 100;

function more(total: number, shown: number, what: string): string[] {
  return total > shown ? [`…and ${total - shown} more ${what}; \`fwgen diff --format json\` lists them all.`, ''] : [];
}

const FLAG_TITLES: Record<Flag['kind'], string> = {
  'any-address': 'any address',
  'new-inbound': 'new inbound',
  'wide-prefix': 'wide prefix',
  'wide-port-range': 'wide port range',
  'required-removed': 'required flow removed',
  'target-limit': 'target limit',
  'name-unresolved': 'name unresolved',
  'name-stale': 'name stale',
  'list-source-moved': 'list source moved',
};

/**
 * GitHub turns @user, @org/team and #123 in a comment's text into mentions and links; a
 * zero-width space after the sign keeps the text as it reads and notifies nobody.
 */
function noMentions(text: string): string {
  return text.replace(/([@#])(?=[A-Za-z0-9])/g, '$1&#8203;');
}

/** Line breaks and other controls would end a table row or a list item: each shows as a space. */
function oneLineText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}

/** Markdown can carry a catalog value; nothing in it may open a tag, a link, emphasis, a mention or a table cell. */
export function md(text: string): string {
  return noMentions(
    oneLineText(text)
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/[\\`*_{}[\]|~]/g, (c) => `\\${c}`)
      // GFM links scheme://… and a bare www.… in text.
      .replace(/:\/\//g, '\\://')
      .replace(/\b(www)\./gi, '$1\\.'),
  );
}

/**
 * Inside an HTML <code> element Markdown still reads emphasis, links and pipes, so every
 * sign that means something there is written as a character reference, which renders as
 * the sign itself and is never read as Markdown.
 */
function code(text: string): string {
  const escaped = oneLineText(text)
    .replace(/[&<>|*_`~[\]()\\!@#{}]/g, (c) => `&#${c.charCodeAt(0)};`)
    // GFM links scheme://… and www.… here too.
    .replace(/:\/\//g, '&#58;//')
    .replace(/\b(www)\./gi, '$1&#46;');
  return `<code>${escaped}</code>`;
}

/** A vendor page link: only http(s), and every character that could end the destination percent-encoded. */
function link(title: string, url: string | undefined): string {
  if (url === undefined || !/^https?:\/\/[^\s]+$/i.test(url)) return md(title);
  // Only what could end or break the destination is encoded: a URL the page already percent-encodes stays as it is.
  const dest = url.replace(/[()<>[\]"`\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return `[${md(title)}](${dest})`;
}

function counts(s: SiteChange): Record<FlowChange['change'], number> {
  const c = { added: 0, removed: 0, widened: 0, narrowed: 0, changed: 0 };
  for (const f of s.flows) c[f.change]++;
  return c;
}

export function formatMarkdown(cs: ChangeSet): string {
  const out: string[] = [];
  const s = cs.summary;
  out.push(`### fwgen diff: ${cs.policyChanged ? `policy changes in ${s.sitesChanged} of ${s.sites} sites` : 'no policy change'}`);
  out.push('');
  out.push(`Base ${code(cs.base)}, compared with ${code(cs.head)}.`);
  out.push('');
  if (cs.catalogNotCompared.length > 0) {
    out.push(`> **Note:** ${notComparedNote(cs.catalogNotCompared.map(code))}.`, '');
  }
  // Flagged sites first, then sites whose policy changed, then those whose files alone did.
  const flagged = new Set(cs.flags.map((f) => f.site));
  const rank = (x: SiteChange) => (flagged.has(x.site) ? 0 : x.status !== 'unchanged' ? 1 : 2);
  const bySeverity = [...cs.sites].sort((a, b) => rank(a) - rank(b) || a.site.localeCompare(b.site));
  const shown = bySeverity.filter((x) => x.status !== 'unchanged' || x.files.length > 0);
  if (shown.length > 0) {
    out.push('| site | status | added | removed | widened | narrowed | changed | flags | files |');
    out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const site of shown.slice(0, MARKDOWN_ROW_LIMIT)) {
      const c = counts(site);
      const flags = cs.flags.filter((f) => f.site === site.site).length;
      out.push(`| ${code(site.site)} | ${site.status} | ${c.added} | ${c.removed} | ${c.widened} | ${c.narrowed} | ${c.changed} | ${flags} | ${site.files.length} |`);
    }
    append(out, ['', ...more(shown.length, MARKDOWN_ROW_LIMIT, 'sites')]);
  }
  if (cs.flags.length > 0) {
    out.push(`#### Needs a careful look (${cs.flags.length})`);
    out.push('');
    for (const f of cs.flags.slice(0, MARKDOWN_FLAG_LIMIT)) {
      const where = f.origins.length ? ` (${f.origins.map(code).join(', ')})` : '';
      out.push(`- **${FLAG_TITLES[f.kind]}**${f.site ? ` ${code(f.site)}` : ''}: ${md(f.message)}${where}`);
    }
    append(out, ['', ...more(cs.flags.length, MARKDOWN_FLAG_LIMIT, 'flags')]);
  }
  const detailed = bySeverity.filter((x) => x.status !== 'unchanged');
  let written = 0;
  for (const site of detailed.slice(0, MARKDOWN_SITE_LIMIT)) {
    if (out.join('\n').length > MARKDOWN_CHAR_BUDGET) break;
    written++;
    out.push(`<details><summary>${code(site.site)}: ${site.status}, ${site.flows.length} flow${site.flows.length === 1 ? '' : 's'} changed</summary>`);
    out.push('');
    for (const f of site.flows) append(out, flowLines(f));
    append(out, settingLines(site));
    out.push('');
    append(out, mermaid(site.edges));
    out.push('</details>');
    out.push('');
  }
  append(out, more(detailed.length, written, 'sites with changes'));
  const files = cs.sites.flatMap((x) => x.files);
  if (files.length > 0) {
    out.push(`<details><summary>Rendered files: ${files.length} change${files.length === 1 ? '' : 's'}</summary>`);
    out.push('');
    out.push('| target | file | status | lines |');
    out.push('|---|---|---|---:|');
    for (const f of files.slice(0, MARKDOWN_ROW_LIMIT)) out.push(`| ${f.target} | ${code(f.path)} | ${f.status} | +${f.linesAdded} −${f.linesRemoved} |`);
    append(out, ['', ...more(files.length, MARKDOWN_ROW_LIMIT, 'files')]);
    out.push('</details>');
    out.push('');
  }
  if (cs.lists.length > 0) {
    out.push('Address lists: ' + cs.lists.map((l) => `${code(l.id)} ${md(l.before?.recorded ?? '(new)')} → ${md(l.after?.recorded ?? '(gone)')}`).join(', '));
    out.push('');
  }
  return out.join('\n');
}

/** Class settings and the profile's answers that changed, each with its reason and where it is written. */
function settingLines(site: SiteChange): string[] {
  const lines = (site.classes ?? []).map((c) => `- **class setting** ${code(c.deviceClass)} ${md(c.setting)}: ${code(c.before)} → ${code(c.after)}`);
  for (const a of site.answers ?? []) {
    const was = a.reasonBefore !== undefined ? ` (was: ${md(a.reasonBefore)})` : '';
    lines.push(`- **${a.kind} ${a.change}** ${md(a.what)}: ${md(a.reason)}${was} (${code(a.at)})`);
  }
  return lines;
}

function flowLines(f: FlowChange): string[] {
  const head = `- **${f.change}** ${code(`${f.deviceClass} ${f.direction} ${f.protocol ?? 'program'}`)} ${md(f.vendor)} / ${md(f.serviceName)} (${md(f.requirement)})`;
  const lines = [head];
  const item = (label: string, d: { added: string[]; removed: string[] }) => {
    const parts = [...d.added.map((x) => `+${x}`), ...d.removed.map((x) => `−${x}`)];
    if (parts.length > 0) lines.push(`  - ${label}: ${parts.map(code).join(' ')}`);
  };
  item('addresses', f.addresses);
  item('names', f.names);
  item('peers', f.peers);
  item('ports', f.ports);
  item('programs', f.programs);
  const from = [...f.origins, ...f.locks];
  if (from.length) lines.push(`  - from: ${from.map(code).join(', ')}`);
  if (f.page) lines.push(`  - vendor page: ${link(f.page.title, f.page.url)}${f.page.cite ? `, ${md(f.page.cite)}` : ''}`);
  return lines;
}

function nodeId(name: string): string {
  return 'n_' + name.replace(/[^A-Za-z0-9]/g, '_');
}

function mermaidText(text: string): string {
  return oneLineText(text).replace(/["<>`]/g, '').replace(/[|]/g, '/');
}

/** Who may talk to whom: added edges thick, removed ones dotted, changed ones labelled. */
function mermaid(edges: Edge[]): string[] {
  if (edges.length === 0) return [];
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  const lines = ['```mermaid', 'flowchart LR'];
  for (const n of nodes) lines.push(`  ${nodeId(n)}["${mermaidText(n)}"]`);
  for (const e of edges) {
    const mark = e.change === 'added' ? '+ ' : e.change === 'removed' ? '− ' : e.change === 'changed' ? '± ' : '';
    const arrow = e.change === 'added' ? '==>' : e.change === 'removed' ? '-.->' : '-->';
    lines.push(`  ${nodeId(e.from)} ${arrow}|"${mark}${mermaidText(e.label)}"| ${nodeId(e.to)}`);
  }
  lines.push('```');
  return lines;
}
