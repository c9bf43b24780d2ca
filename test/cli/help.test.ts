/**
 * What --help and fwgen init tell a new user to run must work as written: fwgen is installed
 * from a Git URL or a tarball (it is not on the npm registry), a site renders its own targets,
 * and the exit statuses and streams are stated. Run with the real binary.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, runBinary, tempDir } from '../helpers';

const COMMANDS = ['validate', 'list', 'explain', 'render', 'resolve', 'targets', 'check', 'lists', 'lists update', 'inventory', 'init', 'diff', 'query', 'audit'];

function help(command: string): string {
  const r = runBinary([...command.split(' ').filter(Boolean), '--help']);
  expect({ command, status: r.status, stderr: r.stderr }).toEqual({ command, status: 0, stderr: '' });
  return r.stdout;
}

/** Help text as one line: yargs wraps it at the terminal's width. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('--help', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build`');
  });

  test('no help tells to install fwgen from the npm registry', () => {
    for (const c of ['', ...COMMANDS]) {
      const text = flat(help(c));
      // `npm i -D fwgen` or `npm install fwgen` alone: the registry has no such package.
      expect({ c, bad: text.match(/npm (?:i|install)(?: -D| --save-dev)? fwgen\b/g) }).toEqual({ c, bad: null });
    }
  });

  test('init --help installs fwgen from its Git repository or a tarball first', () => {
    const text = flat(help('init'));
    expect(text).toContain('npm i -D git+https://git.example.com/tools/fwgen.git#v0.1.0');
    expect(text).toContain('npm i -D ./vendor/fwgen-0.1.0.tgz');
    expect(text).toContain('fwgen is not on the npm registry');
    expect(text).toContain('npx fwgen init a workspace in this folder');
  });

  test("render --help says a site renders its own targets unless --target names some of them", () => {
    const text = flat(help('render'));
    expect(text).not.toContain('(default: all)');
    expect(text).toContain("a site's targets: its profile.targets, else targets in fwgen.yaml, else every target");
    expect(text).toContain("[default: each site's own]");
    expect(text).toContain("for each site's targets (or those of them named with --target)");
    expect(text).toContain('naming only targets no site uses is an error');
  });

  test('a command named first reads the same --help, errors and examples as one named after a global option', () => {
    // Named first, the parser is given that command alone; after an option, all of them.
    const alone = (args: string[]) => runBinary(args);
    const amongAll = (args: string[]) => runBinary(['--cache', ...args]);
    for (const c of COMMANDS) {
      const args = [...c.split(' '), '--help'];
      expect({ c, ...alone(args) }).toEqual({ c, ...amongAll(args) });
    }
    for (const args of [['render', '--no-such-option'], ['targets', 'extra'], ['lists', 'nope'], ['render', '-p']]) {
      const r = alone(args);
      expect(r.status).toBe(1);
      expect({ args, ...r }).toEqual({ args, ...amongAll(args) });
    }
  });

  test('fwgen --help says where data and diagnostics go and what the exit statuses mean', () => {
    const text = flat(help(''));
    expect(text).toContain('goes to stdout; diagnostics and what was written go to stderr');
    expect(text).toMatch(/Exit 0 done, 1 bad input or failure .*exit 2 is check's stale files, diff's policy changes and audit's findings, exit 3 a packet query dropped/);
    for (const c of ['validate', 'render', 'resolve', 'inventory']) expect({ c, exit: /\bexit (?:0|1)\b/i.test(flat(help(c))) }).toEqual({ c, exit: true });
  });
});

describe('fwgen init: the next steps it prints run', () => {
  const binary = path.join(repoRoot, 'bin', 'fwgen.js');
  const sh = (line: string, cwd: string, env: NodeJS.ProcessEnv = process.env) => spawnSync('sh', ['-c', line], { cwd, env, encoding: 'utf8' });
  /** The printed command lines, as a shell reads them (the comments dropped). */
  const steps = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.replace(/\s+#.*$/, '').trim());

  test('without fwgen in the project: node and the path of this fwgen, cd into the new folder, and how to add fwgen for CI', () => {
    const dir = tempDir('fwgen-init-');
    const r = runBinary(['init', 'fleet'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("CI runs npm ci, then npx fwgen: fwgen is not a dependency of this folder's project yet");
    expect(r.stdout).toContain('npm i -D git+<URL of fwgen>#<tag>, or npm i -D ./vendor/fwgen-<version>.tgz');
    const lines = steps(r.stdout);
    expect(lines.slice(0, 1)).toEqual(['cd fleet']);
    expect(lines.filter((l) => l.includes('npx'))).toEqual([]);
    const render = lines.find((l) => l.endsWith(' render'));
    expect(render).toBe(`node ${binary} render`);
    // As the user would type them: cd, then the printed render line.
    const run = sh(`cd fleet && ${render!}`, dir);
    expect({ status: run.status, stderr: run.stderr }).toMatchObject({ status: 0 });
    expect(fs.existsSync(path.join(dir, 'fleet', 'out', 'store-001', 'policy.json'))).toBe(true);
  });

  test('with fwgen on PATH: fwgen', () => {
    const dir = tempDir('fwgen-init-');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(binary, path.join(bin, 'fwgen'));
    const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
    fs.mkdirSync(path.join(dir, 'ws'));
    const r = sh(`fwgen init`, path.join(dir, 'ws'), env);
    expect(r.status).toBe(0);
    expect(steps(r.stdout)).toContain('fwgen render');
    expect(sh('fwgen render', path.join(dir, 'ws'), env).status).toBe(0);
  });

  test("with fwgen in the project's node_modules: npx fwgen, and no advice to add it", () => {
    const project = tempDir('fwgen-init-');
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'sites', version: '1.0.0', private: true }));
    fs.mkdirSync(path.join(project, 'node_modules', '.bin'), { recursive: true });
    fs.symlinkSync(repoRoot, path.join(project, 'node_modules', 'fwgen'));
    fs.symlinkSync(path.join('..', 'fwgen', 'bin', 'fwgen.js'), path.join(project, 'node_modules', '.bin', 'fwgen'));
    const r = runBinary(['init', 'ws'], project);
    expect(r.status).toBe(0);
    expect(steps(r.stdout)).toEqual(expect.arrayContaining(['cd ws', 'npx fwgen resolve', 'npx fwgen render']));
    expect(r.stdout).not.toContain('not a dependency');
    // npx finds the project's fwgen from the workspace folder below it, offline.
    const run = sh('npx --no-install fwgen render', path.join(project, 'ws'));
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, stderr: '' });
  }, 120_000);
});
