/**
 * What `check --update` says it rewrote, as render says it wrote: a fleet's files one line per
 * site folder with its count (10,000 sites listed file by file took 280,000 lines), the
 * fleet's own files and every removal by name; a workspace of one site still each file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runInProcess } from '../helpers';
import { listText, lockText, siteText, vendorText, writeTree } from '../diff/fixture';

const site = siteText.replace(/^ {2}- \{ check: management-access, deviceClass: boh-server, .*\n/m, '');

function workspace(names: string[]): string {
  const files: Record<string, string> = {
    'fwgen.yaml': 'sites: [sites/*.yaml]\ncatalog: [own]\noutput: out\ntargets: [nftables, ansible]\n',
    'own/vendors/acme.yaml': vendorText,
    'own/lists/acme-edge.yaml': listText,
  };
  names.forEach((name, i) => {
    files[`sites/${name}.yaml`] = site.replace('name: store-1', `name: ${name}`);
    files[`sites/${name}.lock.yaml`] = lockText(`203.0.113.${10 + i}`);
  });
  return writeTree(files);
}

/** The lines that say what was rewritten or removed. */
const updateLines = (stderr: string) => stderr.split('\n').filter((l) => /^(updated|removed) /.test(l));

/** Makes two files of a site's folder stale: one edited by hand, one deleted; returns their paths under out/. */
function spoil(root: string, name: string): string[] {
  const folder = path.join(root, 'out', name, 'nftables');
  const [first, second] = fs.readdirSync(folder).sort();
  fs.appendFileSync(path.join(folder, first!), '# edited by hand\n');
  fs.rmSync(path.join(folder, second ?? first!), { force: true });
  return [...new Set([first!, second ?? first!])].map((f) => path.join('out', name, 'nftables', f));
}

describe('what check --update reports rewriting', () => {
  test('a fleet: one line per site folder with its count, a planted file removed by name', async () => {
    const root = workspace(['store-1', 'store-2', 'store-3']);
    expect((await runInProcess(['render'], root)).status).toBe(0);
    const one = spoil(root, 'store-1');
    const two = spoil(root, 'store-3');
    const planted = path.join(root, 'out', 'store-2', 'nftables', 'planted.nft');
    fs.writeFileSync(planted, 'table inet planted {}\n');

    const r = await runInProcess(['check', '--update'], root);
    expect(r.status).toBe(0);
    const count = (files: string[]) => `(${files.length} file${files.length === 1 ? '' : 's'})`;
    expect(updateLines(r.stderr)).toEqual([
      `updated ${path.join(root, 'out', 'store-1')}${path.sep} ${count(one)}`,
      `updated ${path.join(root, 'out', 'store-3')}${path.sep} ${count(two)}`,
      `removed ${planted}`,
    ]);
    expect(fs.existsSync(planted)).toBe(false);
    // What it wrote is what check holds current.
    const again = await runInProcess(['check'], root);
    expect(again.status).toBe(0);
    expect(updateLines(again.stderr)).toEqual([]);
  });

  test('one site: each rewritten file by name, as before', async () => {
    const root = workspace(['store-1']);
    expect((await runInProcess(['render'], root)).status).toBe(0);
    const stale = spoil(root, 'store-1');
    const r = await runInProcess(['check', '--update'], root);
    expect(r.status).toBe(0);
    expect(updateLines(r.stderr)).toEqual(stale.map((f) => `updated ${path.join(root, f)}`).sort());
  });
});
