import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { EXIT, type Args, type Io } from './command';
import { diffLib } from './libraries';
import { withWorkspace } from './options';
import { workspaceOf } from './workspace-of';

export function builder(y: Argv) {
  return withWorkspace(y)
    .option('base', { type: 'string', defaultDescription: 'the merge base with the default branch', describe: 'Git revision to compare with (read with git archive; the working tree is not touched)' })
    .option('base-dir', { type: 'string', describe: 'a folder holding the base version of the workspace, instead of Git' })
    .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text', describe: 'text for a terminal, markdown for a pull-request comment, json for tools (catalog/schema/diff.schema.json)' })
    .option('full', { type: 'boolean', default: false, describe: "render every site of the working tree, even those the base revision's render records show unchanged" })
    .conflicts('base', 'base-dir')
    .example('$0 diff', 'this branch against where it left the default branch')
    .example('$0 diff --base origin/main --format markdown > review.md', 'a pull-request comment')
    .example('$0 diff --base-dir ../fleet-before --format json', 'two folders');
}

/** Exit codes as terraform plan -detailed-exitcode: 0 no policy change, 2 changes or flags, 1 error. */
export async function handler(a: Args, io: Io): Promise<number> {
  const ws = workspaceOf(a, io);
  if (!ws) throw new UsageError('fwgen diff compares a workspace: run it inside one (fwgen.yaml; fwgen init makes one) or name it with --workspace');
  const format = a.format as string;
  const cs = await diffLib.diffWorkspace(ws, {
    base: a.base as string | undefined,
    baseDir: a.baseDir as string | undefined,
    full: a.full as boolean,
    // Only the JSON report shows what an unchanged site allows (its edges).
    unchangedDetail: format === 'json',
    note: (line) => io.err(`${line}\n`),
  });
  for (const note of diffLib.baseNotes(cs)) io.err(`${note}\n`);
  io.out(format === 'json' ? JSON.stringify(cs, null, 2) + '\n' : format === 'markdown' ? diffLib.formatMarkdown(cs) : diffLib.formatText(cs, io.colour === true));
  return cs.policyChanged || cs.flags.length > 0 ? EXIT.stale : EXIT.ok;
}
