/**
 * What render says it wrote: one site's files one by one, as before; a render of several sites
 * one line per site folder it wrote to (10,000 sites listed file by file took 280,000 lines),
 * the fleet's own files and every removal still by name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runInProcess } from '../helpers';
import { storesWorkspace, storeText } from './stores';

function twoSites(): string {
  return storesWorkspace({ 'store-1': storeText('store-1'), 'store-2': storeText('store-2') });
}

/** The lines that say what was written or removed. */
const writeLines = (stderr: string) => stderr.split('\n').filter((l) => /^(wrote|removed) /.test(l));

/** Every file under a folder, relative, sorted. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)).split(path.sep).join('/'));
}

describe('what render reports writing', () => {
  test('several sites: one line per site with its count, the fleet files by name; one site: each file', async () => {
    const root = twoSites();
    const out = path.join('out');
    const all = await runInProcess(['render'], root);
    expect(all.status).toBe(0);
    const files = filesUnder(path.join(root, 'out'));
    const count = (site: string) => files.filter((f) => f.startsWith(`${site}/`)).length;
    const atRoot = files.filter((f) => !f.includes('/')).sort();
    expect(atRoot.length).toBeGreaterThan(0);
    expect(writeLines(all.stderr)).toEqual([
      ...atRoot.map((f) => `wrote ${path.join(out, f)}`),
      `wrote ${path.join(out, 'store-1')}${path.sep} (${count('store-1')} files)`,
      `wrote ${path.join(out, 'store-2')}${path.sep} (${count('store-2')} files)`,
    ].sort());
    expect(all.stderr).toContain(`\n${files.length} written, 0 unchanged, 0 removed\n2 sites, 6 targets\n`);

    // One site named: its files one by one, as a render of one profile lists them.
    fs.rmSync(path.join(root, 'out', 'store-2'), { recursive: true });
    const one = await runInProcess(['render', 'store-2'], root);
    expect(one.status).toBe(0);
    const store2 = filesUnder(path.join(root, 'out', 'store-2')).map((f) => `wrote ${path.join(out, 'store-2', f)}`);
    expect(writeLines(one.stderr).sort()).toEqual(store2.sort());

    // A file a site no longer produces is named when it is removed, in a render of several sites too.
    fs.writeFileSync(path.join(root, 'out', 'store-1', 'nftables', 'old.nft'), 'table inet old {}\n');
    const again = await runInProcess(['render'], root);
    expect(again.status).toBe(0);
    expect(writeLines(again.stderr)).toEqual([`removed ${path.join(out, 'store-1', 'nftables', 'old.nft')}`]);
  });
});
