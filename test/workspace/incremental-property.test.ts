import * as fs from 'node:fs';
import * as path from 'node:path';
import { runInProcess } from '../helpers';
import { seeded } from '../query/packets';
import { commit, git, lockText, siteText } from '../diff/fixture';
import { agree, baseRepo, otherVendor, outFiles, read, reset, SITES, write } from './incremental-fixture';

/*
 * Whatever a change edits (profiles, locks, catalog layer files, files under out/, the render
 * records themselves), committed or left in the working tree, check --base and diff --base
 * must give what rendering every site gives: the same exit code, stale files and report.
 */

type Edit = (repo: string, pick: <T>(xs: T[]) => T) => string;

/** Each edit says what it did, for the message of a failing case. */
const EDITS: Edit[] = [
  (repo, pick) => {
    const site = pick(SITES);
    write(repo, `sites/${site}.yaml`, read(repo, `sites/${site}.yaml`).replace(/10\.(\d+)\.0\.0\/28/, '10.$1.0.0/27'));
    return `widen ${site}'s terminals`;
  },
  (repo, pick) => {
    const site = pick(SITES);
    write(repo, `sites/${site}.yaml`, read(repo, `sites/${site}.yaml`) + '# a comment\n');
    return `comment in ${site}'s profile`;
  },
  (repo, pick) => {
    const site = pick(SITES);
    write(repo, `sites/${site}.yaml`, read(repo, `sites/${site}.yaml`).replace(`name: ${site}`, `name: ${pick(SITES)}`));
    return `rename ${site}`;
  },
  (repo, pick) => {
    const site = pick(SITES);
    write(repo, `sites/${site}.yaml`, read(repo, `sites/${site}.yaml`).replace('region: eu', 'region: [eu'));
    return `break ${site}'s YAML`;
  },
  (repo, pick) => {
    const site = pick(SITES);
    write(repo, `sites/${site}.lock.yaml`, lockText(pick(['203.0.113.10', '203.0.113.11', '203.0.113.12'])));
    return `lock of ${site}`;
  },
  (repo, pick) => {
    const site = pick(SITES);
    fs.rmSync(path.join(repo, `sites/${site}.lock.yaml`), { force: true });
    return `remove ${site}'s lock`;
  },
  (repo, pick) => {
    const file = pick(['catalog-local/vendors/acme.yaml', 'catalog-local/vendors/other.yaml']);
    write(repo, file, read(repo, file).replace('ports: [8443]', 'ports: [8443, 9443]'));
    return `port in ${file}`;
  },
  (repo, pick) => {
    const file = pick(['catalog-local/lists/acme-edge.yaml', 'catalog-local/lists/other-edge.yaml']);
    write(repo, file, read(repo, file).replace(/198\.51\.100\.(\d+)\/25/, '198.51.100.$1/26'));
    return `address in ${file}`;
  },
  (repo) => {
    write(repo, 'catalog-local/vendors/extra.yaml', otherVendor.replace('id: other', 'id: extra').replace('lists: [other-edge]', 'addresses: [192.0.2.128/26]'));
    return 'new vendor file';
  },
  (repo, pick) => {
    const file = pick(['catalog-local/vendors/other.yaml', 'catalog-local/lists/acme-edge.yaml']);
    fs.rmSync(path.join(repo, file), { force: true });
    return `delete ${file}`;
  },
  (repo, pick) => {
    const file = pick(outFiles(repo));
    write(repo, file, read(repo, file) + '\n');
    return `hand edit ${file}`;
  },
  (repo, pick) => {
    const file = pick(outFiles(repo));
    fs.rmSync(path.join(repo, file));
    return `delete ${file}`;
  },
  (repo, pick) => {
    const site = pick(SITES);
    write(repo, `out/${site}/${pick(['nftables', 'ansible', 'windows'])}/stray.txt`, 'planted\n');
    return `planted file in out/${site}`;
  },
  (repo, pick) => {
    // A forged record: the profile changes and the head's record is made to claim it.
    const site = pick(SITES);
    const profile = read(repo, `sites/${site}.yaml`).replace(/10\.(\d+)\.0\.0\/28/, '10.$1.0.0/24');
    write(repo, `sites/${site}.yaml`, profile);
    const text = read(repo, `out/${site}/inputs.json`);
    if (!text.startsWith('{')) return `no record of ${site} to forge`;
    const record = JSON.parse(text) as { profile: { sha256: string } };
    record.profile.sha256 = require('node:crypto').createHash('sha256').update(profile).digest('hex');
    write(repo, `out/${site}/inputs.json`, JSON.stringify(record, null, 1) + '\n');
    return `forged record of ${site}`;
  },
  (repo) => {
    write(repo, 'sites/store-4.yaml', siteText.replace('name: store-1', 'name: store-4').replace('10.1.0.0/28', '10.4.0.0/28'));
    return 'new site';
  },
  (repo, pick) => {
    const site = pick(SITES);
    fs.rmSync(path.join(repo, `sites/${site}.yaml`), { force: true });
    return `remove site ${site}`;
  },
];

/** Edits of out/ only: what a base left stale by hand looks like. */
const OUT_EDITS = EDITS.slice(10, 13);

test('random edits: the same exit code, stale files and report with and without the shortcut', async () => {
  const repo = await baseRepo();
  const cases = Number(process.env.FWGEN_PROPERTY_CASES ?? 5);
  for (let seed = 1; seed <= cases; seed++) {
    const rand = seeded(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
    reset(repo, 'base');
    const did: string[] = [];
    // Sometimes the base itself was left stale by hand (merged without the check).
    if (rand() < 0.25) {
      did.push(`base: ${pick(OUT_EDITS)(repo, pick)}`);
      commit(repo, `base-${seed}`, {});
    } else git(repo, ['tag', '-f', `base-${seed}`]);
    const n = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < n; i++) {
      did.push(pick(EDITS)(repo, pick));
      if (rand() < 0.35 && (await runInProcess(['render'], repo)).status === 0) did.push('render');
      // Committed, staged, or left in the working tree. A new file there is made known to Git
      // (intent to add): the shortcut does not look for untracked files (incremental.test.ts).
      const r = rand();
      if (r < 0.4) {
        git(repo, ['add', '-A']);
        git(repo, ['commit', '-q', '--allow-empty', '-m', `edit ${i}`]);
        did.push('commit');
      } else if (r < 0.6) {
        git(repo, ['add', '-A']);
        did.push('stage');
      } else git(repo, ['add', '--intent-to-add', '-A']);
    }
    await agree(repo, `base-${seed}`, `seed ${seed}: ${did.join('; ')}`, seed % 2 === 1);
  }
}, 600_000);
