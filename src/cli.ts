import type { Argv } from 'yargs';
import type Yargs from 'yargs';
import { FileError, InputError } from './errors';
import { bundledCatalog, packageRoot } from './paths';
import type * as SelectModule from './policy/select';
import type * as ExplainModule from './report/explain';
import type * as FlowsModule from './report/flows';
import type * as CatalogModule from './catalog/load-catalog';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as WorkspaceModule from './workspace';
import type { OpenWorkspace } from './workspace';
import type * as ExamplesModule from './workspace/examples';
import type { SiteDiagnostic } from './workspace/fleet';
import type * as FleetModule from './workspace/fleet-workers';
import type * as InitModule from './workspace/init';
import type * as RenderModule from './render-site';
import type * as OutputModule from './output';
import type * as DiffModule from './diff';
import type * as AuditModule from './commands/audit';
import type * as RegistryModule from './targets/registry';
import type { RenderedFile } from './targets/render';
import type { AnyTarget } from './targets/types';
import type * as ResolveModule from './resolve/command';
import type * as CryptoModule from 'node:crypto';
import type * as FeedsCommandModule from './feeds/command';
import type * as FeedsFetchModule from './feeds/fetch';
import type * as FeedsLayersModule from './feeds/layers';
import type * as FeedsReportModule from './feeds/report';
import type * as FeedsUpdateModule from './feeds/update';
import type * as AnsibleModule from './targets/ansible';
import type * as ServersModule from './resolve/servers';
import type * as QueryModule from './commands/query';

/**
 * A module loaded when first used: --help and --version, and each command, load only what
 * they run (the feeds' HTTP client, the diff, the fleet workers and the catalog's YAML and
 * schema code take longer to load than some commands take to run).
 */
function lazy<T extends object>(load: () => T): T {
  let mod: T | undefined;
  return new Proxy({} as T, { get: (_target, key) => (mod ??= load())[key as keyof T] });
}
const selectLib = lazy<typeof SelectModule>(() => require('./policy/select'));
const explainLib = lazy<typeof ExplainModule>(() => require('./report/explain'));
const flowsLib = lazy<typeof FlowsModule>(() => require('./report/flows'));
const catalogLib = lazy<typeof CatalogModule>(() => require('./catalog/load-catalog'));
const workspaceLib = lazy<typeof WorkspaceModule>(() => require('./workspace'));
const examplesLib = lazy<typeof ExamplesModule>(() => require('./workspace/examples'));
const fleetLib = lazy<typeof FleetModule>(() => require('./workspace/fleet-workers'));
const initLib = lazy<typeof InitModule>(() => require('./workspace/init'));
const renderLib = lazy<typeof RenderModule>(() => require('./render-site'));
const auditLib = lazy<typeof AuditModule>(() => require('./commands/audit'));
const outputLib = lazy<typeof OutputModule>(() => require('./output'));
const diffLib = lazy<typeof DiffModule>(() => require('./diff'));
const registryLib = lazy<typeof RegistryModule>(() => require('./targets/registry'));
const resolveLib = lazy<typeof ResolveModule>(() => require('./resolve/command'));
const cryptoLib = lazy<typeof CryptoModule>(() => require('node:crypto'));
const feedsCommandLib = lazy<typeof FeedsCommandModule>(() => require('./feeds/command'));
const feedsFetchLib = lazy<typeof FeedsFetchModule>(() => require('./feeds/fetch'));
const feedsLayersLib = lazy<typeof FeedsLayersModule>(() => require('./feeds/layers'));
const feedsReportLib = lazy<typeof FeedsReportModule>(() => require('./feeds/report'));
const feedsUpdateLib = lazy<typeof FeedsUpdateModule>(() => require('./feeds/update'));
const ansibleLib = lazy<typeof AnsibleModule>(() => require('./targets/ansible'));
const serversLib = lazy<typeof ServersModule>(() => require('./resolve/servers'));
const queryLib = lazy<typeof QueryModule>(() => require('./commands/query'));

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: progress may be drawn there. */
  tty?: boolean;
  /** stdout is a terminal and NO_COLOR is not set: reports may use colour. */
  colour?: boolean;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: process.stderr.isTTY === true,
  colour: process.stdout.isTTY === true && !process.env.NO_COLOR,
};

