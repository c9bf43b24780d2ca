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
    const code = standaloneCode(ajv, ajv.compile(JSON.parse(text)));
    fs.writeFileSync(path.join(PRECOMPILED_DIR, `${name}.js`), `${code}\nmodule.exports.digest = ${JSON.stringify(schemaDigest(text))};\n`);
  }
}

main();
