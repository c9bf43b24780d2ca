import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../src/errors';
import { formatLock, readLock, writeLockAtomically, type Lock } from '../../src/resolve/lock';
import { spawnSync } from 'node:child_process';
import { examplesRoot, minimalProfile, minimalVendor, runInProcess, tempCatalog, tempDir } from '../helpers';

/** The lock reader: schema with locations, a digest that refuses a file cut short, no TypeError. */
const sample: Lock = {
  profile: 'acme-site',
  selection: 'sha256:0123456789abcdef',
  note: 'made for the test',
  names: new Map([
    ['m42.acme.example', { ipv4: ['192.0.2.1', '192.0.2.2'], ipv6: ['2001:db8::1'], ttl: 3600, cnames: [], server: '127.0.0.1:53', resolvedAt: '2026-11-21T14:22:14.409Z' }],
    [
      'z.acme.example',
      {
        ipv4: ['198.51.100.7'],
        ipv6: ['2001:db8::7'],
        ttl: 60,
        cnames: ['edge.cdn.example'],
        server: '127.0.0.1:53',
        resolvedAt: '2026-11-21T14:22:14.409Z',
        stale: { ipv6: 'AAAA lookup: SERVFAIL at 2026-11-22T00:00:00.000Z; addresses from 2026-11-21T14:22:14.409Z' },
      },
    ],
  ]),
};
const text = formatLock(sample, ['a test lock']);

function read(content: string): unknown {
  const file = path.join(tempDir(), 'site.lock.yaml');
  fs.writeFileSync(file, content);
  try {
    return readLock(file).lock;
  } catch (err) {
    return err;
  }
}

function messages(content: string): string[] {
  const r = read(content);
  if (!(r instanceof InputError)) throw new Error(`expected a located error, got ${r instanceof Error ? r.stack : 'a lock'}`);
  return r.message.split('\n').map((l) => l.replace(/^.*site\.lock\.yaml:/, ''));
}