/** Exit codes: 0 done, 1 bad input or failure, 2 out/ is stale (check) or the policy changed (diff). */
export const EXIT = { ok: 0, error: 1, stale: 2 } as const;

type Handler = (args: Record<string, unknown>, io: Io) => number | Promise<number>;

function withCatalog<T>(y: Argv<T>) {
  return y.option('catalog', {
    type: 'string',
    default: bundledCatalog,
    defaultDescription: "the catalog shipped with fwgen (in a workspace: its catalog layers)",
    describe: 'catalog folder (device-classes.yaml, vendors/, lists/); works on one profile, outside any workspace',
  });
}

/** --catalog named another catalog than the shipped one (its default). */
function catalogGiven(a: Record<string, unknown>): boolean {
  return a.catalog !== undefined && path.resolve(a.catalog as string) !== bundledCatalog;
}

function withWorkspace<T>(y: Argv<T>) {
  return y.option('workspace', {
    alias: 'w',
    type: 'string',
    defaultDescription: 'the fwgen.yaml in this folder or the nearest above it',
    describe: 'workspace file (fwgen.yaml) or the folder holding it',
  });
}

/**
 * The workspace a command works on: the one named, else the nearest fwgen.yaml above the
 * working folder, unless the command names a profile or a catalog (one profile, as before).
 */
function workspaceOf(a: Record<string, unknown>, io: Io): OpenWorkspace | undefined {
  let file: string | undefined;
  if (a.workspace !== undefined) file = workspaceLib.workspaceFileFor(a.workspace as string);
  else if (a.profile === undefined && !catalogGiven(a)) file = workspaceLib.findWorkspace(process.cwd());
  if (file === undefined) return undefined;
  const ws = workspaceLib.openWorkspace(file);
  for (const o of ws.overrides) io.err(`fwgen: catalog override: ${o.file} replaces ${o.replaces}\n`);
  return ws;
}

function catalogOf(a: Record<string, unknown>): string {
  return (a.catalog as string | undefined) ?? bundledCatalog;
}

/**
 * The catalog one profile is read with: --catalog, else the layers of the workspace holding
 * the profile (or named with --workspace), else the shipped catalog.
 */
function catalogFor(a: Record<string, unknown>, profileFile: string): string {
  if (catalogGiven(a)) return a.catalog as string;
  if (a.workspace !== undefined) return workspaceLib.workspaceFileFor(a.workspace as string);
  return workspaceLib.findWorkspace(path.dirname(path.resolve(profileFile))) ?? bundledCatalog;
}

