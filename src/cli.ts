import yargs, { type Argv } from 'yargs';
import { FileError, InputError } from './errors';
import { bundledCatalog } from './paths';
import { select } from './policy/select';
import { explainSelection } from './report/explain';
import { catalogRows, formatTable, selectionRows } from './report/flows';
import { loadCatalog } from './catalog/load-catalog';
import { loadSite, validatePaths } from './workspace';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** Exit codes: 0 done, 1 bad input or failure, 2 out/ is stale (check). */
export const EXIT = { ok: 0, error: 1, stale: 2 } as const;

type Handler = (args: Record<string, unknown>, io: Io) => number | Promise<number>;

function withCatalog<T>(y: Argv<T>) {
  return y.option('catalog', {
    type: 'string',
    default: bundledCatalog,
    defaultDescription: 'the catalog shipped with fwgen',
    describe: 'catalog folder (device-classes.yaml, vendors/, lists/)',
  });
}

function commands(io: Io, done: (p: number | Promise<number>) => void): Argv {
  const run = (h: Handler) => (args: Record<string, unknown>) => done(h(args, io));
  return yargs()
    .scriptName('fwgen')
    .usage('$0 <command> [options]\n\nTurns vendors\' published network requirements into firewall configuration.')
    .command(
      'validate [paths..]',
      'check catalog files and profiles against the schema and each other (default: the catalog and the shipped examples)',
      (y) => withCatalog(y).positional('paths', { type: 'string', array: true, describe: 'files or folders to check' }),
      run((a, out) => {
        const report = validatePaths(a.catalog as string, (a.paths as string[] | undefined) ?? []);
        out.out(
          `ok: ${report.vendors} vendors, ${report.lists} address lists, ${report.deviceClasses} device classes, ${report.profiles} profiles\n`,
        );
        return EXIT.ok;
      }),
    )
    .command(
      'list',
      'list the requirements: the whole catalog, or what a profile selects',
      (y) =>
        withCatalog(y)
          .option('profile', { alias: 'p', type: 'string', describe: 'a site profile: list only what it selects, variables filled in' })
          .option('json', { type: 'boolean', default: false, describe: 'one JSON object per flow' }),
      run((a, out) => {
        let rows;
        if (a.profile) {
          const { catalog, profile } = loadSite(a.catalog as string, a.profile as string);
          rows = selectionRows(select(catalog, profile));
        } else {
          rows = catalogRows(loadCatalog(a.catalog as string));
        }
        out.out(a.json ? JSON.stringify(rows, null, 2) + '\n' : formatTable(rows));
        return EXIT.ok;
      }),
    )
    .command(
      'explain',
      'what a profile selects, what it leaves out and why',
      (y) => withCatalog(y).option('profile', { alias: 'p', type: 'string', demandOption: true, describe: 'a site profile' }),
      run((a, out) => {
        const { catalog, profile } = loadSite(a.catalog as string, a.profile as string);
        out.out(explainSelection(profile, select(catalog, profile)));
        return EXIT.ok;
      }),
    )
    .demandCommand(1, 'name a command; see fwgen --help')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false);
}

class UsageError extends Error {}

/** The whole program: parses argv, runs one command, returns the exit code. Never exits. */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  let pending: number | Promise<number> | undefined;
  let helpText = '';
  try {
    const parser = commands(io, (p) => {
      pending = p;
    }).fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
    await parser.parseAsync(argv, {}, (_err, _argv, output) => {
      if (output) helpText = output;
    });
    if (pending === undefined) {
      if (helpText) io.out(helpText + '\n');
      return EXIT.ok;
    }
    return await pending;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`fwgen: ${err.message}\nRun 'fwgen --help' for the commands and their options.\n`);
      return EXIT.error;
    }
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: Io): number {
  if (err instanceof InputError) {
    io.err(err.message + '\n');
    io.err(`fwgen: ${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}; nothing was written\n`);
    return EXIT.error;
  }
  if (err instanceof FileError) {
    io.err(`${err.message}\n`);
    return EXIT.error;
  }
  io.err(`fwgen: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT.error;
}
