import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, parseDocument } from 'yaml';
import { writeOutput } from '../../src/output';
import { renderSite } from '../../src/render/site';
import { targets } from '../../src/targets/registry';
import { catalogRoot, examplesRoot, repoRoot, tempDir } from '../helpers';
import { required } from '../conformance/validators';

/** The fixture collection (pfsensible.core's documented options) first, then what the machine has. */
export const collectionsPath = [path.join(repoRoot, 'test/ansible/fixtures/collections'), '/usr/share/ansible/collections', '/usr/lib/python3/dist-packages/ansible_collections'].join(':');

/**
 * A Python that has boto3 and moto (the AWS modules run on the controller, under it). Debian's
 * own first: it starts in a tenth of the time of a version manager's python3 shim. The modules
 * are looked up, not imported: importing them costs a second of CPU in every file that loads
 * this module, most of which never talk to AWS.
 */
export const awsPython = ['/usr/bin/python3', 'python3']
  .map((p) => spawnSync(p, ['-c', 'import importlib.util as u, sys\nif u.find_spec("boto3") and u.find_spec("moto"): print(sys.executable)'], { encoding: 'utf8' }))
  .find((r) => r.status === 0 && r.stdout.trim() !== '')
  ?.stdout.trim();

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}

/** Whether each tool runs, asked the first time a test file asks about it (ansible-lint alone costs over a second of CPU to start). */
const probes = {
  'ansible-playbook': () => works('ansible-playbook', ['--version']),
  'ansible-lint': () => works('ansible-lint', ['--version']),
  netns: () => works('ip', ['netns', 'list']) && works('unshare', ['-n', 'true']),
  moto: () => awsPython !== undefined,
};
type Tool = keyof typeof probes;
const probed = new Map<Tool, boolean>();
export const ansibleTools = {} as { readonly [T in Tool]: boolean };
for (const tool of Object.keys(probes) as Tool[]) {
  Object.defineProperty(ansibleTools, tool, {
    enumerable: true,
    get: () => {
      if (!probed.has(tool)) probed.set(tool, probes[tool]());
      return probed.get(tool)!;
    },
  });
}

/** test, or a skip with a message; in CI (FWGEN_REQUIRE_VALIDATORS=1) a missing tool fails. */
export function withAnsible(...tools: Array<keyof typeof ansibleTools>): jest.It {
  return unlessMissing(tools.filter((t) => !ansibleTools[t]));
}

/** test when nothing is missing; otherwise a skip with a message, or in CI a test that fails naming what is missing. */
export function unlessMissing(missing: string[]): jest.It {
  if (missing.length === 0) return test;
  if (required) {
    return ((name: string) =>
      test(name, () => {
        throw new Error(`${missing.join(', ')} missing but FWGEN_REQUIRE_VALIDATORS=1: .ci/run must install it`);
      })) as unknown as jest.It;
  }
  // eslint-disable-next-line no-console
  console.warn(`skipping Ansible checks that need ${missing.join(', ')}: not installed on this machine`);
  return test.skip;
}

/** Reads what fwgen writes for Ansible: its `!unsafe` strings are plain strings to a reader that does not template. */
export function parseAnsible(text: string): unknown {
  return parse(text, { customTags: [{ tag: '!unsafe', resolve: (s: string) => s }] });
}

export const exampleNames = fs
  .readdirSync(examplesRoot)
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.lock.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

/** A copy of an example (with its lock) in a fresh folder, its profile edited. Returns the profile. */
export function editExample(name: string, edit: (doc: ReturnType<typeof parseDocument>) => void = () => undefined): string {
  const dir = tempDir('fwgen-ansible-profile-');
  const profile = path.join(dir, `${name}.yaml`);
  const doc = parseDocument(fs.readFileSync(path.join(examplesRoot, `${name}.yaml`), 'utf8'));
  edit(doc);
  fs.writeFileSync(profile, doc.toString());
  fs.copyFileSync(path.join(examplesRoot, `${name}.lock.yaml`), path.join(dir, `${name}.lock.yaml`));
  return profile;
}

/**
 * A copy of an example (with its lock) whose profile gets the given targets.ansible options
 * and other edits, rendered for every target into `out`. Returns the site folder.
 */
export function renderExample(name: string, out: string, edit: (doc: ReturnType<typeof parseDocument>) => void = () => undefined, catalog = catalogRoot): string {
  const profile = editExample(name, edit);
  const result = renderSite(catalog, profile, targets);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
  writeOutput(out, result.files, targets.map((t) => path.posix.join(name, t.id)));
  return path.join(out, name);
}

export interface PlayResult {
  status: number;
  output: string;
  changed: number;
  failed: number;
}

/** Runs ansible-playbook (optionally inside a named network namespace) and reads the recap. */
export function playbook(args: string[], opts: { netns?: string; env?: Record<string, string>; cwd?: string; wrap?: string[] } = {}): PlayResult {
  // wrap: a command the run goes through first (e.g. unshare -m with a bind mount), which ends by running its arguments.
  const cmd = [...(opts.wrap ?? []), ...(opts.netns ? ['ip', 'netns', 'exec', opts.netns, 'ansible-playbook', ...args] : ['ansible-playbook', ...args])];
  const scratch = tempDir('fwgen-ansible-tmp-');
  const r = spawnSync(cmd[0]!, cmd.slice(1), {
    encoding: 'utf8',
    cwd: opts.cwd,
    timeout: 240_000,
    env: {
      ...process.env,
      ANSIBLE_COLLECTIONS_PATH: collectionsPath,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_RETRY_FILES_ENABLED: 'false',
      ANSIBLE_LOCAL_TEMP: scratch,
      ANSIBLE_REMOTE_TEMP: scratch,
      ANSIBLE_DEPRECATION_WARNINGS: 'false',
      ...opts.env,
    },
  });
  fs.rmSync(scratch, { recursive: true, force: true });
  return readRecap(r.status ?? -1, `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`);
}

/** A run's exit status and output, with the PLAY RECAP's counts summed over hosts. */
export function readRecap(status: number, output: string): PlayResult {
  const recap = (key: string) => [...output.matchAll(new RegExp(`${key}=(\\d+)`, 'g'))].reduce((n, m) => n + Number(m[1]), 0);
  return { status, output, changed: recap('changed'), failed: recap('failed') + recap('unreachable') };
}

/** The names of the sets or chains an nftables rule file declares. */
export function nftNames(file: string, kind: 'set' | 'chain'): string[] {
  return [...fs.readFileSync(file, 'utf8').matchAll(new RegExp(`^\\s*${kind} (\\w+) \\{`, 'gm'))].map((m) => m[1]!);
}

/** Creates a network namespace named for this process; returns it and a function that removes it. */
export function netns(tag: string): { name: string; run: (cmd: string[]) => string; remove: () => void } {
  const name = `fwgen-ans-${process.pid}-${tag}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ip netns add ${name}: ${add.stderr}`);
  return {
    name,
    run: (cmd) => {
      const r = spawnSync('ip', ['netns', 'exec', name, ...cmd], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    remove: () => void spawnSync('ip', ['netns', 'del', name]),
  };
}
