import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { git } from '../diff/fixture';
import { repoRoot, runBinary, tempDir } from '../helpers';

/**
 * The daily refresh recipes' pull-request logic, run for real with bash and git against a
 * bare "origin"; gh and curl (GitHub's and GitLab's APIs) are stand-ins that record what
 * they are asked and answer as the forge would for an open or a missing request.
 */
interface Forge {
  name: string;
  script(dir: string): string;
  env: Record<string, string>;
}

function stepScript(recipe: string, find: (doc: any) => string): string {
  return find(parse(recipe));
}

const forges: Forge[] = [
  {
    name: 'GitHub Actions',
    script: (dir) =>
      stepScript(fs.readFileSync(path.join(dir, '.github/workflows/fwgen-refresh.yml'), 'utf8'), (doc) => {
        const step = doc.jobs.refresh.steps.find((s: any) => /pull request/.test(s.name ?? ''));
        return step.run;
      }),
    env: { BASE: 'origin/main', BRANCH: 'fwgen/refresh', DISPATCH_CHECKS: 'true', GH_TOKEN: 'token' },
  },
  {
    name: 'GitLab CI',
    script: (dir) =>
      stepScript(fs.readFileSync(path.join(dir, '.gitlab-ci.yml'), 'utf8'), (doc) => {
        const lines: string[] = doc['fwgen-refresh'].script;
        return lines.filter((l) => !/^npx fwgen (resolve|lists update|render)$/.test(l)).join('\n');
      }),
    env: {
      BASE: 'origin/main',
      BRANCH: 'fwgen/refresh',
      CI_DEFAULT_BRANCH: 'main',
      CI_API_V4_URL: 'https://gitlab.example/api/v4',
      CI_PROJECT_ID: '42',
      CI_SERVER_HOST: 'gitlab.example',
      CI_PROJECT_PATH: 'shops/firewalls',
      FWGEN_GITLAB_TOKEN: 'token',
    },
  },
];

/** Stand-ins on PATH: npx runs this checkout's fwgen; gh and curl log their arguments. */
function standIns(bin: string, state: string): void {
  fs.mkdirSync(bin, { recursive: true });
  const write = (name: string, text: string) => fs.writeFileSync(path.join(bin, name), text, { mode: 0o755 });
  write('npx', `#!/bin/sh\n[ "$1" = fwgen ] && shift\nexec node '${path.join(repoRoot, 'bin/fwgen.js')}' "$@"\n`);
  write(
    'gh',
    `#!/bin/sh
echo "gh $*" >> '${state}/calls'
case "$1 $2" in
  "pr list") [ -f '${state}/open' ] && cat '${state}/open'; exit 0 ;;
  "pr create") echo 7 > '${state}/open' ;;
esac
exit 0
`,
  );
  write(
    'curl',
    `#!/bin/sh
echo "curl $*" >> '${state}/calls'
case "$*" in
  *--get*) if [ -f '${state}/open' ]; then printf '[{"iid":%s}]' "$(cat '${state}/open')"; else printf '[]'; fi ;;
  *--request\\ POST*) echo 3 > '${state}/open'; printf '{"iid":3}' ;;
  *) printf '{}' ;;
esac
`,
  );
}

