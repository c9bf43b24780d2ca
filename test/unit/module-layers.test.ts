/**
 * The layers of src/, read from the import graph, and what the CLI loads when.
 *
 * Layers, top to bottom (a module may import its own layer and those below it, never above):
 *   6  src/startup/code-cache-build.ts  the build step: runs the CLI to warm the code cache
 *   5  src/cli.ts               wires the commands into yargs; the only place that exits or prints
 *   4  src/commands/            one module per command (and what commands share)
 *   3  src/diff/                two renders of a workspace compared
 *   2  src/workspace/           a repository of sites: fleets, validation, init
 *   1  src/render/               one site: catalog + profile + lock → files
 *   0  everything else          catalog, site, policy, resolve, targets, net, fs, output, ...
 * So reading one site (src/site/) sits on the ground floor, where render/ and resolve/ can
 * use it, and the workspace, which renders many sites, sits on top of both.
 * Type-only imports count: a type from a higher layer is a dependency on it all the same.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as ts from 'typescript';
import { repoRoot, tempDir } from '../helpers';
import { listText, lockText, siteText, vendorText, writeTree } from '../diff/fixture';

const src = path.join(repoRoot, 'src');

const LAYERS: ReadonlyArray<{ name: string; rank: number; holds: (rel: string) => boolean }> = [
  { name: 'src/startup/code-cache-build.ts', rank: 6, holds: (r) => r === 'startup/code-cache-build.ts' },
  { name: 'src/cli.ts', rank: 5, holds: (r) => r === 'cli.ts' },
  { name: 'src/commands/', rank: 4, holds: (r) => r.startsWith('commands/') },
  { name: 'src/diff/', rank: 3, holds: (r) => r.startsWith('diff/') },
  { name: 'src/workspace/', rank: 2, holds: (r) => r.startsWith('workspace/') },
  { name: 'src/render/', rank: 1, holds: (r) => r.startsWith('render/') },
];

function layerOf(rel: string): { name: string; rank: number } {
  return LAYERS.find((l) => l.holds(rel)) ?? { name: 'the ground floor', rank: 0 };
}

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** The src/ file a relative specifier names (a folder means its index.ts); undefined for packages. */
function target(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  const hit = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
  if (!hit) throw new Error(`${path.relative(repoRoot, from)} imports '${spec}', which names no source file`);
  return hit;
}

/** Every import, export-from, require() and import() of a module, as the compiler's own scanner reads them. */
function importsOf(file: string, text = fs.readFileSync(file, 'utf8')): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => target(file, f.fileName))
    .filter((f): f is string => f !== undefined);
}

/** Imports that reach a higher layer, as "from → to (layer)". */
function upwardImports(file: string, text?: string): string[] {
  const rel = (f: string) => path.relative(src, f).split(path.sep).join('/');
  const own = layerOf(rel(file));
  return importsOf(file, text)
    .filter((to) => layerOf(rel(to)).rank > own.rank)
    .map((to) => `src/${rel(file)} → src/${rel(to)} (${layerOf(rel(to)).name} is above ${own.name})`);
}

describe('module layers', () => {
  const files = sourceFiles(src);

  test('no module imports a layer above its own', () => {
    expect(files.flatMap((f) => upwardImports(f))).toEqual([]);
  });

  test('the scanner sees every kind of import, and an upward one is caught', () => {
    const resolveCommand = path.join(src, 'resolve', 'command.ts');
    const text = [
      "import { loadSite } from '../site/load';",
      "import type { OpenWorkspace } from '../workspace/sites';",
      "export { run } from '../cli';",
      "const lib = lazy<typeof X>(() => require('../render/site'));",
      "const cmd = require('../commands/check') as typeof import('../commands/diff');",
    ].join('\n');
    expect(upwardImports(resolveCommand, text)).toEqual([
      'src/resolve/command.ts → src/workspace/sites.ts (src/workspace/ is above the ground floor)',
      'src/resolve/command.ts → src/cli.ts (src/cli.ts is above the ground floor)',
      'src/resolve/command.ts → src/render/site.ts (src/render/ is above the ground floor)',
      'src/resolve/command.ts → src/commands/check.ts (src/commands/ is above the ground floor)',
      'src/resolve/command.ts → src/commands/diff.ts (src/commands/ is above the ground floor)',
    ]);
  });

  test('each command has its own module, which the CLI names and nothing below the CLI loads', () => {
    const cli = importsOf(path.join(src, 'cli.ts')).map((f) => path.relative(src, f));
    for (const cmd of ['validate', 'list', 'explain', 'render', 'resolve', 'targets', 'check', 'lists', 'inventory', 'init', 'diff']) {
      expect(cli).toContain(path.join('commands', `${cmd}.ts`));
    }
    const loaders = files.filter((f) => importsOf(f).some((to) => path.relative(src, to) === path.join('commands', 'render.ts')));
    expect(loaders.map((f) => path.relative(src, f))).toEqual(['cli.ts']);
  });
});

