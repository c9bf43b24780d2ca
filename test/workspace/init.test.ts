import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { git } from '../diff/fixture';
import { useFeedServer } from '../feeds/server';
import { catalogRoot, runBinary, runInProcess, tempDir } from '../helpers';

/**
 * The fwgen commands of a CI recipe, one per line as the recipe runs them; a matrix or
 * parallel job's `--shard` is run for each of its parts.
 */
function fwgenCommands(text: string, shards = 2): string[][] {
  const parts = Array.from({ length: shards }, (_, i) => `${i + 1}/${shards}`);
  const each = text.replace(/^(.*npx fwgen .*)(?:\$\{\{ matrix\.shard \}\}\/\$\{\{ strategy\.job-total \}\}|"\$CI_NODE_INDEX\/\$CI_NODE_TOTAL")(.*)$/gm, (_m, head: string, tail: string) =>
    parts.map((k) => `${head}${k}${tail}`).join('\n'),
  );
  return [...each.matchAll(/npx fwgen ([^\n|>&;]+)/g)].map((m) =>
    m[1]!.trim().split(/\s+/).map((w) => w.replace(/^"\$BASE"$/, 'origin/main').replace(/^"\$RUNNER_TEMP\/(.*)"$/, '$1')),
  );
}

describe('fwgen init', () => {
  let dir: string;
  const feeds = useFeedServer();
  beforeAll(() => {
    dir = path.join(tempDir('fwgen-init-'), 'fleet');
    const r = runBinary(['init', dir, '--site', 'store-0001']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Workspace ready in /);
  });

  test('writes the workspace, a site, git files and CI recipes, with schema lines into the installed package', () => {
    for (const f of ['fwgen.yaml', 'sites/store-0001.yaml', '.gitignore', '.gitattributes', '.github/workflows/fwgen.yml', '.github/workflows/fwgen-refresh.yml', '.gitlab-ci.yml']) {
      expect(fs.existsSync(path.join(dir, f))).toBe(true);
    }
    expect(fs.readFileSync(path.join(dir, 'fwgen.yaml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=node_modules\/fwgen\/catalog\/schema\/workspace\.schema\.json\n/);
    expect(fs.readFileSync(path.join(dir, 'sites/store-0001.yaml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\.\/node_modules\/fwgen\/catalog\/schema\/profile\.schema\.json\n/);
    const again = runBinary(['init', dir]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already holds fwgen\.yaml/);
  });

  test("its .gitignore keeps fwgen's lock, journal, stage and temporary files out of commits, and not the output", () => {
    const ws = path.join(tempDir('fwgen-init-'), 'ignored');
    expect(runBinary(['init', ws]).status).toBe(0);
    git(ws, ['init', '-q', '-b', 'main']);
    const bookkeeping = ['out/.fwgen.lock', 'out/.fwgen.lock.123', 'out/.fwgen.lock.stale-123', 'out/.fwgen.journal', 'out/.fwgen.journal.tmp-123', 'out/.fwgen-stage-abc/s/nftables/x.nft', 'sites/store-001.lock.yaml.tmp-123', 'catalog/lists/x.yaml.tmp-123'];
    const ignored = git(ws, ['check-ignore', '--no-index', ...bookkeeping]).split('\n').filter((l) => l !== '');
    expect(ignored).toEqual(bookkeeping);
    expect(() => git(ws, ['check-ignore', '--no-index', 'out/store-001/nftables/x.nft'])).toThrow();
    expect(() => git(ws, ['check-ignore', '--no-index', 'sites/store-001.lock.yaml'])).toThrow();
  });

  test('--shards sets how many parallel jobs the recipes check the sites in', async () => {
    const ws = path.join(tempDir('fwgen-init-'), 'wide');
    expect(runBinary(['init', ws, '--shards', '8']).status).toBe(0);
    expect(parse(fs.readFileSync(path.join(ws, '.github/workflows/fwgen.yml'), 'utf8')).jobs['fwgen-check'].strategy.matrix.shard).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parse(fs.readFileSync(path.join(ws, '.gitlab-ci.yml'), 'utf8'))['fwgen-check'].parallel).toBe(8);
    for (const bad of ['0', '201', '1.5']) {
      const r = await runInProcess(['init', path.join(tempDir('fwgen-init-'), 'x'), '--shards', bad]);
      expect({ bad, status: r.status }).toEqual({ bad, status: 1 });
      expect(r.stderr).toMatch(/shards/);
    }
  });

  test('render, check and validate pass on the new workspace; a hand edit makes check exit 2', () => {
    expect(runBinary(['render'], dir).status).toBe(0);
    expect(runBinary(['check'], dir)).toEqual({ status: 0, stdout: 'out/ is current (1 profiles, 6 targets)\n', stderr: '' });
    expect(runBinary(['validate'], dir).status).toBe(0);
    fs.appendFileSync(path.join(dir, 'out/store-0001/pfsense/config.xml'), '<!-- edit -->\n');
    const stale = runBinary(['check'], dir);
    expect(stale.status).toBe(2);
    expect(stale.stderr).toContain('store-0001/pfsense/config.xml (differs)');
    expect(runBinary(['check', '--update'], dir).status).toBe(0);
  });

  test('the CI recipes are valid YAML and their fwgen commands run', async () => {
    const recipes = ['.github/workflows/fwgen.yml', '.github/workflows/fwgen-refresh.yml', '.gitlab-ci.yml'].map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    const gh = parse(recipes[0]!);
    expect(Object.keys(gh.on)).toEqual(['pull_request', 'push', 'workflow_dispatch']);
    expect(gh.permissions['pull-requests']).toBe('write');
    expect(parse(recipes[1]!).on.schedule[0].cron).toMatch(/^\d+ \d+ \* \* \*$/);
    const gl = parse(recipes[2]!);
    expect(Object.keys(gl)).toEqual(['default', 'fwgen-check', 'fwgen-inventory', 'fwgen-diff', 'fwgen-refresh']);
    // The check runs as parts of the sites over parallel jobs, and one job checks the fleet's inventory.
    expect(gh.jobs['fwgen-check'].strategy.matrix.shard).toEqual([1, 2]);
    expect(gh.jobs['fwgen-check'].steps.at(-1).run).toBe('npx fwgen check --shard ${{ matrix.shard }}/${{ strategy.job-total }}');
    expect(gh.jobs.fwgen.steps.map((st: { run?: string }) => st.run)).toContain('npx fwgen check --merge-shards');
    expect(gl['fwgen-check'].parallel).toBe(2);
    expect(gl['fwgen-check'].script).toEqual(['npx fwgen check --shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"']);
    expect(gl['fwgen-inventory'].script).toEqual(['npx fwgen check --merge-shards']);
    expect(gl['fwgen-inventory'].rules).toEqual(gl['fwgen-check'].rules);

    // A shipped list copied into the workspace's catalog folder to keep it current, as
    // `lists update` advises; the copy lacks one address the (loopback) feed has.
    const stale = fs.readFileSync(path.join(catalogRoot, 'lists/cloudflare.yaml'), 'utf8').replace('  - 2c0f:f248::/32\n', '');
    fs.mkdirSync(path.join(dir, 'catalog/lists'));
    fs.writeFileSync(path.join(dir, 'catalog/lists/cloudflare.yaml'), stale);
    const shippedBefore = fs.readFileSync(path.join(catalogRoot, 'lists/cloudflare.yaml'), 'utf8');

    // A repository with a default branch and a change on top, as CI sees a pull request.
    git(dir, ['init', '-q', '-b', 'main']);
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'workspace']);
    git(dir, ['update-ref', 'refs/remotes/origin/main', 'HEAD']);
    const commands = recipes.flatMap((r) => fwgenCommands(r));
    expect(commands.map((c) => c.join(' '))).toEqual(expect.arrayContaining(['check --shard 1/2', 'check --shard 2/2', 'check --merge-shards']));
    expect(commands.map((c) => c[0])).toEqual(expect.arrayContaining(['check', 'diff', 'resolve', 'render']));
    const help = (await runInProcess(['--help'])).stdout;
    let updated = false;
    for (const args of commands) {
      if (!new RegExp(`fwgen ${args[0]}\\b`).test(help)) {
        console.warn(`fwgen ${args.join(' ')}: not a command of this build; skipped`);
        continue;
      }
      // In this process: the recipes' exit statuses are the point, and the binary's own are
      // checked above. The feeds are served on loopback (the test never reaches the internet).
      const r = await runInProcess(args.join(' ') === 'lists update' ? [...args, '--source-base', feeds().base, '--tries', '1'] : args, dir);
      // The first site names no host, so resolve asks no DNS server; no site uses the updated
      // list, so diff finds no policy change before or after it (the recipes fail only on 1).
      if (args[0] === 'lists') updated = true;
      expect({ args, status: r.status, stderr: r.status === 1 ? r.stderr : '' }).toEqual({ args, status: 0, stderr: '' });
    }
    // The scheduled job updated the workspace's copy of the list, not the shipped one.
    expect(commands.map((c) => c.join(' '))).toContain('lists update');
    expect(fs.readFileSync(path.join(dir, 'catalog/lists/cloudflare.yaml'), 'utf8')).toContain('2c0f:f248::/32');
    expect(git(dir, ['status', '--porcelain'])).toContain('catalog/lists/cloudflare.yaml');
    expect(fs.readFileSync(path.join(catalogRoot, 'lists/cloudflare.yaml'), 'utf8')).toBe(shippedBefore);
    const md = await runInProcess(['diff', '--base', 'origin/main', '--format', 'markdown'], dir);
    expect(updated).toBe(true);
    expect(md.stdout).toMatch(/^### fwgen diff: no policy change/);
    // A list that no site uses moves no policy: the diff does not flag it.
    expect(md.stdout).not.toMatch(/list source moved/);
  }, 180_000); // a dozen runs of fwgen, each part of the check among them
});
