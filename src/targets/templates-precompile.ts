import Handlebars from 'handlebars';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { templatesDir } from '../util/paths';
import { compilerRevision, PRECOMPILED_TEMPLATES_DIR, TEMPLATE_OPTIONS, targetTemplates, templateDigest } from './templates';

/**
 * Run by the build (after tsc): writes each target template compiled to plain JS beside the
 * compiled templates.ts, tagged with the digest of the text it was made from, so runs load
 * it instead of compiling the template at every start.
 */
function main(): void {
  for (const rel of targetTemplates()) {
    const text = fs.readFileSync(path.join(templatesDir, rel), 'utf8');
    const spec = Handlebars.precompile(text, TEMPLATE_OPTIONS);
    const file = path.join(PRECOMPILED_TEMPLATES_DIR, `${rel}.js`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `'use strict';\nmodule.exports = { digest: ${JSON.stringify(templateDigest(text))}, revision: ${compilerRevision(Handlebars)}, spec: ${String(spec)} };\n`);
  }
}

main();
