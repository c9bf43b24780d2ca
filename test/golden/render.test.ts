import * as fs from 'node:fs';
import * as path from 'node:path';
import { listFiles } from '../../src/output';
import { renderSite } from '../../src/render/site';
import { targets } from '../../src/targets/registry';
import { exampleProfiles } from '../../src/workspace';
import { expectGolden } from '../golden';
import { catalogRoot, repoRoot } from '../helpers';

/** out/ holds the examples rendered; it doubles as the golden files, compared byte for byte. */
const outDir = path.join(repoRoot, 'out');

const cases = exampleProfiles().flatMap((profile) => targets.map((t) => [path.basename(profile, '.yaml'), t.id, profile] as const));

describe('golden output per example and target', () => {
  test.each(cases)('%s / %s', (_name, targetId, profile) => {
    const result = renderSite(catalogRoot, profile, targets.filter((t) => t.id === targetId));
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.files.length).toBeGreaterThan(0);
    for (const f of result.files) expectGolden(path.join(outDir, f.path), f.content);
    const folder = path.join(outDir, result.policy.profile.name, targetId);
    const expected = result.files.map((f) => path.join(outDir, f.path)).sort();
    expect(listFiles(folder).filter((f) => !f.endsWith('.actual'))).toEqual(expected);
  });

  test('rendering twice gives byte-identical files', () => {
    for (const profile of exampleProfiles()) {
      const a = renderSite(catalogRoot, profile, targets).files;
      const b = renderSite(catalogRoot, profile, targets).files;
      expect(b).toEqual(a);
    }
  });

  test('no file carries a timestamp', () => {
    for (const file of listFiles(outDir)) {
      expect(fs.readFileSync(file, 'utf8')).not.toMatch(/20\d\d-\d\d-\d\dT\d\d:\d\d/);
    }
  });
});
