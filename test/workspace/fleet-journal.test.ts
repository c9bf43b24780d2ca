/**
 * A fleet's render into the output folder of a workspace, cut off right after its journal was
 * committed: the next run completes it. The journal of a render over every site names the
 * folders of sites that are gone, and never fwgen's own folders there (its stage), which a
 * run completing the journal refuses as not of its making.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as journal from '../../src/output/journal';
import { generateFleet } from '../../src/workspace/fleet';
import { repoRoot, runInProcess, tempDir } from '../helpers';

test('a fleet render stopped after its commit is completed by the next run, stale site folders removed', async () => {
  const root = tempDir('fwgen-fleet-journal-');
  const sites = generateFleet(path.join(repoRoot, 'examples/eu-restaurant-aloha.yaml'), path.join(root, 'sites'), 3);
  fs.writeFileSync(path.join(root, 'fwgen.yaml'), 'sites: [sites/*.yaml]\n');
  expect((await runInProcess(['render', '-t', 'nftables'], root)).status).toBe(0);
  // One site leaves the fleet: its folder is stale, and the next render removes it.
  fs.rmSync(sites[2]!);
  fs.rmSync(sites[2]!.replace(/\.yaml$/, '.lock.yaml'), { force: true });
  const gone = path.join(root, 'out', path.basename(sites[2]!, '.yaml'));
  expect(fs.existsSync(gone)).toBe(true);

  const cut = jest.spyOn(journal, 'applyJournal').mockImplementationOnce(() => {
    throw new Error('stopped right after the commit');
  });
  const stopped = await runInProcess(['render', '-t', 'nftables'], root);
  cut.mockRestore();
  expect(stopped.status).not.toBe(0);
  const left = JSON.parse(fs.readFileSync(path.join(root, 'out', journal.JOURNAL_NAME), 'utf8')) as journal.Journal;
  for (const rel of [...left.write, ...left.remove, ...left.prune]) expect(journal.isBookkeeping(rel.split('/')[0]!)).toBe(false);
  expect(left.prune).toContain(`${path.basename(gone)}/nftables`);

  const next = await runInProcess(['render', '-t', 'nftables'], root);
  expect(next.stderr).toMatch(/completed the interrupted render of fwgen pid \d+/);
  expect(next.status).toBe(0);
  // its files are gone (what of the folder fwgen owns is the site's targets and policy.json)
  expect(fs.existsSync(path.join(gone, 'nftables'))).toBe(false);
  expect(fs.existsSync(path.join(gone, 'policy.json'))).toBe(false);
  expect(fs.readdirSync(path.join(root, 'out')).filter((n) => n.startsWith('.fwgen'))).toEqual([]);
});
