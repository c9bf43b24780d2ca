import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as vm from 'node:vm';
import { cacheable, cacheKey, CODE_CACHE_DIR, codeCacheSupported, compileModule, outside, packagesStamp, runModule, sourceDigest, watchResolutions, type CacheIndex } from './code-cache';
import { examplesDir } from '../util/paths';

/**
 * Run by the build (after tsc and the other steps): runs fwgen in this process on the
 * example restaurant for every target and on --help, compiling each module of the package
 * (dist/ and node_modules/) as a script, then saves V8's code for each: what those runs
 * compiled, so a later run starts with it (see code-cache.ts).
 */
const compiled: Array<{ key: string; digest: string; script: vm.Script }> = [];
const resolved: Record<string, string> = {};

function record(): void {
  const proto = Module.prototype as unknown as { _compile(this: Module, content: string, filename: string, format?: string): unknown };
  const original = proto._compile;
  proto._compile = function (content, filename, format) {
    const key = cacheKey(filename);
    if (!cacheable(content, format) || outside(key)) return original.call(this, content, filename, format);
    const script = compileModule(content, filename);
    compiled.push({ key, digest: sourceDigest(content), script });
    return runModule(this, script, filename);
  };
  watchResolutions((from, to) => {
    resolved[from] = to;
  });
}

function save(): void {
  fs.rmSync(CODE_CACHE_DIR, { recursive: true, force: true });
  fs.mkdirSync(CODE_CACHE_DIR, { recursive: true });
  const index: CacheIndex = { v8: process.versions.v8, arch: process.arch, files: {}, resolved, packages: packagesStamp() };
  const parts: Buffer[] = [];
  let offset = 0;
  for (const { key, digest, script } of compiled) {
    const data = script.createCachedData();
    index.files[key] = { digest, offset, length: data.length };
    parts.push(data);
    offset += data.length;
  }
  fs.writeFileSync(path.join(CODE_CACHE_DIR, 'cache.bin'), Buffer.concat(parts));
  fs.writeFileSync(path.join(CODE_CACHE_DIR, 'index.json'), JSON.stringify(index) + '\n');
}

async function main(): Promise<void> {
  if (!codeCacheSupported) {
    fs.rmSync(CODE_CACHE_DIR, { recursive: true, force: true });
    return;
  }
  record();
  const { run } = require('../cli') as typeof import('../cli');
  const quiet = { out: () => undefined, err: () => undefined };
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fwgen-code-cache-'));
  try {
    // A catalog cache of the run's own, empty: what the cache holds does not hang on what the
    // builder's own cache held (a warm one left the catalog's validators out).
    const render = ['render', '-p', path.join(examplesDir, 'eu-restaurant-aloha.yaml'), '-o', path.join(out, 'out'), '--cache-dir', path.join(out, 'cache')];
    const runs = [['--help'], ['render', '--help'], render];
    for (const argv of runs) {
      // A run that fails still compiled what it loaded; the cache only misses the rest.
      const code = await run(argv, quiet);
      if (code !== 0) console.warn(`code cache: fwgen ${argv.join(' ')} exited ${code}; the cache holds what it loaded`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  save();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
