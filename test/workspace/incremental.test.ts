import * as fs from 'node:fs';
import * as path from 'node:path';
import { runInProcess } from '../helpers';
import { commit, git, lockText, siteText } from '../diff/fixture';
import { agree, baseRepo, noteOf, read, render, reset, write } from './incremental-fixture';

/*
 * check --base and diff --base skip a site whose render record in the base revision still
 * names what the head holds, and only then: each case checks the note (what was skipped and
 * why) and that the results are those of rendering every site.
 */

const unchanged = (kept: number, rendered: number) => `fwgen: ${kept} site${kept === 1 ? '' : 's'} unchanged since base (same inputs, same committed files), ${rendered} rendered`;

describe('check --base and diff --base', () => {
  let repo: string;

  beforeAll(async () => {
    repo = await baseRepo();
  }, 120_000);

  test('an unchanged workspace: no site rendered, current, no policy change', async () => {
    reset(repo, 'base');
    const { check, diff } = await agree(repo, 'base', 'unchanged', true);
    expect(check.status).toBe(0);
    expect(noteOf(check)).toBe(unchanged(3, 0));
    expect(noteOf(diff)).toBe(unchanged(3, 0));
    expect(diff.stdout).toContain('no policy change');
  }, 120_000);

  test('a profile changed and rendered: only that site is rendered', async () => {
    reset(repo, 'base');
    write(repo, 'sites/store-2.yaml', read(repo, 'sites/store-2.yaml').replace('10.2.0.0/28', '10.2.0.0/27'));
    await render(repo);
    git(repo, ['commit', '-q', '-am', 'store-2']);
    const { check, diff } = await agree(repo, 'base', 'store-2 widened');
    expect(check.status).toBe(0);
    expect(noteOf(check)).toBe(`${unchanged(2, 1)} (1: inputs changed)`);
    expect(noteOf(diff)).toBe(noteOf(check));
  }, 120_000);

  test('a catalog file re-renders exactly the sites whose record names it', async () => {
    reset(repo, 'base');
    write(repo, 'catalog-local/vendors/other.yaml', read(repo, 'catalog-local/vendors/other.yaml').replace('ports: [5938]', 'ports: [5939]'));
    await render(repo);
    const { check, diff } = await agree(repo, 'base', 'other vendor changed', true);
    expect(check.status).toBe(0);
    expect(noteOf(check)).toBe(`${unchanged(2, 1)} (1: inputs changed)`);
    expect(diff.stdout).toContain('store-3: changed');
  }, 120_000);

  test('a catalog file deleted, or a new one: every site is rendered', async () => {
    reset(repo, 'base');
    fs.rmSync(path.join(repo, 'catalog-local/vendors/other.yaml'));
    const gone = await agree(repo, 'base', 'vendor file deleted');
    expect(gone.check.status).toBe(1); // store-3 names a vendor that is gone
    expect(noteOf(gone.check)).toBe('fwgen: every site rendered (a catalog file was added or removed since base)');
    reset(repo, 'base');
    // A new layer file changes what a site may select (a vendor by that id would now be found).
    write(repo, 'catalog-local/vendors/extra.yaml', read(repo, 'catalog-local/vendors/other.yaml').replace('id: other', 'id: extra'));
    const added = await agree(repo, 'base', 'vendor file added');
    // No site names the new vendor, so no record changes; but each site is rendered to know that.
    expect(added.check.status).toBe(0);
    expect(noteOf(added.check)).toBe('fwgen: every site rendered (a catalog file was added or removed since base)');
  }, 120_000);

  test('a hand edit under out/ of an unchanged site, committed or not, is caught', async () => {
    for (const committed of [true, false]) {
      reset(repo, 'base');
      const nft = `out/store-1/nftables/${fs.readdirSync(path.join(repo, 'out/store-1/nftables'))[0]!}`;
      write(repo, nft, read(repo, nft) + '# hand edit\n');
      if (committed) git(repo, ['commit', '-q', '-am', 'hand edit']);
      const { check } = await agree(repo, 'base', `hand edit ${committed ? 'committed' : 'in the working tree'}`);
      expect(check.status).toBe(2);
      expect(check.stderr).toContain(nft.slice('out/'.length));
      expect(noteOf(check)).toBe(`${unchanged(2, 1)} (1: files under the output folder differ from the base)`);
    }
  }, 120_000);

  test('a file planted under out/<site>/, committed or staged, is caught; an untracked one is left to check without --base', async () => {
    const planted = 'out/store-2/nftables/planted.nft';
    for (const how of ['committed', 'staged']) {
      reset(repo, 'base');
      write(repo, planted, 'table inet planted { chain input { type filter hook input priority 0; accept; } }\n');
      git(repo, ['add', '-A']);
      if (how === 'committed') git(repo, ['commit', '-q', '-m', 'planted']);
      const { check } = await agree(repo, 'base', `planted file, ${how}`);
      expect(check.status).toBe(2);
      expect(check.stderr).toContain('store-2/nftables/planted.nft');
      expect(noteOf(check)).toBe(`${unchanged(2, 1)} (1: files under the output folder differ from the base)`);
    }
    // Not part of the commit CI checks (a fresh checkout holds none): the shortcut does not walk every folder for it.
    reset(repo, 'base');
    write(repo, planted, 'table inet planted {}\n');
    const quick = await runInProcess(['check', '--base', 'base'], repo);
    expect(quick.status).toBe(0);
    const full = await runInProcess(['check', '--base', 'base', '--full'], repo);
    expect(full.status).toBe(2);
    expect(full.stderr).toContain('store-2/nftables/planted.nft');
  }, 120_000);

  test('a profile or lock edited in the working tree, staged or not, its size and time kept, is read, not taken from the base', async () => {
    const edits: Array<[string, (text: string) => string]> = [
      ['sites/store-2.yaml', (text) => text.replace('10.2.0.0/28', '10.2.0.0/27')],
      ['sites/store-2.lock.yaml', () => lockText('203.0.113.11')],
    ];
    for (const [file, edit] of edits) {
      for (const staged of [false, true]) {
        reset(repo, 'base');
        const full = path.join(repo, file);
        const before = fs.statSync(full);
        const text = edit(read(repo, file));
        expect(text).not.toBe(read(repo, file));
        expect(text.length).toBe(before.size);
        write(repo, file, text);
        fs.utimesSync(full, before.atime, before.mtime); // the same size and modification time as before
        if (staged) git(repo, ['add', file]);
        const { check } = await agree(repo, 'base', `${file} edited${staged ? ', staged' : ''}`);
        expect(check.status).toBe(2);
        expect(noteOf(check)).toBe(`${unchanged(2, 1)} (1: inputs changed)`);
      }
    }
  }, 240_000);

  test('a lock beside a profile is looked for as the workspace walk found it: one added where the base had none, one deleted or made a folder, are seen', async () => {
    // A site of the base without a lock: one that names only the vendor reached by address.
    reset(repo, 'base');
    const bare = read(repo, 'sites/store-3.yaml').replace('name: store-3', 'name: store-4').replace('  acme: {}\n', '').replace('10.3.0.0/28', '10.4.0.0/28');
    expect(bare).not.toContain('acme: {}');
    write(repo, 'sites/store-4.yaml', bare);
    await render(repo);
    commit(repo, 'no-lock', {});
    const kept = await agree(repo, 'no-lock', 'nothing changed since a base with a site without a lock');
    expect(noteOf(kept.check)).toBe('fwgen: 4 sites unchanged since no-lock (same inputs, same committed files), 0 rendered');

    const edits: Array<[string, () => void]> = [
      ['a lock added, untracked', () => write(repo, 'sites/store-4.lock.yaml', lockText('203.0.113.10'))],
      ['a lock deleted', () => fs.rmSync(path.join(repo, 'sites/store-2.lock.yaml'))],
      ['a lock made a folder', () => {
        fs.rmSync(path.join(repo, 'sites/store-2.lock.yaml'));
        fs.mkdirSync(path.join(repo, 'sites/store-2.lock.yaml'));
      }],
    ];
    for (const [what, edit] of edits) {
      reset(repo, 'no-lock');
      edit();
      const { check } = await agree(repo, 'no-lock', what);
      expect({ what, note: noteOf(check) }).toEqual({ what, note: 'fwgen: 3 sites unchanged since no-lock (same inputs, same committed files), 1 rendered (1: inputs changed)' });
    }
    git(repo, ['tag', '-d', 'no-lock']);
  }, 240_000);

  test("the fleet's files: a hand edit, committed, staged or not, a deleted one and a site's new entry are caught", async () => {
    for (const how of ['committed', 'staged', 'in the working tree']) {
      reset(repo, 'base');
      write(repo, 'out/inventory.yml', read(repo, 'out/inventory.yml').replace('store_2', 'store_9'));
      if (how !== 'in the working tree') git(repo, ['add', '-A']);
      if (how === 'committed') git(repo, ['commit', '-q', '-m', 'inventory edit']);
      const { check } = await agree(repo, 'base', `inventory edited, ${how}`);
      expect(check.status).toBe(2);
      expect(check.stderr).toContain('inventory.yml (differs)');
      expect(noteOf(check)).toBe(unchanged(3, 0));
    }
    reset(repo, 'base');
    fs.rmSync(path.join(repo, 'out/site.yml'));
    const gone = await agree(repo, 'base', 'site.yml deleted');
    expect(gone.check.status).toBe(2);
    expect(gone.check.stderr).toContain('site.yml (missing)');

    // The host of a single address is named by it: the site's fleet entry changes with it.
    reset(repo, 'base');
    write(repo, 'sites/store-2.yaml', read(repo, 'sites/store-2.yaml').replace('10.1.0.20', '10.1.0.21'));
    const moved = await agree(repo, 'base', 'a host moved, not rendered');
    expect(moved.check.status).toBe(2);
    expect(moved.check.stderr).toContain('inventory.yml (differs)');
    await render(repo);
    expect(read(repo, 'out/inventory.yml')).toContain('10.1.0.21');
    const rendered = await agree(repo, 'base', 'a host moved, rendered');
    expect(rendered.check.status).toBe(0);
    expect(noteOf(rendered.check)).toBe(`${unchanged(2, 1)} (1: inputs changed)`);
  }, 120_000);

  test("a kept site's fleet entry is read from its base record only when the inventory is made again", async () => {
    reset(repo, 'base');
    const rel = 'out/store-1/inputs.json';
    // A base whose record of store-1 holds an entry that is no JSON (a base that never passed check).
    write(repo, rel, read(repo, rel).replace('"fleet": {', '"fleet": {{'));
    git(repo, ['add', '-A']);
    git(repo, ['-c', 'core.hooksPath=/dev/null', 'commit', '-q', '-m', 'broken entry']);
    git(repo, ['tag', 'broken-entry']);
    // store-2's entry changes, so the inventory is made of every entry, store-1's included.
    write(repo, 'sites/store-2.yaml', read(repo, 'sites/store-2.yaml').replace('10.1.0.20', '10.1.0.21'));
    const made = await runInProcess(['check', '--base', 'broken-entry'], repo);
    expect(made.status).toBe(1);
    expect(made.stderr).toContain("broken-entry:out/store-1/inputs.json: the record's fleet entry cannot be read; run again with --full");
    git(repo, ['tag', '-d', 'broken-entry']);
  }, 120_000);

  test('a site deleted, and a site renamed', async () => {
    reset(repo, 'base');
    fs.rmSync(path.join(repo, 'sites/store-2.yaml'));
    fs.rmSync(path.join(repo, 'sites/store-2.lock.yaml'));
    const stale = await agree(repo, 'base', 'site deleted, not rendered');
    expect(stale.check.status).toBe(2);
    expect(stale.check.stderr).toContain('store-2/policy.json');
    expect(stale.check.stderr).toContain('store-2/inputs.json');
    await render(repo);
    const gone = await agree(repo, 'base', 'site deleted and rendered');
    expect(gone.check.status).toBe(0);
    expect(noteOf(gone.check)).toBe(unchanged(2, 0));
    expect(gone.diff.stdout).toContain('store-2: removed');

    reset(repo, 'base');
    write(repo, 'sites/store-2.yaml', read(repo, 'sites/store-2.yaml').replace('name: store-2', 'name: store-9'));
    await render(repo);
    const renamed = await agree(repo, 'base', 'site renamed');
    expect(renamed.check.status).toBe(0);
    expect(noteOf(renamed.check)).toBe(`${unchanged(2, 1)} (1: inputs changed)`);

    reset(repo, 'base');
    // Renamed onto a site that is kept: the clash is reported as a full render reports it.
    write(repo, 'sites/store-2.yaml', read(repo, 'sites/store-2.yaml').replace('name: store-2', 'name: store-1'));
    const clash = await agree(repo, 'base', 'site renamed onto another');
    expect(clash.check.status).toBe(1);
    expect(noteOf(clash.check)).toBe('fwgen: every site rendered (a site name is claimed twice)');
  }, 120_000);

  test('a base that is not an ancestor of the head', async () => {
    reset(repo, 'base');
    git(repo, ['checkout', '-q', '-b', 'side']);
    write(repo, 'sites/store-1.yaml', read(repo, 'sites/store-1.yaml').replace('10.1.0.0/28', '10.1.0.0/26'));
    await render(repo);
    commit(repo, 'side', {});
    git(repo, ['checkout', '-q', 'main']);
    write(repo, 'sites/store-2.yaml', read(repo, 'sites/store-2.yaml') + '# a comment\n');
    await render(repo);
    const { check } = await agree(repo, 'side', 'base on a side branch');
    expect(check.status).toBe(0);
    expect(noteOf(check)).toBe('fwgen: 1 site unchanged since side (same inputs, same committed files), 2 rendered (2: inputs changed)');
    git(repo, ['tag', '-d', 'side']);
    git(repo, ['branch', '-q', '-D', 'side']);
  }, 120_000);

  test('a base without render records, or rendered by another fwgen: every site is rendered', async () => {
    reset(repo, 'base');
    git(repo, ['rm', '-q', 'out/store-1/inputs.json', 'out/store-2/inputs.json', 'out/store-3/inputs.json']);
    commit(repo, 'older', {});
    const none = await agree(repo, 'older', 'no records');
    expect(noteOf(none.check)).toBe('fwgen: every site rendered (older holds no render records (rendered by an older fwgen, or never rendered))');
    expect(none.check.status).toBe(2); // the head lacks them too
    git(repo, ['tag', '-d', 'older']);

    reset(repo, 'base');
    for (const site of ['store-1', 'store-2', 'store-3']) {
      const rel = `out/${site}/inputs.json`;
      write(repo, rel, read(repo, rel).replace(/"fwgen": "[^"]*"/, '"fwgen": "another build"'));
    }
    commit(repo, 'other-build', {});
    const other = await agree(repo, 'other-build', 'another build');
    expect(noteOf(other.check)).toBe('fwgen: 0 sites unchanged since other-build (same inputs, same committed files), 3 rendered (3: inputs changed)');
    expect(other.check.status).toBe(2);
    expect(other.check.stderr).toContain('store-1/inputs.json');
    git(repo, ['tag', '-d', 'other-build']);
  }, 120_000);

  test('a record forged in the head is not believed', async () => {
    reset(repo, 'base');
    const profile = read(repo, 'sites/store-1.yaml').replace('10.1.0.0/28', '10.1.0.0/24');
    write(repo, 'sites/store-1.yaml', profile);
    const record = JSON.parse(read(repo, 'out/store-1/inputs.json')) as { profile: { sha256: string } };
    record.profile.sha256 = require('node:crypto').createHash('sha256').update(profile).digest('hex');
    write(repo, 'out/store-1/inputs.json', JSON.stringify(record, null, 1) + '\n');
    commit(repo, 'forged', {});
    // The base's record of store-1 names the profile it was rendered from: the forged one is compared, not believed.
    const { check } = await agree(repo, 'base', 'forged record in the head');
    expect(check.status).toBe(2);
    expect(check.stderr).toContain('store-1/inputs.json');
    expect(noteOf(check)).toBe(`${unchanged(2, 1)} (1: inputs changed)`);
    git(repo, ['tag', '-d', 'forged']);
  }, 120_000);
});

test('the starter text the fixture edits is there', () => {
  expect(siteText).toContain('10.1.0.0/28');
});