describe('lock file', () => {
  test('what the writer writes, the reader reads back', () => {
    expect(read(text)).toEqual(sample);
    expect(text).toMatch(/^# a test lock\n/);
    expect(text).toMatch(/\n {2}digest: sha256:[0-9a-f]{64}\n/);
  });

  test('the shipped example locks are valid', () => {
    const locks = fs.readdirSync(examplesRoot).filter((f) => f.endsWith('.lock.yaml'));
    expect(locks.length).toBeGreaterThan(0);
    for (const f of locks) expect(() => readLock(path.join(examplesRoot, f))).not.toThrow();
  });

  test.each([
    ['ipv4 as a string', (t: string) => t.replace(/ipv4:\n\s+- 192\.0\.2\.1\n\s+- 192\.0\.2\.2\n/, 'ipv4: 192.0.2.1\n'), /^\d+:\d+: names\.m42\.acme\.example\.ipv4: "192\.0\.2\.1" must be of type array$/],
    ['ipv4 as a map', (t: string) => t.replace(/ipv4:\n\s+- 192\.0\.2\.1\n\s+- 192\.0\.2\.2\n/, 'ipv4: { a: 192.0.2.1 }\n'), /^\d+:\d+: names\.m42\.acme\.example\.ipv4: .* must be of type array$/],
    ['names as a list', (t: string) => t.replace(/\nnames:\n[\s\S]*$/, '\nnames:\n  - m42.acme.example\n'), /^\d+:\d+: names: .* must be of type object$/],
    ['ttl: soon', (t: string) => t.replace('ttl: 3600', 'ttl: soon'), /^\d+:\d+: names\.m42\.acme\.example\.ttl: "soon" must be of type integer$/],
    ['a negative ttl', (t: string) => t.replace('ttl: 3600', 'ttl: -1'), /ttl: -1 is below the minimum 0$/],
    ['stale as a string', (t: string) => t.replace(/stale:\n\s+ipv6: .*\n/, 'stale: SERVFAIL\n'), /stale: "SERVFAIL" must be of type object$/],
    ['an unknown field', (t: string) => t.replace('ttl: 3600', 'ttl: 3600\n    expires: never'), /^\d+:\d+: names\.m42\.acme\.example\.expires: unknown field 'expires'$/],
    ['a name that is not a host name', (t: string) => t.replace('m42.acme.example:', '"m42 acme/#":'), /names: key "m42 acme\/#" is not a valid name$/],
  ])('%s is a located error', (_what, edit, expected) => {
    const broken = edit(text);
    expect(broken).not.toBe(text);
    expect(messages(broken).some((m) => expected.test(m))).toBe(true);
  });

  test('an address edited by hand no longer matches the digest', () => {
    expect(messages(text.replace('198.51.100.7', '198.51.100.8'))).toEqual([
      expect.stringMatching(/^\d+:\d+: lock\.digest: the file does not match its digest: it was cut short or edited by hand/),
    ]);
  });

  test('a file cut short at any point is refused, never read in part', () => {
    for (let cut = 0; cut < text.length - 1; cut += 7) {
      const r = read(text.slice(0, cut));
      if (!(r instanceof InputError)) throw new Error(`a lock cut at ${cut} of ${text.length} characters was ${r instanceof Error ? `a crash: ${r.stack}` : 'accepted'}`);
    }
    // At a line end too, where the YAML is still well formed.
    const lines = text.split('\n');
    for (let n = 1; n < lines.length - 1; n++) expect(read(lines.slice(0, n).join('\n') + '\n')).toBeInstanceOf(InputError);
  });

  test('writing a lock removes what a killed resolve left, not what a running one is writing', () => {
    const dir = tempDir();
    const file = path.join(dir, 'site.lock.yaml');
    const dead = spawnSync('true').pid;
    fs.writeFileSync(`${file}.tmp-${dead}`, 'half a lock');
    fs.writeFileSync(`${file}.tmp-${process.ppid}`, 'being written');
    writeLockAtomically(file, text);
    expect(fs.readdirSync(dir).sort()).toEqual(['site.lock.yaml', `site.lock.yaml.tmp-${process.ppid}`]);
    expect(read(text)).toEqual(sample);
  });

  test('a lock of an earlier version says to resolve again', () => {
    expect(messages(text.replace('version: 2', 'version: 1'))[0]).toMatch(/lock\.version: lock version 1 was written by an earlier fwgen; run fwgen resolve --migrate to keep its addresses in a current lock \(or delete this file and run fwgen resolve again\)$/);
  });

  test('validate checks a lock file named on the command line', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'good.lock.yaml'), text);
    fs.writeFileSync(path.join(dir, 'bad.lock.yaml'), text.replace('ipv4:\n      - 192.0.2.1\n      - 192.0.2.2\n', 'ipv4: 192.0.2.1\n'));
    expect((await runInProcess(['validate', path.join(dir, 'good.lock.yaml')])).status).toBe(0);
    const bad = await runInProcess(['validate', path.join(dir, 'bad.lock.yaml')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad\.lock\.yaml:\d+:\d+: names\.m42\.acme\.example\.ipv4: "192\.0\.2\.1" must be of type array\n/);
  });

  test('render reports a broken lock as file:line:col, exit 1, nothing written', async () => {
    const site = tempCatalog({ 'acme.yaml': minimalVendor });
    const profile = path.join(site, 'site.yaml');
    fs.writeFileSync(profile, minimalProfile);
    fs.writeFileSync(path.join(site, 'site.lock.yaml'), text.replace('ttl: 3600', 'ttl: soon'));
    const out = path.join(site, 'out');
    const r = await runInProcess(['render', '--catalog', site, '-p', profile, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/site\.lock\.yaml:\d+:\d+: names\.m42\.acme\.example\.ttl: "soon" must be of type integer\n/);
    expect(r.stderr).not.toMatch(/TypeError|internal error/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
