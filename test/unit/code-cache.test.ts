/**
 * The code cache the build makes (dist/code-cache): used only for a module's very text, only
 * read at run time, and fwgen behaves the same with it, without it, and with a broken one.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { snapshot } from '../faults/tree';
import { repoRoot, tempDir } from '../helpers';

const dist = path.join(repoRoot, 'dist');
const built = path.join(dist, 'code-cache');
// The cache maps files of the built package: the test loads the built loader, as bin/ does.
const codeCache = require(path.join(dist, 'startup', 'code-cache.js')) as typeof import('../../src/startup/code-cache');

/** Runs fwgen in a fresh node: with the cache in `cacheDir`, or with none. */
function fwgen(args: string[], cacheDir: string | undefined, cwd = repoRoot) {
  const script = [
    cacheDir === undefined ? '' : `require(${JSON.stringify(path.join(dist, 'startup', 'code-cache.js'))}).useCodeCache(${JSON.stringify(cacheDir)});`,
    `require(${JSON.stringify(path.join(dist, 'cli.js'))}).run(process.argv.slice(1)).then((c) => { process.exitCode = c; });`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['-e', script, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the code cache', () => {
  const cache = codeCache.readCodeCache(built)!;

  test('the build made one for this Node, holding what a render loads', () => {
    // Node before 20.12 cannot keep import() working in a cached module: no cache there.
    expect(codeCache.codeCacheSupported).toBe(true);
    expect(cache).toBeDefined();
    for (const key of ['dist/cli.js', 'dist/render/site.js', 'dist/targets/nftables.js', 'dist/targets/ansible.js', 'dist/output/journal.js']) {
      expect(cache.index.files[key]).toBeDefined();
    }
  });

  test('a module is served only for the text it was made from, and only CommonJS', () => {
    const file = path.join(dist, 'cli.js');
    const text = fs.readFileSync(file, 'utf8');
    expect(codeCache.cachedDataFor(cache, file, text)).toBeInstanceOf(Buffer);
    expect(codeCache.cachedDataFor(cache, file, text.replace('use strict', 'use strict '))).toBeUndefined();
    expect(codeCache.cachedDataFor(cache, file, text, 'module')).toBeUndefined();
    expect(codeCache.cachedDataFor(cache, path.join(dist, 'no-such.js'), text)).toBeUndefined();
  });

  test('missing, or made by another V8: not used', () => {
    expect(codeCache.readCodeCache(tempDir())).toBeUndefined();
    const other = tempDir();
    fs.writeFileSync(path.join(other, 'index.json'), JSON.stringify({ ...cache.index, v8: '0.0.0' }));
    fs.copyFileSync(path.join(built, 'cache.bin'), path.join(other, 'cache.bin'));
    expect(codeCache.readCodeCache(other)).toBeUndefined();
  });

  test('with it, without it, and with its bytes broken, fwgen prints and writes the same', () => {
    const broken = tempDir();
    fs.copyFileSync(path.join(built, 'index.json'), path.join(broken, 'index.json'));
    fs.writeFileSync(path.join(broken, 'cache.bin'), Buffer.alloc(fs.statSync(path.join(built, 'cache.bin')).size, 0x5a));
    const before = fs.statSync(path.join(built, 'cache.bin')).mtimeMs;
    const profile = path.join(repoRoot, 'examples', 'eu-restaurant-aloha.yaml');
    for (const args of [['--version'], ['--help'], ['render', '--help'], ['no-such-command']]) {
      const plain = fwgen(args, undefined);
      expect(fwgen(args, built)).toEqual(plain);
      expect(fwgen(args, broken)).toEqual(plain);
    }
    const outs = [undefined, built, broken].map((dir) => {
      const out = tempDir();
      const r = fwgen(['render', '-p', profile, '-o', out], dir);
      return { ...r, stderr: r.stderr.split(out).join('OUT'), files: snapshot(out) };
    });
    expect(outs[0]!.status).toBe(0);
    expect(outs[0]!.files.size).toBeGreaterThan(10);
    expect(outs[1]).toEqual(outs[0]);
    expect(outs[2]).toEqual(outs[0]);
    // Only read: a read-only install and processes running at once need nothing more.
    expect(fs.statSync(path.join(built, 'cache.bin')).mtimeMs).toBe(before);
  });

  test("a require the build saw resolves from the table, unless node_modules changed since or the file is gone", () => {
    expect(cache.index.packages).toBe(codeCache.packagesStamp());
    const key = codeCache.resolutionKey(path.join(dist, 'cli.js'), './commands/command');
    expect(cache.index.resolved?.[key]).toBe('dist/commands/command.js');
    expect(cache.index.resolved?.[codeCache.resolutionKey(path.join(dist, 'targets', 'templates.js'), 'handlebars/runtime')]).toMatch(/^node_modules\/handlebars\//);
    const cliKey = codeCache.resolutionKey(path.join(dist, 'x.js'), './cli');
    expect(cliKey).toBe('dist\0./cli');
    // Where a module of dist/ that requires './cli' is sent, by a table edited to point elsewhere.
    const probe = (resolved: Record<string, string>, packages?: string) => {
      const dir = tempDir();
      fs.copyFileSync(path.join(built, 'cache.bin'), path.join(dir, 'cache.bin'));
      fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ ...cache.index, resolved, packages: packages ?? cache.index.packages }));
      const parent = path.join(dist, 'resolution-probe.js');
      const script = [
        `const Module = require('node:module');`,
        `require(${JSON.stringify(path.join(dist, 'startup', 'code-cache.js'))}).useCodeCache(${JSON.stringify(dir)});`,
        `const m = new Module(${JSON.stringify(parent)}); m.filename = ${JSON.stringify(parent)}; m.paths = Module._nodeModulePaths(${JSON.stringify(dist)});`,
        `process.stdout.write(Module._resolveFilename('./cli', m, false));`,
      ].join('\n');
      return path.relative(repoRoot, spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' }).stdout);
    };
    const elsewhere = { ...cache.index.resolved, [cliKey]: 'dist/errors.js' };
    expect(probe(elsewhere)).toBe(path.join('dist', 'errors.js'));
    expect(probe(elsewhere, 'another install')).toBe(path.join('dist', 'cli.js'));
    expect(probe({ ...cache.index.resolved, [cliKey]: 'dist/no-such.js' })).toBe(path.join('dist', 'cli.js'));
  });
});
