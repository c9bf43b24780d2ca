import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { git, lockText, siteText, vendorText, listText, writeTree } from '../diff/fixture';
import { repoRoot, runBinary, tempDir } from '../helpers';
import { leftovers, snapshot } from './tree';

/**
 * What a pull request can commit under out/ (a journal and its stage, links where fwgen
 * writes, lock names for the next pids) must not make the next render, check or resolve
 * write, move, delete or list anything outside the workspace. Each attack is built in a temp
 * folder next to a "victim" folder outside the workspace; the real binary runs on it.
 */
jest.setTimeout(120_000);

beforeAll(() => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build`');
});

interface Scene {
  /** The folder holding both the workspace and the victim. */
  top: string;
  ws: string;
  out: string;
  victim: string;
}

/** The workspace and victim as first rendered, made once: every scene is a fresh copy of it. */
let pristine: string | undefined;

/** A rendered workspace (ws/) and, beside it, a victim folder holding a key nobody may touch. */
function scene(): Scene {
  if (pristine === undefined) {
    const first = tempDir('fwgen-planted-pristine-');
    const ws = writeTree(
      {
        'fwgen.yaml': 'sites: [sites/*.yaml]\ncatalog: [own]\noutput: out\n',
        'own/vendors/acme.yaml': vendorText,
        'own/lists/acme-edge.yaml': listText,
        'sites/store-1.yaml': siteText,
        'sites/store-1.lock.yaml': lockText('203.0.113.10'),
      },
      path.join(first, 'ws'),
    );
    writeTree({ 'authorized_keys': 'ssh-ed25519 AAAA admin\n', 'id_ed25519': 'PRIVATE KEY\n' }, path.join(first, 'victim'));
    // The binary's own render, as a user's first one; the scenes copy its output rather than render again.
    const r = runBinary(['render'], ws);
    if (r.status !== 0) throw new Error(`the first render failed: ${r.stderr}`);
    pristine = first;
  }
  const top = tempDir('fwgen-planted-');
  fs.cpSync(pristine, top, { recursive: true });
  const ws = path.join(top, 'ws');
  return { top, ws, out: path.join(ws, 'out'), victim: path.join(top, 'victim') };
}

/** Content and modification time of every file of a folder: what "untouched" means. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rel, text] of snapshot(dir)) out[rel] = `${fs.statSync(path.join(dir, rel)).mtimeMs} ${text}`;
  return out;
}

/** The run failed with one line (besides warnings) matching `line`, and printed no stack. */
function refusedWith(r: { status: number; stdout: string; stderr: string }, line: RegExp): void {
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  // an error located in an input also says how many problems there were
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !/: warning: /.test(l) && l !== 'fwgen: 1 problem; nothing was written');
  expect(lines).toEqual([expect.stringMatching(line)]);
  expect(r.status).toBe(1);
}

/** Plants the journal of a render that never ran: move stage/<rel> to out/<rel> for each write. */
function plantJournal(out: string, write: string[], stage = '.fwgen-stage-planted'): void {
  fs.writeFileSync(path.join(out, '.fwgen.journal'), JSON.stringify({ version: 1, pid: 4242, stage, write, remove: [], prune: [] }) + '\n');
}

describe('a journal planted in out/', () => {
  test('moving a staged file through out/link -> ../../victim: refused, the victim untouched', () => {
    const s = scene();
    plantJournal(s.out, ['link/authorized_keys']);
    writeTree({ 'link/authorized_keys': 'ssh-ed25519 AAAA attacker\n' }, path.join(s.out, '.fwgen-stage-planted'));
    fs.symlinkSync('../../victim', path.join(s.out, 'link'));
    const before = fingerprint(s.victim);
    refusedWith(runBinary(['render'], s.ws), /^out\/link: a symbolic link, where fwgen keeps its own files; fwgen never writes, deletes or lists through a link .*; nothing in out was changed$/);
    expect(fingerprint(s.victim)).toEqual(before);
  });

  test('a stage that is a link to an outside folder: refused before anything moves; the key stays where it is', () => {
    const s = scene();
    plantJournal(s.out, ['id_ed25519', 'store-1/id_ed25519']);
    fs.symlinkSync('../../victim', path.join(s.out, '.fwgen-stage-planted'));
    const before = fingerprint(s.victim);
    const outBefore = snapshot(path.join(s.out, 'store-1'));
    refusedWith(runBinary(['render'], s.ws), /^out\/\.fwgen-stage-planted: a symbolic link, where fwgen keeps its own files/);
    expect(fingerprint(s.victim)).toEqual(before);
    expect(fs.existsSync(path.join(s.out, 'id_ed25519'))).toBe(false);
    expect(snapshot(path.join(s.out, 'store-1'))).toEqual(outBefore);
  });

  test('a journal that is a link: refused', () => {
    const s = scene();
    fs.writeFileSync(path.join(s.top, 'journal.json'), JSON.stringify({ version: 1, pid: 1, stage: '.fwgen-stage-x', write: [], remove: ['store-1/nftables/pos-terminal.nft'], prune: [] }));
    fs.symlinkSync('../../journal.json', path.join(s.out, '.fwgen.journal'));
    refusedWith(runBinary(['render'], s.ws), /^out\/\.fwgen\.journal: a symbolic link/);
    expect(fs.existsSync(path.join(s.out, 'store-1/nftables/pos-terminal.nft'))).toBe(true);
  });

  test('a journal whose entries leave out/ or reach a link further down: refused, nothing moved', () => {
    const s = scene();
    fs.mkdirSync(path.join(s.out, '.fwgen-stage-planted'));
    for (const write of [['../victim/authorized_keys'], ['/tmp/x'], ['store-1/../../victim/x'], ['store-1//x'], ['.fwgen.lock']]) {
      plantJournal(s.out, write);
      refusedWith(runBinary(['render'], s.ws), /^out\/\.fwgen\.journal: not a journal this fwgen wrote/);
    }
    fs.writeFileSync(path.join(s.out, '.fwgen.journal'), JSON.stringify({ version: 1, pid: 1, stage: '../../victim', write: [], remove: [], prune: [] }));
    refusedWith(runBinary(['render'], s.ws), /^out\/\.fwgen\.journal: not a journal this fwgen wrote/);
    fs.symlinkSync('../../../victim', path.join(s.out, 'store-1', 'keys'));
    plantJournal(s.out, ['store-1/keys/authorized_keys']);
    writeTree({ 'store-1/keys/authorized_keys': 'attacker\n' }, path.join(s.out, '.fwgen-stage-planted'));
    const before = fingerprint(s.victim);
    refusedWith(runBinary(['render'], s.ws), /^out\/store-1\/keys: a symbolic link/);
    expect(fingerprint(s.victim)).toEqual(before);
  });

  test('a journal and stage committed to Git are refused, even when every entry stays inside out/', () => {
    const s = scene();
    git(s.ws, ['init', '-q', '-b', 'main']);
    plantJournal(s.out, ['store-1/nftables/pos-terminal.nft']);
    writeTree({ 'store-1/nftables/pos-terminal.nft': 'table inet fwgen { }\n' }, path.join(s.out, '.fwgen-stage-planted'));
    git(s.ws, ['add', '-A']);
    git(s.ws, ['commit', '-q', '-m', 'a pull request']);
    const rendered = snapshot(path.join(s.out, 'store-1'));
    refusedWith(runBinary(['render'], s.ws), /^out\/\.fwgen\.journal: tracked by Git: fwgen carries out only a journal it left itself/);
    expect(snapshot(path.join(s.out, 'store-1'))).toEqual(rendered);

    // Only the stage committed (the journal not): still refused, by the stage's name.
    git(s.ws, ['rm', '-q', '--cached', 'out/.fwgen.journal']);
    git(s.ws, ['commit', '-q', '-m', 'journal untracked']);
    refusedWith(runBinary(['render'], s.ws), /^out\/\.fwgen-stage-planted: tracked by Git/);
    expect(snapshot(path.join(s.out, 'store-1'))).toEqual(rendered);
  });

  test('a genuine interrupted render in a repository (journal not tracked) is still completed', () => {
    const s = scene();
    git(s.ws, ['init', '-q', '-b', 'main']);
    git(s.ws, ['add', '-A']);
    git(s.ws, ['commit', '-q', '-m', 'workspace']);
    plantJournal(s.out, ['store-1/nftables/pos-terminal.nft']);
    writeTree({ 'store-1/nftables/pos-terminal.nft': 'from the stage\n' }, path.join(s.out, '.fwgen-stage-planted'));
    const r = runBinary(['render', '-t', 'pfsense'], s.ws);
    expect(r.stderr).toMatch(/completed the interrupted render of fwgen pid 4242/);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(s.out, 'store-1/nftables/pos-terminal.nft'), 'utf8')).toBe('from the stage\n');
    expect(leftovers(s.out)).toEqual([]);
  });

  test('inside a repository where Git cannot answer, a journal is refused rather than trusted', () => {
    const s = scene();
    git(s.ws, ['init', '-q', '-b', 'main']);
    plantJournal(s.out, ['store-1/nftables/pos-terminal.nft']);
    writeTree({ 'store-1/nftables/pos-terminal.nft': 'from the stage\n' }, path.join(s.out, '.fwgen-stage-planted'));
    // A PATH without git: the repository is there, the answer is not.
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'fwgen.js'), 'render'], { cwd: s.ws, encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } });
    refusedWith({ status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }, /^out\/\.fwgen\.journal: left by an interrupted render or committed to the repository\? fwgen cannot tell: git cannot be run \(ENOENT\)/);
  });
});

describe('links where fwgen writes, deletes or lists', () => {
  test('out -> ../victim: render and check refuse it in fwgen.yaml; nothing written, deleted or listed there', () => {
    const s = scene();
    fs.rmSync(s.out, { recursive: true });
    writeTree({ 'store-1/nftables/old.nft': 'outside\n', 'gone/nftables/x.nft': 'outside\n' }, s.victim);
    fs.symlinkSync('../victim', s.out);
    const before = fingerprint(s.victim);
    for (const args of [['render'], ['check'], ['check', '--update']]) {
      const r = runBinary(args, s.ws);
      refusedWith(r, /^fwgen\.yaml:3:9: output: 'out' is a symbolic link; the output folder 'out' must be a real folder inside the workspace/);
      expect(r.stderr).not.toContain('old.nft');
    }
    expect(fingerprint(s.victim)).toEqual(before);
  });

  test('out/<site>/<target> -> elsewhere with files there: refused, not swept, not listed', () => {
    const s = scene();
    const target = path.join(s.out, 'store-1', 'nftables');
    fs.rmSync(target, { recursive: true });
    writeTree({ 'pos-terminal.nft': 'outside\n', 'secret-name.conf': 'outside\n' }, path.join(s.victim, 'elsewhere'));
    fs.symlinkSync('../../../victim/elsewhere', target);
    const before = fingerprint(s.victim);
    for (const args of [['render'], ['check'], ['check', '--update'], ['render', 'store-1', '-t', 'nftables']]) {
      const r = runBinary(args, s.ws);
      refusedWith(r, /^out\/store-1\/nftables: a symbolic link, where fwgen keeps its own files/);
      expect(r.stderr).not.toContain('secret-name');
    }
    expect(fingerprint(s.victim)).toEqual(before);
  });

  test('a link inside an owned folder is refused, not deleted or followed', () => {
    const s = scene();
    fs.symlinkSync('../../../victim/authorized_keys', path.join(s.out, 'store-1', 'nftables', 'extra.nft'));
    const before = fingerprint(s.victim);
    refusedWith(runBinary(['render'], s.ws), /^out\/store-1\/nftables\/extra\.nft: a symbolic link/);
    refusedWith(runBinary(['check'], s.ws), /^out\/store-1\/nftables\/extra\.nft: a symbolic link/);
    expect(fs.lstatSync(path.join(s.out, 'store-1', 'nftables', 'extra.nft')).isSymbolicLink()).toBe(true);
    expect(fingerprint(s.victim)).toEqual(before);
  });

  test('out/.fwgen.lock.<pid> links planted for the next few hundred pids: refused, the outside file keeps its content', () => {
    const s = scene();
    const next = spawnSync('true').pid!;
    for (let pid = next; pid < next + 400; pid++) fs.symlinkSync('../../victim/authorized_keys', path.join(s.out, `.fwgen.lock.${pid}`));
    const before = fingerprint(s.victim);
    refusedWith(runBinary(['render'], s.ws), /^out\/\.fwgen\.lock\.\d+: a symbolic link, where fwgen keeps its own files/);
    expect(fingerprint(s.victim)).toEqual(before);
    expect(fs.existsSync(path.join(s.out, '.fwgen.lock'))).toBe(false);
  });

  test('a lock file that is a link is refused, not read or written through', () => {
    const s = scene();
    fs.writeFileSync(path.join(s.victim, 'lock.json'), JSON.stringify({ pid: 1, host: 'elsewhere', since: 'x' }));
    fs.symlinkSync('../../victim/lock.json', path.join(s.out, '.fwgen.lock'));
    const before = fingerprint(s.victim);
    refusedWith(runBinary(['render', '--wait', '0'], s.ws), /^out\/\.fwgen\.lock: a symbolic link/);
    expect(fingerprint(s.victim)).toEqual(before);
  });

  test("a lock file's temporary name planted as a link: resolve refuses it, the outside file keeps its content", () => {
    const s = scene();
    const dead = spawnSync('true').pid!;
    fs.symlinkSync('../../victim/authorized_keys', path.join(s.ws, 'sites', `store-1.lock.yaml.tmp-${dead}`));
    const before = fingerprint(s.victim);
    refusedWith(runBinary(['resolve', '--server', '127.0.0.1:9', '--tries', '1', '--timeout', '200'], s.ws), /^sites\/store-1\.lock\.yaml\.tmp-\d+: a symbolic link/);
    expect(fingerprint(s.victim)).toEqual(before);
  });
});
