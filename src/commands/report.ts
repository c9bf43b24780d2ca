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

export function reportSummary(summary: WriteSummary, root: string, io: Io, verb: string): void {
  if (summary.completedInterrupted !== undefined) {
    io.err(`completed the interrupted render of fwgen pid ${summary.completedInterrupted} in ${root} first\n`);
  }
  for (const f of summary.written) io.err(`${verb} ${path.join(root, f)}\n`);
  for (const f of summary.removed) io.err(`removed ${path.join(root, f)}\n`);
}

/** Writes a render into the output folder (waiting --wait seconds for another run) and says what changed. */
export function writeAndReport(output: string, files: RenderedFile[], owned: string[], a: Args, io: Io): void {
  reportWrite(output, outputLib.writeOutput(output, files, owned, { waitMs: (a.wait as number) * 1000 }), io);
}

export function reportWrite(output: string, summary: WriteSummary, io: Io): void {
  reportSummary(summary, output, io, 'wrote');
  io.err(`${summary.written.length} written, ${summary.unchanged.length} unchanged, ${summary.removed.length} removed\n`);
}
