/**
 * What a fleet render says about warnings its sites share: a chain's stores are alike, and each
 * said the same warning (the starter site's Windows "policy drop") once per store, 1,000 lines
 * at 1,000 stores. Each distinct warning is said once, counting the sites it applies to and
 * naming the first few; a render of one site says it as before; errors are still said site by
 * site at their file:line:col. Run with the real binary on `fwgen init`'s workspace.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, runBinary, tempDir } from '../helpers';

const POLICY_DROP = /warning: \[windows\] policy drop: /;

/** `fwgen init`'s workspace with its starter site copied to `count` stores (store-1 ... ), each naming its own hosts, as a chain's stores do. */
function starterFleet(count: number): string {
  const root = tempDir('fwgen-fleet-warnings-');
  const init = runBinary(['init', root, '--site', 'store-1'], root);
  expect(init.status).toBe(0);
  const starter = fs.readFileSync(path.join(root, 'sites', 'store-1.yaml'), 'utf8');
  for (let i = 1; i <= count; i++) {
    const name = `store-${i}`;
    const hosts = `targets:\n  ansible:\n    hosts:\n      back-office-pc: [bo.${name}.example]\n      dns-resolver: [dns.${name}.example]\n`;
    fs.writeFileSync(path.join(root, 'sites', `${name}.yaml`), starter.replace('name: store-1', `name: ${name}`) + hosts);
  }
  return root;
}

const lines = (stderr: string, re: RegExp) => stderr.split('\n').filter((l) => re.test(l));

describe('warnings a fleet shares', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build`');
  });

  test('said once with the sites counted and the first three named; one site as before; a warning of fewer sites names them all', () => {
    const root = starterFleet(5);
    const all = runBinary(['render', '--no-cache'], root);
    expect(all.status).toBe(0);
    const drop = lines(all.stderr, POLICY_DROP);
    expect(drop).toHaveLength(1);
    expect(drop[0]).toMatch(/^5 sites \(store-1, store-2, store-3 and 2 more\): warning: \[windows\] policy drop: back-office-pc\.ps1, dns-resolver\.ps1 set /);
    // The line a site says alone, with the sites in front of it instead of one site's name.
    const alone = runBinary(['render', '--no-cache', 'store-4'], root);
    expect(alone.status).toBe(0);
    const one = lines(alone.stderr, POLICY_DROP);
    expect(one).toHaveLength(1);
    expect(one[0]).toBe(`store-4: ${drop[0]!.slice(drop[0]!.indexOf(': ') + 2)}`);

    const two = runBinary(['render', '--no-cache', 'store-2', 'store-5'], root);
    expect(two.status).toBe(0);
    expect(lines(two.stderr, POLICY_DROP)).toEqual([one[0]!.replace(/^store-4: /, '2 sites (store-2, store-5): ')]);

    // A site whose warning differs (policy accept says nothing; another policy says it for its own files) keeps its own line.
    const store3 = path.join(root, 'sites', 'store-3.yaml');
    fs.writeFileSync(store3, fs.readFileSync(store3, 'utf8').replace('targets:\n  ansible:', 'targets:\n  windows:\n    policy: accept\n  ansible:'));
    const mixed = runBinary(['render', '--no-cache'], root);
    expect(mixed.status).toBe(0);
    expect(lines(mixed.stderr, POLICY_DROP)).toEqual([one[0]!.replace(/^store-4: /, '4 sites (store-1, store-2, store-4 and 1 more): ')]);
  });

  test('the same mistake in several sites: an error at each file:line:col, nothing written', () => {
    const root = starterFleet(3);
    for (const name of ['store-1', 'store-3']) {
      const file = path.join(root, 'sites', `${name}.yaml`);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('targets:\n  ansible:', 'targets:\n  windows:\n    policy: bogus\n  ansible:'));
    }
    const r = runBinary(['render', '--no-cache'], root);
    expect(r.status).toBe(1);
    const at = (name: string) => fs.readFileSync(path.join(root, 'sites', `${name}.yaml`), 'utf8').split('\n').indexOf('    policy: bogus') + 1;
    expect(lines(r.stderr, /bogus/)).toEqual(
      ['store-1', 'store-3'].map((name) => `sites/${name}.yaml:${at(name)}:13: targets.windows.policy: "bogus" is not one of: drop, accept`),
    );
    expect(r.stderr).toMatch(/^fwgen: 2 problems; nothing was written$/m);
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });
});
