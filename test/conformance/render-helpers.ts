import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSite } from '../../src/render/site';
import { targets } from '../../src/targets/registry';
import { writeOutput } from '../../src/output';
import { catalogRoot, tempDir } from '../helpers';

/** Renders a profile for every target into a fresh folder and returns that folder. */
export function renderToTemp(profileFile: string, catalog = catalogRoot): { dir: string; profile: string; files: string[] } {
  const result = renderSite(catalog, profileFile, targets);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
  const dir = tempDir('fwgen-render-');
  writeOutput(dir, result.files, []);
  return { dir: path.join(dir, result.policy.profile.name), profile: result.policy.profile.name, files: result.files.map((f) => f.path.split('/').slice(1).join('/')) };
}

export function filesOf(dir: string, target: string, pattern: RegExp): string[] {
  const d = path.join(dir, target);
  if (!fs.existsSync(d)) return [];
  return fs.readdirSync(d).filter((f) => pattern.test(f)).sort().map((f) => path.join(d, f));
}
