import * as path from 'node:path';
import { expectGolden } from '../golden';
import { examplesRoot, runInProcess } from '../helpers';
import { exampleProfiles } from '../../src/workspace';

/** What `fwgen list --json` selects for each shipped example, reduced to what decides the rules. */
describe('list --json for each example', () => {
  test.each(exampleProfiles().map((f) => path.basename(f, '.yaml')))('%s', async (name) => {
    const r = await runInProcess(['list', '--json', '--profile', path.join(examplesRoot, `${name}.yaml`)]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    const flows = rows.map((row) => ({
      flow: `${row.vendor}/${row.service}`,
      requirement: row.requirement,
      deviceClasses: row.deviceClasses,
      direction: row.direction,
      protocol: row.protocol,
      ports: row.ports,
      domains: row.domains,
      addresses: row.addresses,
      lists: row.lists,
      peers: row.peers,
      programs: row.programs,
    }));
    expectGolden(path.join(__dirname, 'list', `${name}.json`), JSON.stringify(flows, null, 2) + '\n');
  });
});
