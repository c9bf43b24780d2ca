import type { UpdateReport } from './update';

function versions(prev: string | undefined, next: string | undefined): string {
  if (next === undefined) return '';
  return prev && prev !== next ? `, feed version ${prev} → ${next}` : `, feed version ${next}`;
}

/** One line per list (and generated vendor file), then what was written; refusals say why. */
export function formatUpdateReport(report: UpdateReport): string {
  const lines: string[] = [];
  for (const o of report.outcomes) {
    for (const w of o.warnings) lines.push(`WARNING: ${o.id}: ${w}`);
    if (o.status === 'refused') {
      lines.push(`${o.id}: refused, ${o.file} kept as it was: ${o.reason}`);
      continue;
    }
    const change = o.status === 'updated' ? `updated (+${o.added.length} -${o.removed.length} networks)` : 'unchanged';
    lines.push(`${o.id}: ${change}${versions(o.previousVersion, o.version)}`);
    if (o.vendorFile) lines.push(`${o.id}: vendor file ${o.vendorFile.file} ${o.vendorFile.status}`);
  }
  const refused = report.outcomes.filter((o) => o.status === 'refused').length;
  if (refused > 0) lines.push(`fwgen: ${refused} feed${refused === 1 ? '' : 's'} refused; nothing was written`);
  else if (report.written.length === 0) lines.push('nothing changed');
  else for (const f of report.written) lines.push(`wrote ${f}`);
  return lines.join('\n') + '\n';
}
