/**
 * The README's install from a Git URL: npm clones fwgen, installs its dev dependencies and
 * runs its `prepare` script, which builds dist/; the project gets the built package only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { git } from '../diff/fixture';
import { repoRoot, tempDir } from '../helpers';
import { npmOffline, sh } from './npm';

describe('npm i -D git+URL builds fwgen through prepare', () => {
  let project: string;
  let url: string;
  beforeAll(() => {
    const dir = tempDir('fwgen-git-');
    // The repository as a user's Git host holds it: the committed files, no dist/, no node_modules.
    const origin = path.join(dir, 'fwgen.git');
    git(dir, ['clone', '-q', '--bare', repoRoot, origin]);
    url = `git+file://${origin}`;
    project = path.join(dir, 'site-repo');
    fs.mkdirSync(project);
    expect(sh('npm', ['init', '-y'], project).status).toBe(0);
    const install = npmOffline(['i', '-D', url], project);
    if (install.status !== 0) throw new Error(`npm i -D ${url} failed:\n${install.stderr}`);
  }, 900_000);

  test('the installed package is the built one: dist/ and its code cache, no sources or tests', () => {
    const pkg = path.join(project, 'node_modules', 'fwgen');
    for (const f of ['dist/cli.js', 'dist/commands/render.js', 'bin/fwgen.js', 'catalog/schema/profile.schema.json', 'templates/init/fwgen.yaml.hbs']) {
      expect(fs.existsSync(path.join(pkg, f))).toBe(true);
    }
    for (const f of ['src', 'test', 'node_modules/typescript']) expect(fs.existsSync(path.join(pkg, f))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8')).devDependencies.fwgen).toBe(url);
  });

  test('npx fwgen init, render and check work in the project', () => {
    const fwgen = (args: string[]) => sh('npx', ['--no-install', 'fwgen', ...args], project);
    expect(fwgen(['--version'])).toMatchObject({ status: 0, stdout: `${JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version}\n` });
    expect(fwgen(['init']).status).toBe(0);
    expect(fwgen(['render']).status).toBe(0);
    expect(fwgen(['check'])).toMatchObject({ status: 0, stdout: 'out/ is current (1 profiles, 6 targets)\n' });
  });
});
