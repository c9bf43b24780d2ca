import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot, schemaDir, templatesDir } from '../util/paths';
import { append } from '../util/append';

/**
 * What makes this fwgen: its version and a digest of the source, templates and schemas that
 * read and render. A cached catalog or a remembered render is only ever used by the very
 * build that made it: a changed line of code may read the same file differently, whatever
 * the version says. The digest is of src/, the code dist/ is compiled from, so the build and
 * the same code run from src/ (the test runner, which compares the two's output) are one
 * build. The build writes it into dist/ (computing it takes longer than some commands run; an
 * installed package has no src/); code run from src/ computes it once per process.
 */
export const BUILD_IDENTITY_FILE = path.join(__dirname, '..', 'build-identity.txt');

let memo: string | undefined;

export function buildIdentity(): string {
  if (memo !== undefined) return memo;
  let written: string | undefined;
  try {
    written = fs.readFileSync(BUILD_IDENTITY_FILE, 'utf8').trim();
  } catch {
    written = undefined;
  }
  memo = written && /^[0-9a-f]{64}$/.test(written) ? written : computeBuildIdentity();
  return memo;
}

/**
 * The package version, then every source, template and schema file by path and content. Without
 * src/ (a package whose build wrote no identity) the compiled code stands in for it.
 */
export function computeBuildIdentity(): string {
  const hash = createHash('sha256');
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  hash.update(`fwgen ${pkg.version}\n`);
  const source = path.join(packageRoot, 'src');
  const codeRoot = fs.existsSync(source) ? source : path.resolve(__dirname, '..');
  for (const [root, ext] of [[codeRoot, /\.(js|ts)$/], [templatesDir, /\.(hbs|js|json)$/], [schemaDir, /\.json$/]] as const) {
    for (const file of filesUnder(root, ext)) {
      hash.update(`${path.relative(packageRoot, file).split(path.sep).join('/')}\0`);
      hash.update(fs.readFileSync(file));
      hash.update('\0');
    }
  }
  return hash.digest('hex');
}

function filesUnder(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) append(out, filesUnder(full, ext));
    else if (entry.isFile() && ext.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Run by the build after everything else under dist/ is in place. */
if (require.main === module) {
  fs.writeFileSync(BUILD_IDENTITY_FILE, `${computeBuildIdentity()}\n`);
}
