import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, tempDir } from '../helpers';
import { required } from '../conformance/validators';
import { bigSite } from './big-site';
import { leftovers, sameTree, snapshot } from './tree';

/**
 * A full disk and a read-only file system, made for real: a tiny tmpfs inside a private
 * mount namespace (unshare -Urm, no root needed where user namespaces are allowed). Each
 * failed render must print one line naming the path, exit 1, and leave the old files.
 */
const fwgen = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(repoRoot, 'bin', 'fwgen.js'))}`;

function canMountTmpfs(): boolean {
  const dir = tempDir();
  const r = spawnSync('unshare', ['-Urm', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$1"', 'sh', dir]);
  return r.status === 0;
}

const available = canMountTmpfs();
const maybe = available || required ? describe : describe.skip;
if (!available && !required) console.warn('skipping full-disk and read-only tests: cannot mount a tmpfs in a user namespace (unshare -Urm)');

/** Runs `script` in a private mount namespace with $1 = a tmpfs of `size`, $2 = a folder to copy it out to. */
function inTmpfs(size: string, script: string): { status: number; stdout: string; stderr: string; after: string } {
  const mountPoint = tempDir();
  const after = tempDir();
  const r = spawnSync('unshare', ['-Urm', 'sh', '-c', `mount -t tmpfs -o size=${size} tmpfs "$1" || exit 99\n${script}\ncp -a "$1/." "$2"`, 'sh', mountPoint, after], {
    encoding: 'utf8',
    cwd: repoRoot,
  });
  if (r.status === 99) throw new Error(`cannot mount a tmpfs: ${r.stderr}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, after };
}

maybe('write failures', () => {
  jest.setTimeout(120_000);
  const small = bigSite(2, 2);
  const large = bigSite(30, 150);
  const smallRender = tempDir();
  beforeAll(() => {
    if (!available) throw new Error('cannot mount a tmpfs in a user namespace but FWGEN_REQUIRE_VALIDATORS=1: CI must allow unshare -Urm');
    const r = spawnSync('sh', ['-c', `${fwgen} render --catalog "$1" -p "$2" -o "$3"`, 'sh', small.catalog, small.profile(0, 'site'), smallRender]);
    expect(r.status).toBe(0);
  });
  const expectOneLine = (stderr: string, pattern: RegExp) => {
    const lines = stderr.split('\n').filter((l) => l !== '' && !/(^|: )warning: /.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(stderr).not.toMatch(/internal error|\n\s+at /);
  };

  test('a full disk (ENOSPC): one line naming the path, exit 1, old files kept, no temporary files', () => {
    const r = inTmpfs(
      '256k',
      `${fwgen} render --catalog "${small.catalog}" -p "${small.profile(0, 'site')}" -o "$1" 2>/dev/null || exit 98
${fwgen} render --catalog "${large.catalog}" -p "${large.profile(0, 'site')}" -o "$1"
echo "status $?"`,
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('status 1\n');
    expectOneLine(r.stderr, /^\/tmp\/\S+: cannot write: no space left on the device \(ENOSPC\); nothing in \/tmp\/\S+ was changed$/);
    expect(sameTree(snapshot(path.join(r.after, 'site')), snapshot(path.join(smallRender, 'site')))).toBe(true);
    expect(leftovers(r.after)).toEqual([]);
  });

  test('a read-only file system (EROFS): one line, exit 1, old files kept', () => {
    const r = inTmpfs(
      '4m',
      `${fwgen} render --catalog "${small.catalog}" -p "${small.profile(0, 'site')}" -o "$1" 2>/dev/null || exit 98
mount -o remount,ro "$1" || exit 97
${fwgen} render --catalog "${small.catalog}" -p "${small.profile(1, 'site')}" -o "$1"
echo "status $?"`,
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('status 1\n');
    expectOneLine(r.stderr, /^\/tmp\/\S+: cannot write: the file system is read-only \(EROFS\); nothing in \/tmp\/\S+ was changed$/);
    expect(sameTree(snapshot(path.join(r.after, 'site')), snapshot(path.join(smallRender, 'site')))).toBe(true);
  });

  test('a folder the user may not write (EACCES): one line, exit 1, old files kept', () => {
    const out = tempDir();
    fs.cpSync(smallRender, out, { recursive: true });
    // root ignores permission bits, so the render runs as nobody where the test runs as root
    const asNobody = process.getuid?.() === 0 ? 'setpriv --reuid=65534 --regid=65534 --clear-groups ' : '';
    for (const d of [path.dirname(small.catalog), out]) spawnSync('chmod', ['-R', 'a+rX', d]);
    fs.chmodSync(out, 0o555);
    const r = spawnSync('sh', ['-c', `${asNobody}${fwgen} render --catalog "$1" -p "$2" -o "$3"`, 'sh', small.catalog, small.profile(1, 'site'), out], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expectOneLine(r.stderr, /^\/tmp\/\S+: cannot write: permission denied \(EACCES\); nothing in \/tmp\/\S+ was changed$/);
    expect(sameTree(snapshot(path.join(out, 'site')), snapshot(path.join(smallRender, 'site')))).toBe(true);
  });
});
