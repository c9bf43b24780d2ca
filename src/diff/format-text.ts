import { notComparedNote } from './notes';
import type { ChangeSet } from './types';

const ANSI = { red: '\u001b[31m', green: '\u001b[32m', yellow: '\u001b[33m', bold: '\u001b[1m', reset: '\u001b[0m' };

/** Terminal report; `colour` only when stdout is a terminal and NO_COLOR is not set. */
export function formatText(cs: ChangeSet, colour: boolean): string {
  const paint = (c: keyof typeof ANSI, t: string) => (colour ? `${ANSI[c]}${t}${ANSI.reset}` : t);
  const safe = (t: string) => t.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const out: string[] = [];
  const s = cs.summary;
  out.push(
    paint('bold', cs.policyChanged ? `policy changes in ${s.sitesChanged} of ${s.sites} sites` : 'no policy change') +
      ` (base ${safe(cs.base)}): ${s.flowsAdded} added, ${s.flowsRemoved} removed, ${s.flowsWidened} widened, ${s.flowsNarrowed} narrowed, ${s.flowsChanged} changed; ${s.flags} flags; ${s.filesChanged} files`,
  );
  if (cs.catalogNotCompared.length > 0) out.push(paint('yellow', `note: ${notComparedNote(cs.catalogNotCompared.map(safe))}`));
  for (const f of cs.flags) {
    out.push(paint('yellow', `! ${f.kind}`) + `${f.site ? ` ${safe(f.site)}` : ''}: ${safe(f.message)}${f.origins.length ? ` (${f.origins.map(safe).join(', ')})` : ''}`);
  }
  for (const site of cs.sites) {
    if (site.status === 'unchanged' && site.files.length === 0) continue;
    out.push('');
    out.push(paint('bold', `${safe(site.site)}: ${site.status}`) + ` (${safe(site.file)})`);
    for (const f of site.flows) {
      out.push(`  ${f.change} ${f.deviceClass} ${f.direction} ${f.protocol ?? 'program'} ${safe(f.vendor)}/${safe(f.service)}`);
      for (const [label, d] of [['addresses', f.addresses], ['names', f.names], ['peers', f.peers], ['ports', f.ports], ['programs', f.programs]] as const) {
        const parts = [...d.added.map((x) => paint('green', `+${safe(x)}`)), ...d.removed.map((x) => paint('red', `-${safe(x)}`))];
        if (parts.length) out.push(`    ${label}: ${parts.join(' ')}`);
      }
      const from = [...f.origins, ...f.locks];
      if (from.length) out.push(`    from: ${from.map(safe).join(', ')}`);
      if (f.page) out.push(`    vendor page: ${safe(f.page.title)}${f.page.url ? ` <${safe(f.page.url)}>` : ''}${f.page.cite ? `, ${safe(f.page.cite)}` : ''}`);
    }
    for (const c of site.classes ?? []) out.push(`  class ${safe(c.deviceClass)} ${c.setting}: ${paint('red', safe(c.before))} → ${paint('green', safe(c.after))}`);
    for (const a of site.answers ?? []) {
      const was = a.reasonBefore !== undefined ? ` (was: ${safe(a.reasonBefore)})` : '';
      out.push(`  ${a.kind} ${a.change}: ${safe(a.what)}: ${safe(a.reason)}${was} (${safe(a.at)})`);
    }
    for (const file of site.files) out.push(`  ${file.status} ${safe(file.path)} +${file.linesAdded} -${file.linesRemoved}`);
  }
  return out.join('\n') + '\n';
}
