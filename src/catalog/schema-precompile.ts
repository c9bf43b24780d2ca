import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { schemaDir } from '../util/paths';
import { AJV_OPTIONS, PRECOMPILED_DIR, SCHEMA_NAMES, schemaDigest } from './schema';

/**
 * Run by the build (after tsc): writes each schema's validator as plain JS beside the
 * compiled schema.ts, tagged with the digest of the schema text it was made from, so runs
 * load it instead of compiling the schema at every start.
 */
function main(): void {
  fs.mkdirSync(PRECOMPILED_DIR, { recursive: true });
  for (const name of SCHEMA_NAMES) {
    const text = fs.readFileSync(path.join(schemaDir, `${name}.schema.json`), 'utf8');
    const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
    const code = withQuickUniqueness(standaloneCode(ajv, ajv.compile(JSON.parse(text))));
    fs.writeFileSync(path.join(PRECOMPILED_DIR, `${name}.js`), `${code}\nmodule.exports.digest = ${JSON.stringify(schemaDigest(text))};\n`);
  }
}

/** ajv's `uniqueItems` over strings: each item made a key of an object of the items seen. */
const SEEN_OBJECT_CHECK = /let (i\d+) = (data\d+)\.length;let (j\d+);if\(\1 > 1\)\{const (indices\d+) = \{\};/g;

/**
 * Each such check runs only when mayRepeat (unique-items.ts) finds that the array may repeat
 * an item: arrays without repeats skip it, and any other array meets ajv's own code, so
 * results and errors stay ajv's. A check of a shape this does not know fails the build
 * rather than keep its cost unseen.
 */
function withQuickUniqueness(code: string): string {
  const checks = code.split('const indices').length - 1;
  let guarded = 0;
  const out = code.replace(SEEN_OBJECT_CHECK, (_all, i: string, data: string, j: string, seen: string) => {
    guarded++;
    return `let ${i} = ${data}.length;let ${j};if(${i} > 1 && mayRepeat(${data})){const ${seen} = {};`;
  });
  if (guarded !== checks) throw new Error(`schema-precompile: ${checks - guarded} uniqueItems check(s) of an unknown shape`);
  if (guarded === 0) return out;
  const strict = '"use strict";';
  if (!out.startsWith(strict)) throw new Error('schema-precompile: the standalone code does not start with "use strict"');
  return `${strict}const {mayRepeat} = require(${JSON.stringify('../unique-items')});${out.slice(strict.length)}`;
}

main();
