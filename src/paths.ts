import * as path from 'node:path';

/** The package's own folder, whether running from dist/ or from src/ under the test runner. */
export const packageRoot = path.resolve(__dirname, '..');
export const bundledCatalog = path.join(packageRoot, 'catalog');
export const schemaDir = path.join(bundledCatalog, 'schema');
export const templatesDir = path.join(packageRoot, 'templates');
export const examplesDir = path.join(packageRoot, 'examples');

/** Paths in messages are relative to where the user stands, so they can be clicked. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' ? '.' : rel.startsWith('..') ? file : rel;
}
