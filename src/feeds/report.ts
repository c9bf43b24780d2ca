import * as path from 'node:path';
import { displayPath } from '../util/paths';
import { escapeUnsafe } from '../util/unsafe-chars';
import type { CatalogLayers } from './layers';
import type { UpdateReport } from './update';

function versions(prev: string | undefined, next: string | undefined): string {
  if (next === undefined) return '';
  return prev && prev !== next ? `, feed version ${prev} → ${next}` : `, feed version ${next}`;
}

/**
 * Lines for a terminal: versions, reasons and URLs come from a feed or a server, so every
 * control character, bidi override and line break in them is shown as an escape; one value
 * can neither recolour the terminal, rewrite the line before it nor pose as another line.
 */
function terminalText(lines: string[]): string {
  return lines.map(escapeUnsafe).join('\n') + '\n';
}

/** One line per list (and generated vendor file), then what was written; refusals say why. */
export function formatUpdateReport(report: UpdateReport): string {
  const lines: string[] = [];
  for (const o of report.outcomes) {
    for (const r of o.redirects) lines.push(`NOTE: ${o.id}: ${r.from} redirected to another host, ${r.to}${o.status === 'refused' ? '' : ' (recorded in list.feed.redirects)'}`);
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
  return terminalText(lines);
}

/** A path as the user types it in a shell from the working folder. */
function shellPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  const shown = rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
  return /^[\w./@+-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`;
}

/**
 * Why a workspace had nothing to update, and how to keep a shipped list current: a copy in
 * one of its own catalog folders replaces the shipped file and is what gets updated.
 */
export function formatNothingInWorkspace(report: UpdateReport, layers: CatalogLayers): string {
  const own = layers.writable.map((l) => displayPath(l));
  const lines = [
    own.length > 0
      ? `no list in the workspace's catalog folders (${own.join(', ')}) names a feed (list.feed); nothing to update`
      : 'the workspace names no catalog folder of its own; nothing to update',
  ];
  const shipped = report.notWritten;
  if (shipped.length === 0) return terminalText(lines);
  lines.push(
    `The lists shipped with fwgen that name a feed (${shipped.map((s) => s.id).join(', ')}) are kept current by fwgen's releases, not in this workspace.`,
    "To keep one current here, copy it into a catalog folder's lists/ (a file of the same name replaces the shipped one), commit it, and run fwgen lists update again:",
  );
  const target = layers.writable.at(-1);
  if (target === undefined) lines.push(`  first add a catalog folder to fwgen.yaml (catalog: [catalog]), then`);
  const dest = path.join(target ?? path.resolve('catalog'), 'lists');
  lines.push(`  mkdir -p ${shellPath(dest)} && cp ${shellPath(shipped[0]!.path)} ${shellPath(dest)}/`);
  return terminalText(lines);
}