function commands(io: Io, done: (p: number | Promise<number>) => void): Argv {
  const run = (h: Handler) => (args: Record<string, unknown>) => done(h(args, io));
  return (require('yargs') as typeof Yargs)()
    .scriptName('fwgen')
    .usage('$0 <command> [options]\n\nTurns vendors\' published network requirements into firewall configuration.')
    .command(
      'validate [paths..]',
      'check catalog files and profiles against the schema and each other (default: the workspace, or the catalog and the shipped examples)',
      (y) =>
        withWorkspace(withCatalog(y))
          .positional('paths', { type: 'string', array: true, describe: 'files or folders to check' })
          .example('$0 validate', 'the workspace: its catalog layers and every site')
          .example('$0 validate --catalog my-catalog site.yaml', 'one profile against another catalog'),
      run((a, out) => {
        const paths = (a.paths as string[] | undefined) ?? [];
        const ws = workspaceOf(a, out);
        const report = ws ? workspaceLib.validateWorkspace(ws, paths) : workspaceLib.validatePaths(catalogOf(a), paths);
        printDiagnostics(renderLib.policyDiagnostics(report), out);
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
          const { catalog, profile } = workspaceLib.loadSite(catalogFor(a, a.profile as string), a.profile as string);
          rows = flowsLib.selectionRows(selectLib.select(catalog, profile));
        } else {
          const wsFile = catalogGiven(a) ? undefined : workspaceLib.findWorkspace(process.cwd());
          rows = flowsLib.catalogRows(wsFile ? workspaceLib.openWorkspace(wsFile).catalog : catalogLib.loadCatalog(catalogOf(a)));
        }
        out.out(a.json ? JSON.stringify(rows, null, 2) + '\n' : flowsLib.formatTable(rows));
        return EXIT.ok;
      }),
    )
    .command(
      'explain',
      'what a profile selects, what it leaves out and why',
      (y) => withCatalog(y).option('profile', { alias: 'p', type: 'string', demandOption: true, describe: 'a site profile' }),
      run((a, out) => {
        const { catalog, profile } = workspaceLib.loadSite(catalogFor(a, a.profile as string), a.profile as string);
        out.out(explainLib.explainSite(catalog, profile));
        return EXIT.ok;
      }),
    )
    .command(
      'render [sites..]',
      "render every site of the workspace (or those named), or one profile, for every target (or those named) into <output>/<site>/, or one file to stdout",
      (y) =>
        withWorkspace(withCatalog(y))
          .positional('sites', { type: 'string', array: true, describe: 'workspace sites to render (file name without .yaml, or path); default: all' })
          .option('profile', { alias: 'p', type: 'string', describe: 'a site profile (outside a workspace, or one file of it)' })
          .example('$0 render', 'every site of the workspace into its output folder')
          .example('$0 render store-0042 -t nftables', 'one site, one target')
          .option('target', { alias: 't', type: 'string', array: true, describe: `targets to render (default: all): ${registryLib.targets.map((t) => t.id).join(', ')}` })
          .option('output', { alias: 'o', type: 'string', defaultDescription: "the workspace's output folder, else out", describe: "output folder, or - for stdout (one file)" })
          .option('only', { type: 'string', describe: 'with --output -: which of the target\'s files (e.g. boh-server.nft)' })
          .option('allow-unresolved', { type: 'boolean', default: false, describe: 'leave out rules whose host names the lock does not hold (a warning), instead of failing' })
          .option('wait', { type: 'number', default: 30, describe: 'seconds to wait while another fwgen run writes into the same output folder' })
          .example('$0 render -p site.yaml -o out --wait 120', 'wait up to two minutes for a render already writing into out/'),
      run((a, out) => renderCommand(a, out)),
    )
    .command(
      'resolve [sites..]',
      'look up every host name the profile (or each workspace site) selects (A and AAAA) and write <profile>.lock.yaml beside it',
      (y) =>
        withWorkspace(withCatalog(y))
          .positional('sites', { type: 'string', array: true, describe: 'workspace sites to resolve; default: all' })
          .option('profile', { alias: 'p', type: 'string', describe: 'a site profile (outside a workspace, or one file of it)' })
          .example('$0 resolve', "refresh every site's lock file")
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
      'render every site of the workspace in memory; exit 0 when the output folder is current, 2 listing stale files, 1 on errors',
      (y) =>
        withWorkspace(y)
          .option('output', { alias: 'o', type: 'string', defaultDescription: "the workspace's output folder", describe: 'the folder holding the rendered sites' })
          .example('$0 check', 'in CI: fail when a committed file is not what the inputs render')
          .example('$0 check --update', 'rewrite what is stale')
          .option('update', { type: 'boolean', default: false, describe: 'rewrite what is stale instead of failing' })
          .option('wait', { type: 'number', default: 30, describe: 'with --update: seconds to wait while another fwgen run writes into the same output folder' }),
      run((a, out) => checkCommand(a, out)),
    )
    .command('lists', 'keep the catalog\'s published address lists current', (y) =>
      y
        .command(
          'update [lists..]',
          'fetch the feeds the list files name and rewrite the lists (and generated vendor files) whose content changed',
          (yy) => feedsCommandLib.listsUpdateOptions(withWorkspace(withCatalog(yy))),
          run((a, out) => listsUpdateCommand(a, out)),
        )
        .demandCommand(1, 'name a lists command: update'),
    )
    .command(
      'inventory',
      'render several sites and write one Ansible inventory and playbook over all of them',
      (y) =>
        withCatalog(y)
          .option('profile', { alias: 'p', type: 'string', array: true, demandOption: true, describe: 'site profiles (repeat)' })
          .option('output', { alias: 'o', type: 'string', default: 'out', describe: 'output folder: <site>/<target>/ per site, inventory.yml and site.yml on top' })
          .example('$0 inventory -p shop-a.yaml -p shop-b.yaml', 'render both sites into out/ and write out/inventory.yml and out/site.yml')
          .example('ansible-playbook -i out/inventory.yml out/site.yml --limit shop_a --check --diff', 'then: a dry run of one site'),
      run((a, out) => inventoryCommand(a, out)),
    )
    .command(
      'init [dir]',
      'start a workspace in an empty folder: fwgen.yaml, a first site that renders, .gitignore/.gitattributes and CI recipes (GitHub Actions, GitLab CI)',
      (y) =>
        y
          .positional('dir', { type: 'string', default: '.', describe: 'the folder (created when missing)' })
          .option('site', { type: 'string', default: 'store-001', describe: "the first site's name (sites/<site>.yaml)" })
          .option('default-branch', { type: 'string', default: 'main', describe: 'the branch pull requests go to' })
          .example('npm i -D fwgen && npx fwgen init', 'a workspace in this folder, fwgen as a dev dependency')
          .example('$0 init fleet --site store-0001', 'in a new folder'),
      run((a, out) => {
        const dir = path.resolve(a.dir as string);
        const written = initLib.writeInit(dir, initLib.initFiles({ site: a.site as string, defaultBranch: a.defaultBranch as string, schemaDir: 'node_modules/fwgen/catalog/schema' }));
        for (const f of written) out.err(`wrote ${path.join(a.dir as string, f)}\n`);
        out.out(
          [
            `Workspace ready in ${a.dir === '.' ? 'this folder' : a.dir}. Next:`,
            `  edit sites/${a.site}.yaml (addresses, vendors), add a file per site`,
            '  npx fwgen resolve      # pin the vendors\' host names in lock files',
            '  npx fwgen render       # write out/<site>/<target>/',
            '  git add -A && git commit -m "fwgen workspace"',
            'CI (.github/workflows, .gitlab-ci.yml) runs fwgen check and posts fwgen diff on pull requests.',
            '',
          ].join('\n'),
        );
        return EXIT.ok;
      }),
    )
    .command(
      'diff',
      'what a change opens and closes, per site, device class and direction: the working tree against a Git revision or a folder',
      (y) =>
        withWorkspace(y)
          .option('base', { type: 'string', defaultDescription: 'the merge base with the default branch', describe: 'Git revision to compare with (read with git archive; the working tree is not touched)' })
          .option('base-dir', { type: 'string', describe: 'a folder holding the base version of the workspace, instead of Git' })
          .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text', describe: 'text for a terminal, markdown for a pull-request comment, json for tools (catalog/schema/diff.schema.json)' })
          .conflicts('base', 'base-dir')
          .example('$0 diff', 'this branch against where it left the default branch')
          .example('$0 diff --base origin/main --format markdown > review.md', 'a pull-request comment')
          .example('$0 diff --base-dir ../fleet-before --format json', 'two folders'),
      run((a, out) => diffCommand(a, out)),
    )
    .command(
      'query [site]',
      'is a connection allowed, and by which rule: from the policy (vendor page, catalog line) or from rule set files (file:line); exit 0 allowed, 3 dropped, 1 error',
      (y) => queryLib.queryOptions(withWorkspace(withCatalog(y))),
      run((a, out) => usageErrorsOf(queryLib.QueryUsageError, () => queryLib.runQuery(a, out, querySite(a, out)))),
    )
    .command(
      'audit [site]',
      'does an existing rule set meet what the site\'s profile asks for, and what does it open beyond it (exit 0 clean, 2 findings, 1 error)',
      (y) =>
        withWorkspace(withCatalog(y))
          .positional('site', { type: 'string', describe: 'the workspace site to audit' })
          .option('profile', { alias: 'p', type: 'string', describe: 'a site profile (outside a workspace)' })
          .option('file', { alias: 'f', type: 'string', array: true, demandOption: true, describe: 'a rule set to audit, [CLASS=]PATH: nft list ruleset (text or -j), iptables-save and ipset save, pfSense config.xml, describe-security-groups JSON, the Windows export (README)' })
          .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text', describe: 'text for a terminal, markdown for a pull-request comment, json for tools' })
          .example('$0 audit shop-1 --file ruleset.nft', 'the firewall a site runs today against its profile'),
      run((a, out) => {
        const site = querySite(a, out);
        if (site === undefined) throw new UsageError('name the site (inside a workspace) or its profile with -p');
        return auditLib.auditCommand({ ...site, files: a.file as string[], format: a.format as 'text' | 'markdown' | 'json' }, out);
      }),
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

/** A command module's own usage error, reported as every usage error is. */
function usageErrorsOf<T>(kind: new (...args: never[]) => Error, body: () => T): T {
  try {
    return body();
  } catch (err) {
    throw err instanceof kind ? new UsageError(err.message) : err;
  }
}

/** The site a query or an audit names: -p PROFILE, or a site of the workspace; none when only --file is given. */
function querySite(a: Record<string, unknown>, io: Io): { profileFile: string; catalog: string } | undefined {
  const ws = workspaceOf(a, io);
  if (a.profile !== undefined) return { profileFile: a.profile as string, catalog: ws ? ws.file : catalogFor(a, a.profile as string) };
  if (a.site === undefined) return undefined;
  if (!ws) throw new UsageError('site names need a workspace (fwgen.yaml); outside one, use -p PROFILE');
  const picked = workspaceLib.pickSites(ws, [a.site as string]);
  if (picked.length !== 1) throw new UsageError(`'${a.site as string}' names ${picked.length} sites; name one`);
  return { profileFile: picked[0]!, catalog: ws.file };
}

/** Options that take a whole number: NaN (from yargs) or a fraction is a usage error. */
function checkWholeNumbers(a: Record<string, unknown>, limits: ReadonlyArray<readonly [string, number]>): void {
  for (const [opt, min] of limits) {
    const v = a[opt] as number;
    if (!Number.isInteger(v) || v < min) {
      throw new UsageError(`--${opt} takes a whole number of at least ${min}${Number.isFinite(v) ? ` (got ${v})` : ''}`);
    }
  }
}

/** A line in the lock's header and a YAML value: printable text only. */
function checkNote(note: unknown): void {
  if (note === undefined) return;
  if (typeof note !== 'string' || /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(note)) {
    throw new UsageError('--note takes one line of text, without newlines or other control characters');
  }
}

function reportSummary(summary: ReturnType<typeof outputLib.writeOutput>, root: string, io: Io, verb: string): void {
  if (summary.completedInterrupted !== undefined) {
    io.err(`completed the interrupted render of fwgen pid ${summary.completedInterrupted} in ${root} first\n`);
  }
  for (const f of summary.written) io.err(`${verb} ${path.join(root, f)}\n`);
  for (const f of summary.removed) io.err(`removed ${path.join(root, f)}\n`);
}

/** Prints diagnostics, what several targets say alike once; returns the number of errors. */
function printDiagnostics(diags: ReturnType<typeof renderLib.renderSite>['diagnostics'] | SiteDiagnostic[], io: Io): number {
  const { lines, errors } = renderLib.formatDiagnostics(diags);
  for (const line of lines) io.err(line + '\n');
  return errors;
}

async function renderCommand(a: Record<string, unknown>, io: Io): Promise<number> {
  const chosen = renderLib.chooseTargets(a.target as string[] | undefined);
  const toStdout = a.output === '-';
  checkWholeNumbers(a, [['wait', 0]]);
  if (a.output !== undefined && (typeof a.output !== 'string' || a.output === '')) throw new UsageError('--output takes a folder, or - for stdout');
  if (toStdout && chosen.length !== 1) throw new UsageError('--output - writes one target; name it with --target');
  if (!toStdout && a.output !== undefined) outputLib.checkOutputFolder(a.output as string);
  if (!toStdout) outputLib.warmFlusher();
  const ws = workspaceOf(a, io);
  const sites = (a.sites as string[] | undefined) ?? [];
  let profileFile = a.profile as string | undefined;
  if (ws && profileFile === undefined) {
    if (!toStdout) return renderWorkspace(ws, a, sites, chosen, io);
    const picked = workspaceLib.pickSites(ws, sites);
    if (picked.length !== 1) throw new UsageError('--output - writes one site; name it');
    profileFile = picked[0]!;
  }
  if (profileFile === undefined) {
    throw new UsageError('name a profile with -p, or run inside a workspace (a folder with fwgen.yaml; fwgen init makes one)');
  }
  if (!ws && sites.length > 0) throw new UsageError('site names need a workspace (fwgen.yaml); outside one, use -p PROFILE');
  const result = renderLib.renderSite(ws ? ws.file : catalogFor(a, profileFile), profileFile, chosen, a.allowUnresolved as boolean);
  const errors = printDiagnostics(result.diagnostics, io);
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
  const owned = renderLib.ownedBy(result.policy.profile.name, chosen);
  writeAndReport((a.output as string | undefined) ?? (ws ? ws.output : 'out'), [...result.files, result.snapshot], owned, a, io);
  return EXIT.ok;
}

function writeAndReport(output: string, files: RenderedFile[], owned: string[], a: Record<string, unknown>, io: Io): void {
  const summary = outputLib.writeOutput(output, files, owned, { waitMs: (a.wait as number) * 1000 });
  reportSummary(summary, output, io, 'wrote');
  io.err(`${summary.written.length} written, ${summary.unchanged.length} unchanged, ${summary.removed.length} removed\n`);
}

/** Every site (or those named) of a workspace, catalog loaded once, written as one set. */
async function renderWorkspace(ws: OpenWorkspace, a: Record<string, unknown>, sites: string[], chosen: AnyTarget[], io: Io): Promise<number> {
  const output = a.output !== undefined ? path.resolve(a.output as string) : ws.output;
  const fleet = await fleetLib.renderFleetParallel(ws, workspaceLib.pickSites(ws, sites), chosen, {
    allowUnresolved: a.allowUnresolved as boolean,
    sweep: sites.length === 0 ? output : undefined,
  });
  const errors = printDiagnostics(fleet.diagnostics, io);
  if (errors > 0) {
    io.err(`fwgen: ${errors} error${errors === 1 ? '' : 's'}; nothing was written\n`);
    return EXIT.error;
  }
  const files = sites.length === 0 && chosen.includes(ansibleLib.ansible) ? [...fleet.files, ...ansibleLib.fleetFiles(fleet.policies)] : fleet.files;
  writeAndReport(path.relative(process.cwd(), output) || '.', files, fleet.owned, a, io);
  io.err(`${fleet.policies.length} site${fleet.policies.length === 1 ? '' : 's'}, ${chosen.length} target${chosen.length === 1 ? '' : 's'}\n`);
  return EXIT.ok;
}

async function resolveCommand(a: Record<string, unknown>, io: Io): Promise<number> {
  checkWholeNumbers(a, [['timeout', 1], ['tries', 1], ['concurrency', 1]]);
  for (const s of (a.server as string[] | undefined) ?? []) {
    const problem = serversLib.serverProblem(String(s));
    if (problem) throw new UsageError(`--server ${problem}`);
  }
  checkNote(a.note);
  const ws = workspaceOf(a, io);
  const sites = (a.sites as string[] | undefined) ?? [];
  let profiles: string[];
  if (a.profile !== undefined) profiles = [a.profile as string];
  else if (ws) profiles = workspaceLib.pickSites(ws, sites);
  else throw new UsageError('name a profile with -p, or run inside a workspace (a folder with fwgen.yaml; fwgen init makes one)');
  let failed = false;
  for (const profile of profiles) {
    const report = await resolveLib.resolveProfile({
      catalog: ws ? ws.file : catalogFor(a, profile),
      profile,
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
      failed = true;
    }
  }
  return failed ? EXIT.error : EXIT.ok;
}

async function checkCommand(a: Record<string, unknown>, io: Io): Promise<number> {
  checkWholeNumbers(a, [['wait', 0]]);
  let ws = workspaceOf(a, io);
  if (!ws) {
    // Outside any workspace, fwgen's own checkout still checks its examples.
    if (!fs.existsSync(examplesLib.examplesWorkspaceFile)) {
      throw new UsageError('no fwgen.yaml in this folder or above; run fwgen init, or name one with --workspace');
    }
    ws = workspaceLib.openWorkspace(examplesLib.examplesWorkspaceFile);
  }
  const output = a.output !== undefined ? path.resolve(a.output as string) : ws.output;
  const fleet = await fleetLib.renderFleetParallel(ws, ws.siteFiles, registryLib.targets, { sweep: output });
  // Errors, and the policy's own warnings (an explicit any); target warnings belong to render.
  const errors = printDiagnostics(fleet.diagnostics.filter((d) => d.severity === 'error' || d.target === 'policy'), io);
  if (errors > 0) return EXIT.error;
  const name = `${path.basename(output)}/`;
  // The whole workspace is rendered: the fleet's Ansible inventory and playbook belong to it.
  const files = [...fleet.files, ...ansibleLib.fleetFiles(fleet.policies)];
  if (a.update) reportSummary(outputLib.writeOutput(output, files, fleet.owned, { waitMs: (a.wait as number) * 1000 }), output, io, 'updated');
  const stale = outputLib.staleFiles(output, files, fleet.owned);
  if (stale.length > 0) {
    io.err(`${name} is stale; run: npx fwgen check --update\n${stale.map((s) => `  ${s}`).join('\n')}\n`);
    return EXIT.stale;
  }
  io.out(`${name} is current (${fleet.policies.length} profiles, ${registryLib.targets.length} targets)\n`);
  return EXIT.ok;
}

async function listsUpdateCommand(a: Record<string, unknown>, io: Io): Promise<number> {
  checkWholeNumbers(a, [['timeout', 1], ['tries', 1]]);
  const base = a.sourceBase as string | undefined;
  if (base !== undefined && !/^https?:\/\/[^\s/]+/.test(base)) throw new UsageError(`--source-base takes an http:// or https:// URL, not '${base}'`);
  // In a workspace: its own catalog folders, checked as the workspace loads them.
  const ws = workspaceOf(a, io);
  const layers = ws ? feedsLayersLib.workspaceLayers(ws) : feedsLayersLib.singleCatalog(a.catalog as string);
  let caps;
  try {
    caps = feedsCommandLib.capsOf(a);
  } catch (err) {
    throw err instanceof feedsCommandLib.FeedUsageError ? new UsageError(err.message) : err;
  }
  const { fetcher, close } = feedsFetchLib.httpFetcher({ timeoutMs: a.timeout as number, tries: a.tries as number, sourceBase: base, caps });
  try {
    const report = await feedsUpdateLib.updateLists({
      layers,
      lists: (a.lists as string[] | undefined) ?? [],
      acceptShrink: a.acceptShrink as boolean,
      acceptWidening: a.acceptWidening as boolean,
      today: new Date().toISOString().slice(0, 10),
      requestId: cryptoLib.randomUUID(),
      fetcher,
    });
    if (report.outcomes.length === 0 && ws) {
      io.err(feedsReportLib.formatNothingInWorkspace(report, layers));
      return EXIT.ok;
    }
    if (report.outcomes.length === 0) {
      io.err('no list in the catalog names a feed (list.feed); nothing to update\n');
      return EXIT.ok;
    }
    io.err(feedsReportLib.formatUpdateReport(report));
    return report.outcomes.some((o) => o.status === 'refused') ? EXIT.error : EXIT.ok;
  } catch (err) {
    if (err instanceof feedsCommandLib.FeedUsageError) throw new UsageError(err.message);
    throw err;
  } finally {
    await close();
  }
}

/** Renders every site for every target and writes the fleet's inventory and playbook beside them. */
function inventoryCommand(a: Record<string, unknown>, io: Io): number {
  const sites = (a.profile as string[]).map((p) => renderLib.renderSite(catalogFor(a, p), p, registryLib.targets));
  const errors = printDiagnostics(sites.flatMap((s) => s.diagnostics.map((d) => ({ ...d, site: s.policy.profile.name }))), io);
  if (errors > 0) {
    io.err(`fwgen: ${errors} error${errors === 1 ? '' : 's'}; nothing was written\n`);
    return EXIT.error;
  }
  const names = sites.map((s) => s.policy.profile.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UsageError(`two profiles are named ${dup}; sites in one inventory need distinct names`);
  const files = [...sites.flatMap((s) => [...s.files, s.snapshot]), ...ansibleLib.fleetFiles(sites.map((s) => s.policy))];
  const owned = names.flatMap((n) => renderLib.ownedBy(n, registryLib.targets));
  const summary = outputLib.writeOutput(a.output as string, files, owned);
  io.err(`${summary.written.length} written, ${summary.unchanged.length} unchanged, ${summary.removed.length} removed\n`);
  io.out(`${path.join(a.output as string, 'inventory.yml')}\n${path.join(a.output as string, 'site.yml')}\n`);
  return EXIT.ok;
}

/** Exit codes as terraform plan -detailed-exitcode: 0 no policy change, 2 changes or flags, 1 error. */
async function diffCommand(a: Record<string, unknown>, io: Io): Promise<number> {
  const ws = workspaceOf(a, io);
  if (!ws) throw new UsageError('fwgen diff compares a workspace: run it inside one (fwgen.yaml; fwgen init makes one) or name it with --workspace');
  const cs = await diffLib.diffWorkspace(ws, { base: a.base as string | undefined, baseDir: a.baseDir as string | undefined });
  for (const note of diffLib.baseNotes(cs)) io.err(`${note}\n`);
  const format = a.format as string;
  io.out(format === 'json' ? JSON.stringify(cs, null, 2) + '\n' : format === 'markdown' ? diffLib.formatMarkdown(cs) : diffLib.formatText(cs, io.colour === true));
  return cs.policyChanged || cs.flags.length > 0 ? EXIT.stale : EXIT.ok;
}

function describeTargets(): string {
  const lines: string[] = [];
  for (const t of registryLib.targets) {
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
    // `--version` alone is answered without loading the parser: that takes longer than the answer.
    if (argv.length === 1 && argv[0] === '--version') {
      io.out(`${packageVersion()}\n`);
      return EXIT.ok;
    }
    const parser = commands(io, (p) => {
      pending = p;
    }).fail((msg, err) => {
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
    if (err instanceof UsageError || err instanceof renderLib.UnknownTargetError) {
      io.err(`fwgen: ${err.message}\nRun 'fwgen --help' for the commands and their options.\n`);
      return EXIT.error;
    }
    return reportError(err, io);
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
