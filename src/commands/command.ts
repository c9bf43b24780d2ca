import type { Argv } from 'yargs';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: progress may be drawn there. */
  tty?: boolean;
  /** stdout is a terminal and NO_COLOR is not set: reports may use colour. */
  colour?: boolean;
}

/** Exit codes: 0 done, 1 bad input or failure, 2 out/ is stale (check) or the policy changed (diff). */
export const EXIT = { ok: 0, error: 1, stale: 2 } as const;

/** The parsed command line, as yargs hands it over. */
export type Args = Record<string, unknown>;

export type Handler = (args: Args, io: Io) => number | Promise<number>;

/** Turns a handler into yargs' handler: the CLI keeps the result to await and return. */
export type Wire = (handler: Handler) => (args: Args) => void;

/**
 * One command: its options and what it does. The CLI loads the module only when the command
 * runs (or its --help is asked), so a module may load what its command needs at its top.
 */
export interface CommandModule {
  // yargs' option types change with every option added: any parser is fine here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  builder(y: Argv, wire: Wire): Argv<any>;
  /** Absent for a command that only groups subcommands. */
  handler?: Handler;
}
