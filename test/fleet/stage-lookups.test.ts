/**
 * A site's first render stages files under a folder that is not in the output yet: that folder
 * is looked up once, and none of the site's files is looked up again (each lookup of a missing
 * path walks it from the output folder down, and a fleet has ten thousand sites of 28 files).
 */
import * as path from 'node:path';
import { SetStager } from '../../src/output';
import { tempDir } from '../helpers';

// The module itself, not an import namespace over it (a read-only view a spy cannot replace).
const fs = require('node:fs') as typeof import('node:fs');

const siteFiles = (site: string) =>
  ['policy.json', 'nftables/a.nft', 'nftables/b.nft', 'ansible/site.yml', 'ansible/vars/linux.yml', 'ansible/tasks/linux-apply.yml'].map((rel) => ({
    path: `${site}/${rel}`,
    content: `${site} ${rel}\n`,
  }));

/** The lstat calls made on paths under `root` while `run` runs. */
function lookupsUnder(root: string, run: () => void): string[] {
  const seen: string[] = [];
  const real = fs.lstatSync;
  const spy = jest.spyOn(fs, 'lstatSync').mockImplementation(((p: import('node:fs').PathLike, o?: import('node:fs').StatSyncOptions) => {
    if (String(p).startsWith(root)) seen.push(path.relative(root, String(p)));
    return real(p, o);
  }) as typeof fs.lstatSync);
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return seen;
}

describe('staging a first render', () => {
  test('each site folder missing from the output is looked up once, its files not at all', () => {
    const root = tempDir('fwgen-out-');
    const stage = path.join(tempDir('fwgen-stage-'), 'stage');
    fs.mkdirSync(stage);
    const stager = new SetStager(root, stage);
    const sites = ['store-1', 'store-2', 'store-3'];
    const changes: string[][] = [];
    const seen = lookupsUnder(root, () => {
      for (const site of sites) changes.push(stager.add(siteFiles(site), [site]).write);
    });
    stager.finish();
    stager.close();
    expect(seen.sort()).toEqual(sites);
    expect(changes).toEqual(sites.map((s) => siteFiles(s).map((f) => f.path)));
    for (const site of sites) for (const f of siteFiles(site)) expect(fs.readFileSync(path.join(stage, f.path), 'utf8')).toBe(f.content);
  });

  test('a file already in the output with the same content is unchanged, one that differs is staged', () => {
    const root = tempDir('fwgen-out-');
    const stage = path.join(tempDir('fwgen-stage-'), 'stage');
    fs.mkdirSync(stage);
    const files = siteFiles('store-1');
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(root, f.path)), { recursive: true });
      fs.writeFileSync(path.join(root, f.path), f === files[1] ? 'edited\n' : f.content);
    }
    const stager = new SetStager(root, stage);
    const changes = stager.add(files, ['store-1']);
    stager.finish();
    stager.close();
    expect(changes.write).toEqual([files[1]!.path]);
    expect(changes.unchanged).toEqual(files.filter((f) => f !== files[1]).map((f) => f.path));
  });
});
