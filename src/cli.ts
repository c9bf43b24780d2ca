import yargs, { type Argv } from 'yargs';
import { FileError, InputError } from './errors';
import { bundledCatalog } from './paths';
import { select } from './policy/select';
import { explainSelection } from './report/explain';
import { catalogRows, formatTable, selectionRows } from './report/flows';
import { loadCatalog } from './catalog/load-catalog';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exampleProfiles, loadSite, validatePaths } from './workspace';
import { chooseTargets, formatDiagnostic, renderSite, UnknownTargetError } from './render-site';
import { staleFiles, writeOutput } from './output';
import { targets } from './targets/registry';
import { resolveProfile } from './resolve/command';
import { packageRoot } from './paths';
import { randomUUID } from 'node:crypto';
import { listsUpdateOptions } from './feeds/command';
import { httpFetcher } from './feeds/fetch';
import { formatUpdateReport } from './feeds/report';
import { UnknownListError, updateLists } from './feeds/update';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: progress may be drawn there. */
  tty?: boolean;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: process.stderr.isTTY === true,
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
    .command(
      'render',
      'render a profile for every target (or those named) into out/<profile>/, or one file to stdout',
      (y) =>
        withCatalog(y)
          .option('profile', { alias: 'p', type: 'string', demandOption: true, describe: 'a site profile' })
          .option('target', { alias: 't', type: 'string', array: true, describe: `targets to render (default: all): ${targets.map((t) => t.id).join(', ')}` })
          .option('output', { alias: 'o', type: 'string', default: 'out', describe: "output folder, or - for stdout (one file)" })
          .option('only', { type: 'string', describe: 'with --output -: which of the target\'s files (e.g. boh-server.nft)' })
          .option('allow-unresolved', { type: 'boolean', default: false, describe: 'leave out rules whose host names the lock does not hold (a warning), instead of failing' }),
      run((a, out) => renderCommand(a, out)),
    )
    .command(
      'resolve',
      'look up every host name the profile selects (A and AAAA) and write <profile>.lock.yaml beside it',
      (y) =>
        withCatalog(y)
          .option('profile', { alias: 'p', type: 'string', demandOption: true, describe: 'a site profile' })
          .option('server', { type: 'string', array: true, describe: 'DNS server IP[:PORT] to ask instead of the system resolver' })
          .option('timeout', { type: 'number', default: 2000, describe: 'milliseconds per query attempt' })
          .option('tries', { type: 'number', default: 3, describe: 'attempts per query' })
          .option('concurrency', { type: 'number', default: 8, describe: 'names looked up at once' })
          .option('note', { type: 'string', describe: 'a line for the lock header (kept on later runs)' }),
      run((a, out) => resolveCommand(a, out)),
    )
    .command(
      'targets',
      'list the targets, what each writes, its options and their defaults',
      (y) => y,
      run((_a, out) => {
        out.out(describeTargets());
        return EXIT.ok;
      }),
    )
    .command(
      'check',
      'render every shipped example in memory; exit 0 when out/ is current, 2 listing stale files',
      (y) =>
        withCatalog(y)
          .option('output', { alias: 'o', type: 'string', default: path.join(packageRoot, 'out'), defaultDescription: 'out/ of the fwgen checkout', describe: 'the folder holding the rendered examples' })
          .option('update', { type: 'boolean', default: false, describe: 'rewrite what is stale instead of failing' }),
      run((a, out) => checkCommand(a, out)),
    )
    .command('lists', 'keep the catalog\'s published address lists current', (y) =>
      y
        .command(
          'update [lists..]',
          'fetch the feeds the list files name and rewrite the lists (and generated vendor files) whose content changed',
          (yy) => listsUpdateOptions(withCatalog(yy)),
          run((a, out) => listsUpdateCommand(a, out)),
        )
        .demandCommand(1, 'name a lists command: update'),
    )
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

class UsageError extends Error {}

function printDiagnostics(diags: ReturnType<typeof renderSite>['diagnostics'], io: Io): void {
  for (const d of diags) io.err(formatDiagnostic(d) + '\n');
}

function renderCommand(a: Record<string, unknown>, io: Io): number {
  const chosen = chooseTargets(a.target as string[] | undefined);
  const toStdout = a.output === '-';
  if (toStdout && chosen.length !== 1) throw new UsageError('--output - writes one target; name it with --target');
  const result = renderSite(a.catalog as string, a.profile as string, chosen, a.allowUnresolved as boolean);
  printDiagnostics(result.diagnostics, io);
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors > 0) {
    io.err(`fwgen: ${errors} error${errors === 1 ? '' : 's'}; nothing was written\n`);
    return EXIT.error;
  }
  if (toStdout) {
    const only = a.only as string | undefined;
    const picked = only ? result.files.filter((f) => path.posix.basename(f.path) === only) : result.files;
    if (picked.length !== 1) {
      const names = result.files.map((f) => path.posix.basename(f.path)).join(', ');
      throw new UsageError(
        only ? `no file '${only}' for this target (it writes: ${names})` : `this target writes ${result.files.length} files here (${names}); pick one with --only`,
      );
    }
    io.out(picked[0]!.content);
    return EXIT.ok;
  }
  const owned = chosen.map((t) => path.posix.join(result.policy.profile.name, t.id));
  const summary = writeOutput(a.output as string, result.files, owned);
  for (const f of summary.written) io.err(`wrote ${path.join(a.output as string, f)}\n`);
  for (const f of summary.removed) io.err(`removed ${path.join(a.output as string, f)}\n`);
  io.err(`${summary.written.length} written, ${summary.unchanged.length} unchanged, ${summary.removed.length} removed\n`);
  return EXIT.ok;
}

