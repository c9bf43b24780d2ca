import type Yargs from 'yargs';
import type { Argv } from 'yargs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT, type CommandModule, type Io, type Wire } from './commands/command';
import { FileError, InputError, UsageError } from './errors';
import { packageRoot } from './util/paths';

export { EXIT, type Io } from './commands/command';

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: process.stderr.isTTY === true,
  colour: process.stdout.isTTY === true && !process.env.NO_COLOR,
};

/**
 * The commands, in the order --help lists them. Each one's module (src/commands/) is loaded
 * only when that command runs or its own --help is asked: --help and --version load none.
 */
const COMMANDS: ReadonlyArray<{ command: string; describe: string; load: () => CommandModule }> = [
  {
    command: 'validate [paths..]',
    describe: 'check catalog files and profiles against the schema and each other (default: the workspace, or the catalog and the shipped examples); exit 1 on a problem',
    load: () => require('./commands/validate') as typeof import('./commands/validate'),
  },
  {
    command: 'list',
    describe: 'list the requirements as a table, or JSON: the whole catalog, or what a profile selects',
    load: () => require('./commands/list') as typeof import('./commands/list'),
  },
  {
    command: 'explain',
    describe: 'what a profile selects, what it leaves out and why',
    load: () => require('./commands/explain') as typeof import('./commands/explain'),
  },
  {
    command: 'render [sites..]',
    describe: "render every site of the workspace (or those named), or one profile (-p), for each site's targets (or those of them named with --target) into <output>/<site>/<target>/, or one file to stdout",
    load: () => require('./commands/render') as typeof import('./commands/render'),
  },
  {
    command: 'resolve [sites..]',
    describe: 'look up every host name the profile (or each workspace site) selects (A and AAAA) and write <profile>.lock.yaml beside it',
    load: () => require('./commands/resolve') as typeof import('./commands/resolve'),
  },
  {
    command: 'targets',
    describe: 'list the targets, what each writes, its options and their defaults',
    load: () => require('./commands/targets') as typeof import('./commands/targets'),
  },
  {
    command: 'check',
    describe: 'render every site of the workspace in memory; exit 0 when the output folder is current, 2 listing stale files, 1 on errors',
    load: () => require('./commands/check') as typeof import('./commands/check'),
  },
  {
    command: 'lists',
    describe: "keep the catalog's published address lists current",
    load: () => require('./commands/lists') as typeof import('./commands/lists'),
  },
  {
    command: 'inventory',
    describe: 'render several profiles (outside a workspace) and write one Ansible inventory and playbook over all of them',
    load: () => require('./commands/inventory') as typeof import('./commands/inventory'),
  },
  {
    command: 'init [dir]',
    describe: 'start a workspace in a folder: fwgen.yaml, a first site that renders, .gitignore/.gitattributes and CI recipes (GitHub Actions, GitLab CI)',
    load: () => require('./commands/init') as typeof import('./commands/init'),
  },
  {
    command: 'diff',
    describe: 'what a change opens and closes, per site, device class and direction: the working tree against a Git revision or a folder',
    load: () => require('./commands/diff') as typeof import('./commands/diff'),
  },
  {
    command: 'query [site]',
    describe: 'is a connection allowed, and by which rule: from the policy (vendor page, catalog line) or from rule set files (file:line); exit 0 allowed, 3 dropped, 1 error',
    load: () => require('./commands/query') as typeof import('./commands/query'),
  },
  {
    command: 'audit [site]',
    describe: "does an existing rule set meet what the site's profile asks for, and what does it open beyond it (exit 0 clean, 2 findings, 1 error)",
    load: () => require('./commands/audit') as typeof import('./commands/audit'),
  },
];

/**
 * The commands the parser is given: only the one named first, when it is named first (its run,
 * its --help and its errors read nothing of the others'), else all of them (fwgen --help lists
 * them; an unknown command or one named after an option needs the whole table).
 */
function commandsFor(argv: string[]): typeof COMMANDS {
  const named = COMMANDS.filter((c) => c.command.split(' ')[0] === argv[0]);
  return named.length === 1 ? named : COMMANDS;
}

function commands(io: Io, done: (p: number | Promise<number>) => void, argv: string[]): Argv {
  const wire: Wire = (h) => (args) => done(h(args, io));
  let parser = (require('yargs') as typeof Yargs)()
    .scriptName('fwgen')
    .usage('$0 <command> [options]\n\nTurns vendors\' published network requirements into firewall configuration.')
    .epilogue(
      'Data (listings, reports, a file rendered with --output -) goes to stdout; diagnostics and what was written go to stderr. ' +
        'Exit 0 done, 1 bad input or failure (each problem as file:line:col: field: message; nothing written); ' +
        'exit 2 is check\'s stale files, diff\'s policy changes and audit\'s findings, exit 3 a packet query dropped. fwgen COMMAND --help tells more.',
    )
    .option('cache-dir', { type: 'string', global: true, defaultDescription: '$XDG_CACHE_HOME/fwgen or ~/.cache/fwgen', describe: 'where fwgen keeps work a later run can skip (the compiled catalog)' })
    .option('cache', { type: 'boolean', global: true, defaultDescription: 'true, unless FWGEN_NO_CACHE=1', describe: 'use the cache (--no-cache: read and render everything)' })
    .middleware((a) => {
      // Only a run that names a cache setting loads the module that applies it.
      if (a.cacheDir === undefined && a.cache === undefined) return;
      const { configureCache } = require('./catalog/cache-dir') as typeof import('./catalog/cache-dir');
      restoreCache = configureCache({ dir: a.cacheDir as string | undefined, enabled: a.cache as boolean | undefined });
    });
  for (const c of commandsFor(argv)) {
    let mod: CommandModule | undefined;
    const load = () => (mod ??= c.load());
    const handler = (args: Record<string, unknown>) => {
      const h = load().handler;
      if (h) wire(h)(args);
    };
    parser = parser.command(c.command, c.describe, (y) => load().builder(y, wire), handler);
  }
  return parser
    .demandCommand(1, 'name a command; see fwgen --help')
    .strict()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false);
}

/** The version of the package that runs, from its package.json (dist/ and src/ both sit one level below it). */
function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Puts back the cache settings a run's options changed (see configureCache). */
let restoreCache: () => void = () => undefined;

/** The whole program: parses argv, runs one command, returns the exit code. Never exits. */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  let pending: number | Promise<number> | undefined;
  let helpText = '';
  try {
    // `--version` alone is answered without loading the parser: that takes longer than the answer.
    if (argv.length === 1 && argv[0] === '--version') {
      io.out(`${packageVersion()}\n`);
      return EXIT.ok;
    }
    const parser = commands(io, (p) => {
      pending = p;
    }, argv).fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
    await parser.parseAsync(joinDashValue(argv), {}, (_err, _argv, output) => {
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
  } finally {
    restoreCache();
    restoreCache = () => undefined;
  }
}

/**
 * `--output -` as two words: the parser takes a lone '-' for a positional, so the pair is
 * joined into `--output=-` (the form it reads as the option's value) before parsing.
 */
function joinDashValue(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--') return [...out, ...argv.slice(i)];
    if ((argv[i] === '--output' || argv[i] === '-o') && argv[i + 1] === '-') {
      out.push('--output=-');
      i++;
    } else {
      out.push(argv[i]!);
    }
  }
  return out;
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
