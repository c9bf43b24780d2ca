/** How commands print what they did: diagnostics, files written, the refusal to write. */
import * as path from 'node:path';
import type { WriteSummary } from '../output';
import type { RenderedFile } from '../targets/render';
import type { Diagnostic } from '../targets/types';
import type { Args, Io } from './command';
import { outputLib, renderLib } from './libraries';

/** Prints diagnostics, what several targets say alike once; returns the number of errors. */
export function printDiagnostics(diags: ReadonlyArray<Diagnostic & { site?: string }>, io: Io): number {
  const { lines, errors } = renderLib.formatDiagnostics(diags);
  for (const line of lines) io.err(line + '\n');
  return errors;
}

/** After errors: nothing is written, and the count says how many to fix. */
export function reportNothingWritten(errors: number, io: Io): void {
  io.err(`fwgen: ${errors} error${errors === 1 ? '' : 's'}; nothing was written\n`);
}

/**
 * What a write changed: each file written and removed, or with `bySite` (a render of several
 * sites) one line per site folder written to, with its count, and each file outside a site
 * folder (the fleet's inventory) on its own. Removals are always listed file by file: they are
 * few, and each one is something an admin wants to see.
 */
export function reportSummary(summary: WriteSummary, root: string, io: Io, verb: string, bySite = false): void {
  if (summary.completedInterrupted !== undefined) {
    io.err(`completed the interrupted render of fwgen pid ${summary.completedInterrupted} in ${root} first\n`);
  }
  if (bySite) {
    for (const [where, count] of writtenBySite(summary.written)) {
      io.err(count === undefined ? `${verb} ${path.join(root, where)}\n` : `${verb} ${path.join(root, where)}${path.sep} (${count} file${count === 1 ? '' : 's'})\n`);
    }
  } else {
    for (const f of summary.written) io.err(`${verb} ${path.join(root, f)}\n`);
  }
  for (const f of summary.removed) io.err(`removed ${path.join(root, f)}\n`);
}

/** Files written, by site folder (the first part of their path) with a count, or alone (count undefined) outside one; sorted. */
function writtenBySite(written: string[]): Array<[string, number | undefined]> {
  const sites = new Map<string, number | undefined>();
  for (const f of written) {
    const slash = f.indexOf('/');
    if (slash < 0) sites.set(f, undefined);
    else {
      const site = f.slice(0, slash);
      sites.set(site, (sites.get(site) ?? 0) + 1);
    }
  }
  return [...sites].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Writes a render into the output folder (waiting --wait seconds for another run) and says what changed. */
export function writeAndReport(output: string, files: RenderedFile[], owned: string[], a: Args, io: Io): void {
  reportWrite(output, outputLib.writeOutput(output, files, owned, { waitMs: (a.wait as number) * 1000 }), io);
}

export function reportWrite(output: string, summary: WriteSummary, io: Io, bySite = false): void {
  reportSummary(summary, output, io, 'wrote', bySite);
  io.err(`${summary.written.length} written, ${summary.unchanged.length} unchanged, ${summary.removed.length} removed\n`);
}