async function resolveCommand(a: Record<string, unknown>, io: Io): Promise<number> {
  for (const [opt, min] of [['timeout', 1], ['tries', 1], ['concurrency', 1]] as const) {
    const v = a[opt] as number;
    if (!Number.isInteger(v) || v < min) throw new UsageError(`--${opt} takes a whole number of at least ${min}`);
  }
  const report = await resolveProfile({
    catalog: a.catalog as string,
    profile: a.profile as string,
    servers: (a.server as string[] | undefined) ?? [],
    timeoutMs: a.timeout as number,
    tries: a.tries as number,
    concurrency: a.concurrency as number,
    note: a.note as string | undefined,
    progress: io.tty ? (done, total) => io.err(`\rresolving ${done}/${total}${done === total ? '\n' : ''}`) : undefined,
  });
  for (const o of report.outcomes) {
    if (o.status !== 'resolved') io.err(`${o.name}: ${o.message}\n`);
  }
  const resolved = report.outcomes.filter((o) => o.status === 'resolved').length;
  io.err(`wrote ${report.lockFile}: ${resolved} of ${report.outcomes.length} names resolved\n`);
  if (report.requiredFailures.length > 0) {
    io.err(`fwgen: required names without fresh addresses: ${report.requiredFailures.join(', ')}\n`);
    return EXIT.error;
  }
  return EXIT.ok;
}

async function listsUpdateCommand(a: Record<string, unknown>, io: Io): Promise<number> {
  for (const opt of ['timeout', 'tries'] as const) {
    const v = a[opt] as number;
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${opt} takes a whole number of at least 1`);
  }
  const base = a.sourceBase as string | undefined;
  if (base !== undefined && !/^https?:\/\/[^\s/]+/.test(base)) throw new UsageError(`--source-base takes an http:// or https:// URL, not '${base}'`);
  const { fetcher, close } = httpFetcher({ timeoutMs: a.timeout as number, tries: a.tries as number, sourceBase: base });
  try {
    const report = await updateLists({
      catalog: a.catalog as string,
      lists: (a.lists as string[] | undefined) ?? [],
      acceptShrink: a.acceptShrink as boolean,
      today: new Date().toISOString().slice(0, 10),
      requestId: randomUUID(),
      fetcher,
    });
    if (report.outcomes.length === 0) {
      io.err('no list in the catalog names a feed (list.feed); nothing to update\n');
      return EXIT.ok;
    }
    io.err(formatUpdateReport(report));
    return report.outcomes.some((o) => o.status === 'refused') ? EXIT.error : EXIT.ok;
  } catch (err) {
    if (err instanceof UnknownListError) throw new UsageError(err.message);
    throw err;
  } finally {
    await close();
  }
}

function checkCommand(a: Record<string, unknown>, io: Io): number {
  const stale: string[] = [];
  let errors = 0;
  for (const profile of exampleProfiles()) {
    const result = renderSite(a.catalog as string, profile, targets);
    const bad = result.diagnostics.filter((d) => d.severity === 'error');
    printDiagnostics(bad, io);
    errors += bad.length;
    const owned = targets.map((t) => path.posix.join(result.policy.profile.name, t.id));
    if (a.update && bad.length === 0) {
      const summary = writeOutput(a.output as string, result.files, owned);
      for (const f of [...summary.written, ...summary.removed]) io.err(`updated ${path.join(a.output as string, f)}\n`);
    }
    stale.push(...staleFiles(a.output as string, result.files, owned));
  }
  if (errors > 0) return EXIT.error;
  if (stale.length > 0) {
    io.err(`out/ is stale; run: npx fwgen check --update\n${stale.map((s) => `  ${s}`).join('\n')}\n`);
    return EXIT.stale;
  }
  io.out(`out/ is current (${exampleProfiles().length} profiles, ${targets.length} targets)\n`);
  return EXIT.ok;
}

function describeTargets(): string {
  const lines: string[] = [];
  for (const t of targets) {
    lines.push(`${t.id}: ${t.describe}`);
    lines.push(`  apply: ${t.apply}`);
    for (const [key, info] of Object.entries(t.options) as Array<[string, { describe: string; default: unknown }]>) {
      const def = typeof info.default === 'function' ? '(from the profile name)' : JSON.stringify(info.default);
      lines.push(`  targets.${t.id}.${key} (default ${def}): ${info.describe}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

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
    if (err instanceof UsageError || err instanceof UnknownTargetError) {
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