describe.each(forges)('the refresh recipe for $name', (forge) => {
  let dir: string;
  let origin: string;
  let state: string;
  let bin: string;

  beforeAll(() => {
    const root = tempDir('fwgen-refresh-');
    dir = path.join(root, 'fleet');
    origin = path.join(root, 'origin.git');
    state = path.join(root, 'state');
    bin = path.join(root, 'bin');
    fs.mkdirSync(state);
    standIns(bin, state);
    expect(runBinary(['init', dir]).status).toBe(0);
    expect(runBinary(['render'], dir).status).toBe(0);
    git(root, ['init', '-q', '--bare', origin]);
    git(dir, ['init', '-q', '-b', 'main']);
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'workspace']);
    git(dir, ['remote', 'add', 'origin', origin]);
    // GitLab's recipe pushes to the forge's HTTPS address: here that is the bare repository.
    git(dir, ['config', `url.${origin}.insteadOf`, `https://oauth2:token@${forge.env.CI_SERVER_HOST ?? 'none'}/${forge.env.CI_PROJECT_PATH ?? 'none'}.git`]);
    git(dir, ['push', '-q', 'origin', 'main']);
    git(dir, ['fetch', '-q', 'origin']);
  });

  /** One scheduled run on a fresh checkout of main, after `edit` changed the workspace as resolve/render would. */
  function scheduledRun(edit: () => void): { status: number; out: string; calls: string[] } {
    git(dir, ['checkout', '-q', '-f', 'main']);
    git(dir, ['clean', '-q', '-fdx']);
    fs.rmSync(path.join(state, 'calls'), { force: true });
    edit();
    expect(runBinary(['render'], dir).status).toBe(0);
    const runnerTemp = tempDir('fwgen-runner-');
    const r = spawnSync('bash', ['-e', '-c', forge.script(dir)], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        ...forge.env,
        PATH: `${bin}:${process.env.PATH}`,
        RUNNER_TEMP: runnerTemp,
        HOME: dir,
        GIT_CONFIG_NOSYSTEM: '1',
      },
    });
    const calls = fs.existsSync(path.join(state, 'calls')) ? fs.readFileSync(path.join(state, 'calls'), 'utf8').trim().split('\n') : [];
    return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}`, calls };
  }

  const site = () => path.join(dir, 'sites/store-001.yaml');
  const branchHead = () => git(origin, ['rev-parse', '--verify', '--quiet', 'refs/heads/fwgen/refresh']).trim();

  test('nothing changed: no branch, no request', () => {
    const r = scheduledRun(() => undefined);
    expect(r).toMatchObject({ status: 0, calls: [] });
    expect(r.out).toContain('nothing changed');
    expect(() => branchHead()).toThrow();
  });

  test('files changed but not the policy (fwgen diff exits 0): no branch, no request', () => {
    const r = scheduledRun(() => fs.appendFileSync(site(), '# reviewed\n'));
    expect(r).toMatchObject({ status: 0, calls: [] });
    expect(r.out).toContain('the policy did not');
    expect(() => branchHead()).toThrow();
  });

  test('a policy change opens one request; a second run the same day updates that branch and request', () => {
    const first = scheduledRun(() => fs.writeFileSync(site(), fs.readFileSync(site(), 'utf8').replace('198.51.100.0/24', '198.51.100.0/24, 203.0.113.0/24')));
    expect(first.status).toBe(0);
    const head1 = branchHead();
    expect(git(origin, ['show', `${head1}:sites/store-001.yaml`])).toContain('203.0.113.0/24');
    const created = first.calls.filter((c) => /^gh pr create|--request POST/.test(c));
    expect(created).toHaveLength(1);
    expect(created[0]).toMatch(/fwgen\/refresh/);
    if (forge.name === 'GitHub Actions') expect(first.calls).toContain('gh workflow run fwgen.yml --ref fwgen/refresh');

    const second = scheduledRun(() => fs.writeFileSync(site(), fs.readFileSync(site(), 'utf8').replace('198.51.100.0/24', '198.51.100.0/24, 192.0.2.128/25')));
    expect(second.status).toBe(0);
    const head2 = branchHead();
    expect(head2).not.toBe(head1);
    expect(git(origin, ['show', `${head2}:sites/store-001.yaml`])).toContain('192.0.2.128/25');
    expect(second.calls.filter((c) => /^gh pr create|--request POST/.test(c))).toEqual([]);
    expect(second.calls.filter((c) => /^gh pr edit 7 |--request PUT .*merge_requests\/3$/.test(c))).toHaveLength(1);
    expect(git(origin, ['for-each-ref', '--format=%(refname)', 'refs/heads'])).toBe('refs/heads/fwgen/refresh\nrefs/heads/main\n');
  });
});