/** The fwgen modules a run of the built CLI loads, relative to dist/. */
function loadedBy(args: string[]): string[] {
  const dist = path.join(repoRoot, 'dist');
  return filesLoadedBy(args)
    .filter((f) => f.startsWith(dist + path.sep))
    .map((f) => path.relative(dist, f).split(path.sep).join('/'));
}

/** The packages of node_modules a run of the built CLI loads. */
function packagesLoadedBy(args: string[]): string[] {
  const marker = `${path.sep}node_modules${path.sep}`;
  const names = filesLoadedBy(args)
    .filter((f) => f.includes(marker))
    .map((f) => f.slice(f.lastIndexOf(marker) + marker.length).split(path.sep)[0]!);
  return [...new Set(names)].sort();
}

/** Every file a run of the built CLI loads. */
function filesLoadedBy(args: string[]): string[] {
  const dist = path.join(repoRoot, 'dist');
  const script = [
    `const seen = [];`,
    `const Module = require('node:module');`,
    `const load = Module._load;`,
    `Module._load = function (request, parent, isMain) { const r = load.apply(this, arguments); seen.push(Module._resolveFilename(request, parent, isMain)); return r; };`,
    `require(${JSON.stringify(path.join(dist, 'cli.js'))}).run(${JSON.stringify(args)}, { out() {}, err() {} })`,
    `  .then(() => process.stdout.write(JSON.stringify(seen)));`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['-e', script], { cwd: repoRoot, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as string[];
}

describe('what the CLI loads', () => {
  test('--help loads no command module and none of the libraries a command runs', () => {
    const loaded = loadedBy(['--help']);
    expect(loaded.filter((f) => f.startsWith('commands/') && f !== 'commands/command.js')).toEqual([]);
    expect(loaded.filter((f) => /^(catalog|policy|targets|workspace|site|diff|feeds|resolve)\//.test(f))).toEqual([]);
  });

  test("render --help names every target, and loads none of the targets' modules", () => {
    const loaded = loadedBy(['render', '--help']);
    expect(loaded).toContain('targets/registry.js');
    expect(loaded.filter((f) => f.startsWith('targets/') && f !== 'targets/registry.js')).toEqual([]);
  });

  test('a render loads the modules of the targets it renders, and of no other', () => {
    // A site of nftables and iptables: the policy snapshot asks every target it uses for its limits.
    const root = writeTree({
      'fwgen.yaml': 'sites: [sites/*.yaml]\ncatalog: [own]\noutput: out\n',
      'own/vendors/acme.yaml': vendorText,
      'own/lists/acme-edge.yaml': listText,
      'sites/store-1.yaml': siteText.replace('  name: store-1\n', '  name: store-1\n  targets: [nftables, iptables]\n'),
      'sites/store-1.lock.yaml': lockText('203.0.113.10'),
    });
    const loaded = loadedBy(['render', '-p', path.join(root, 'sites', 'store-1.yaml'), '-t', 'nftables', '-o', path.join(root, 'out'), '--no-cache']);
    expect(fs.existsSync(path.join(root, 'out', 'store-1', 'nftables'))).toBe(true);
    const targetModules = ['iptables', 'nftables', 'pfsense', 'windows', 'aws', 'network-firewall', 'ansible'];
    expect(loaded.filter((f) => targetModules.some((t) => f === `targets/${t}.js`))).toEqual(['targets/nftables.js']);
  });

  test('a render of a site using every target for nftables alone, from a warm cache, loads neither the yaml package, re2js nor the other targets', () => {
    // The policy snapshot asks ansible and aws for their limits: ansible answers without loading
    // the targets whose files it installs, or the yaml package it writes them with.
    const root = writeTree({
      'fwgen.yaml': 'sites: [sites/*.yaml]\ncatalog: [own]\noutput: out\n',
      'own/vendors/acme.yaml': vendorText,
      'own/lists/acme-edge.yaml': listText,
      'sites/store-1.yaml': siteText,
      'sites/store-1.lock.yaml': lockText('203.0.113.10'),
    });
    const args = ['render', '-p', path.join(root, 'sites', 'store-1.yaml'), '-t', 'nftables', '-o', path.join(root, 'out'), '--cache-dir', path.join(root, 'cache')];
    const cold = packagesLoadedBy(args);
    expect(cold).toContain('re2js'); // validating the catalog compiles its vendors' name patterns: a control
    expect(fs.readFileSync(path.join(root, 'out', 'store-1', 'nftables', 'pos-terminal.nft'), 'utf8')).toContain('store-1');
    const warm = packagesLoadedBy(args);
    expect(warm).not.toContain('yaml');
    expect(warm).not.toContain('re2js');
    const targetModules = ['iptables', 'pfsense', 'windows'];
    expect(loadedBy(args).filter((f) => targetModules.some((t) => f === `targets/${t}.js`))).toEqual([]);
  });

  test('a warm render of the example restaurant to every target loads neither the yaml package nor re2js, and writes what a cold one does', () => {
    // Its Ansible vars, inventory and requirements are texts the cache remembers (yaml-text-memo.ts).
    const root = tempDir();
    for (const f of ['eu-restaurant-aloha.yaml', 'eu-restaurant-aloha.lock.yaml']) fs.copyFileSync(path.join(repoRoot, 'examples', f), path.join(root, f));
    const render = (out: string) => ['render', '-p', path.join(root, 'eu-restaurant-aloha.yaml'), '-o', path.join(root, out), '--cache-dir', path.join(root, 'cache')];
    expect(packagesLoadedBy(render('cold'))).toContain('yaml'); // a control: the cold run writes them with it
    const warm = packagesLoadedBy(render('warm'));
    expect(warm).not.toContain('yaml');
    expect(warm).not.toContain('re2js');
    const files = (dir: string) => fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
    const cold = files(path.join(root, 'cold'));
    expect(cold.some((f) => f.endsWith('.yml'))).toBe(true);
    expect(files(path.join(root, 'warm'))).toEqual(cold);
    for (const f of cold) {
      const file = path.join(root, 'cold', f);
      if (fs.statSync(file).isFile()) expect(fs.readFileSync(path.join(root, 'warm', f))).toEqual(fs.readFileSync(file));
    }
  });

  test("a warm render of a site with a vendor's patterned name loads no re2js, and a name that does not match is still refused", () => {
    // The example restaurant names its Paytronix client, which the vendor's pattern checks.
    const root = tempDir();
    for (const f of ['eu-restaurant-aloha.yaml', 'eu-restaurant-aloha.lock.yaml']) fs.copyFileSync(path.join(repoRoot, 'examples', f), path.join(root, f));
    const profile = path.join(root, 'eu-restaurant-aloha.yaml');
    const args = ['render', '-p', profile, '-t', 'nftables', '-o', path.join(root, 'out'), '--cache-dir', path.join(root, 'cache')];
    packagesLoadedBy(args);
    expect(packagesLoadedBy(args)).not.toContain('re2js');
    fs.writeFileSync(profile, fs.readFileSync(profile, 'utf8').replace('client: bistro-rouge', 'client: bistro_rouge!'));
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), ...args], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/eu-restaurant-aloha\.yaml:\d+:\d+: .*"bistro_rouge!" does not match the vendor's pattern/);
  });

  test('a command loads its own module only, and its --help none of what the command runs', () => {
    const loaded = loadedBy(['explain', '--help']);
    const commandModules = loaded.filter((f) => f.startsWith('commands/')).sort();
    expect(commandModules).toContain('commands/explain.js');
    expect(commandModules.filter((f) => /^commands\/(render|diff|check|validate|list|resolve|lists|inventory|init|targets)\.js$/.test(f))).toEqual([]);
    expect(loaded.filter((f) => /^(catalog|policy|workspace|site|report)\//.test(f))).toEqual([]);
  });
});
