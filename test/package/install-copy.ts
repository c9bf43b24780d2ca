import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers';

/** What a user's install of fwgen holds (package.json "files", with package.json itself). */
const PACKAGE_FILES = ['package.json', 'bin', 'dist', 'templates', 'catalog'];

/**
 * fwgen installed at `dir` as a copy of this build (dist/ must be built), its dependencies
 * linked from this checkout: another install path of the same version. `edit` changes files
 * of the copy (path inside the package → new text), as an upgrade that ships another catalog.
 * Returns the copy's bin/fwgen.js.
 */
export function installCopy(dir: string, edit: Record<string, (text: string) => string> = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of PACKAGE_FILES) fs.cpSync(path.join(repoRoot, f), path.join(dir, f), { recursive: true });
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  for (const [rel, change] of Object.entries(edit)) {
    const file = path.join(dir, rel);
    const before = fs.readFileSync(file, 'utf8');
    const after = change(before);
    if (after === before) throw new Error(`the edit of ${rel} changed nothing`);
    fs.writeFileSync(file, after);
  }
  return path.join(dir, 'bin', 'fwgen.js');
}
