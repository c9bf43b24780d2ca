import * as fs from 'node:fs';
import * as path from 'node:path';
import { answeredProfile, lockText, minimalVendor, runBinary, tempCatalog } from '../helpers';

/**
 * Every user mistake: one clear line (plus, for usage errors, where to look), exit 1,
 * never a stack trace, nothing written.
 */
describe('user mistakes get a message, not a stack trace', () => {
  const site = tempCatalog({ 'acme.yaml': minimalVendor });
  const profile = path.join(site, 'site.yaml');
  fs.writeFileSync(profile, answeredProfile);
  // Its names pinned, so the render has rules to write and fails only where a test makes it.
  fs.writeFileSync(path.join(site, 'site.lock.yaml'), lockText('acme-site', { 'm42.acme.example': { ipv4: ['192.0.2.1'] } }));
  const notAFolder = path.join(site, 'a-file.txt');
  fs.writeFileSync(notAFolder, 'not a folder');
  const bomb = path.join(site, 'bomb.yaml');
  fs.writeFileSync(
    bomb,
    ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`), 'profile: *h', ''].join('\n'),
  );
  const render = ['render', '--catalog', site, '-p', profile, '--allow-unresolved'];
  const resolve = ['resolve', '--catalog', site, '-p', profile];

  test.each<[string, string[], RegExp]>([
    ['a YAML alias bomb (validate)', ['validate', '--catalog', site, bomb], /^\S*bomb\.yaml:2:\d+: \(document\): YAML: aliases expand to too many values/],
    ['a YAML alias bomb (render)', ['render', '--catalog', site, '-p', bomb], /^\S*bomb\.yaml:2:\d+: \(document\): YAML: aliases expand to too many values/],
    ['--output naming a file', [...render, '--output', notAFolder], /^\S*a-file\.txt: the output must be a folder, and this is a file \(use --output - for stdout\)$/],
    ['--output under a file (ENOTDIR)', [...render, '--output', path.join(notAFolder, 'out')], /^\S*a-file\.txt\/out: cannot write: a part of this path is a file, not a folder \(ENOTDIR\); nothing was written$/],
    ['--output empty', [...render, '--output', ''], /^fwgen: --output takes a folder, or - for stdout$/],
    ['--wait below zero', [...render, '--wait', '-1'], /^fwgen: --wait takes a whole number of at least 0/],
    ['--server not-an-ip', [...resolve, '--server', 'not-an-ip'], /^fwgen: --server 'not-an-ip' is not an IP address/],
    ['--server with port 0', [...resolve, '--server', '127.0.0.1:0'], /^fwgen: --server '127\.0\.0\.1:0': the port must be a number from 1 to 65535$/],
    ['--server with a port too large', [...resolve, '--server', '[::1]:70000'], /^fwgen: --server '\[::1\]:70000': the port must be/],
    ['--server with a word for a port', [...resolve, '--server', '127.0.0.1:dns'], /^fwgen: --server '127\.0\.0\.1:dns': the port must be/],
    ['--server zero-padded', [...resolve, '--server', '010.0.0.1'], /^fwgen: --server '010\.0\.0\.1' is not an IP address/],
    ['--server with a zone id', [...resolve, '--server', 'fe80::1%eth0'], /^fwgen: --server 'fe80::1%eth0': IPv6 zone ids are not supported/],
    ['--timeout not a number', [...resolve, '--timeout', 'soon'], /^fwgen: --timeout takes a whole number of at least 1$/],
    ['--tries 0', [...resolve, '--tries', '0'], /^fwgen: --tries takes a whole number of at least 1 \(got 0\)$/],
    ['--concurrency 1.5', [...resolve, '--concurrency', '1.5'], /^fwgen: --concurrency takes a whole number of at least 1 \(got 1\.5\)$/],
    ['--note with a control character', [...resolve, '--note', 'a\u0007b'], /^fwgen: --note takes one line of text/],
    ['a missing profile', ['render', '--catalog', site, '-p', path.join(site, 'nope.yaml')], /^\S*nope\.yaml: cannot read: no such file or folder \(ENOENT\)$/],
    ['a folder given as the profile', ['render', '--catalog', site, '-p', site], /: cannot read: it is a folder, not a file \(EISDIR\)$/],
    ['a missing catalog', ['list', '--catalog', path.join(site, 'nope')], /nope\/device-classes\.yaml: cannot read: no such file or folder \(ENOENT\)$/],
    ['a file given as the catalog', ['list', '--catalog', notAFolder], /a-file\.txt\/device-classes\.yaml: cannot read: a part of this path is a file, not a folder \(ENOTDIR\)$/],
  ])('%s', (_what, args, first) => {
    const r = runBinary(args);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at |Error:/);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toMatch(first);
    expect(r.status).toBe(1);
    expect(fs.existsSync(path.join(site, 'out'))).toBe(false);
  });

  test('a file where a target folder goes: one line, nothing written, and the next run is not stuck', () => {
    const out = path.join(site, 'blocked');
    fs.mkdirSync(path.join(out, 'acme-site'), { recursive: true });
    fs.writeFileSync(path.join(out, 'acme-site', 'nftables'), 'a file, not a folder');
    const r = runBinary([...render, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l && !/warning/.test(l))).toEqual([
      expect.stringMatching(/blocked\/acme-site\/nftables\/pos-terminal\.nft: cannot write: a part of this path is a file, not a folder \(ENOTDIR\); nothing in \S+blocked was changed$/),
    ]);
    expect(fs.readdirSync(out)).toEqual(['acme-site']);
    fs.rmSync(path.join(out, 'acme-site', 'nftables'));
    expect(runBinary([...render, '-o', out]).status).toBe(0);
  });

  test('--output - as two words works like -o -', () => {
    const two = runBinary([...render, '-t', 'nftables', '--output', '-', '--only', 'pos-terminal.nft']);
    const short = runBinary([...render, '-t', 'nftables', '-o', '-', '--only', 'pos-terminal.nft']);
    expect(two.status).toBe(0);
    expect(two.stdout).toContain('table inet fwgen');
    expect(two).toEqual(short);
  });
});
