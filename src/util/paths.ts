import * as path from 'node:path';

/** The package's own folder (two up from dist/util/, or from src/util/ under the test runner). */
export const packageRoot = path.resolve(__dirname, '..', '..');
export const bundledCatalog = path.join(packageRoot, 'catalog');
export const schemaDir = path.join(bundledCatalog, 'schema');
export const templatesDir = path.join(packageRoot, 'templates');
export const examplesDir = path.join(packageRoot, 'examples');

function inside(parent: string, child: string): string | undefined {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : undefined;
}

/**
 * How a file is named in messages and in rendered headers: relative to `base` (the workspace
 * root, or where the user stands when there is none). Files shipped with fwgen outside the
 * base are named "fwgen/<path in the package>", so output does not depend on where fwgen is
 * installed or run from. The shipped catalog is always "fwgen/catalog/…", also when fwgen
 * sits inside the base (node_modules/fwgen of a workspace, or fwgen's own checkout): rendered
 * files cite it, and two installs of one version must render the same bytes.
 */
export function displayPath(file: string, base: string = process.cwd()): string {
  const abs = path.resolve(file);
  const shipped = inside(bundledCatalog, abs);
  if (shipped !== undefined) return `fwgen/catalog/${shipped}`;
  const rel = path.relative(path.resolve(base), abs);
  if (rel === '') return '.';
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  const inPackage = path.relative(packageRoot, abs);
  if (!inPackage.startsWith('..') && !path.isAbsolute(inPackage)) return `fwgen/${inPackage.split(path.sep).join('/')}`;
  return abs;
}
