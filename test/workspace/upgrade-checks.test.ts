/**
 * Upgrading a workspace: validate says every problem at once (a lock an earlier fwgen wrote
 * and what comes after it), two sites of one name are refused by validate and resolve as by
 * render, and a newly required variable names exclude: as the way out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { examplesRoot, runInProcess } from '../helpers';
import { listText, lockText, siteText, vendorText, workspaceText, writeTree } from '../diff/fixture';

function workspace(extra: Record<string, string>): string {
  return writeTree({
    'fwgen.yaml': workspaceText,
    'catalog-local/vendors/acme.yaml': vendorText,
    'catalog-local/lists/acme-edge.yaml': listText,
    'sites/store-1.yaml': siteText,
    'sites/store-1.lock.yaml': lockText('203.0.113.10'),
    ...extra,
  });
}

describe('upgrade checks', () => {
  test('validate and render report a lock an earlier fwgen wrote together with the lock-out after it', async () => {
    // The lock of an earlier version, and a site whose boh-server lost its management answer.
    const root = workspace({
      'sites/store-1.yaml': siteText.replace(/  - \{ check: management-access, deviceClass: boh-server.*\n/, ''),
      'sites/store-1.lock.yaml': lockText('203.0.113.10').replace('version: 2', 'version: 1'),
    });
    for (const cmd of [['validate'], ['render']]) {
      const r = await runInProcess(cmd, root);
      expect(r.status).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^sites\/store-1\.lock\.yaml:\d+:\d+: lock\.version: lock version 1 was written by an earlier fwgen; run fwgen resolve --migrate/);
      expect(lines[1]).toMatch(/^sites\/store-1\.yaml:\d+:\d+: deviceClasses\.boh-server: management-access: /);
      expect(lines[2]).toBe('fwgen: 2 problems; nothing was written');
    }
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });

  test('two sites of one name: validate and resolve refuse them as render does, naming both files', async () => {
    const root = workspace({ 'sites/store-1-copy.yaml': siteText });
    const expected = "sites/store-1.yaml:2:9: profile.name: site name 'store-1' is also used by sites/store-1-copy.yaml; each site needs its own output folder\n";
    for (const cmd of [['validate'], ['render'], ['resolve', '--server', '127.0.0.1:9', '--timeout', '50', '--tries', '1']]) {
      const r = await runInProcess(cmd, root);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`${expected}fwgen: 1 problem; nothing was written\n`);
    }
    // resolve looked nothing up: the copy has no lock, the original's is as it was.
    expect(fs.existsSync(path.join(root, 'sites/store-1-copy.lock.yaml'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'sites/store-1.lock.yaml'), 'utf8')).toBe(lockText('203.0.113.10'));
  });

  test("a site without Secure Trading's DNS servers is told it may exclude the service", async () => {
    const text = fs.readFileSync(path.join(examplesRoot, 'ecommerce-web.yaml'), 'utf8');
    const without = text.replace(/      dns_servers: .*\n/, '');
    const root = writeTree({ 'fwgen.yaml': 'sites: [sites/*.yaml]\n', 'sites/web.yaml': without });
    const r = await runInProcess(['validate'], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^sites\/web\.yaml:\d+:3: vendors\.secure-trading: variable 'dns_servers' is not set; secure-trading\/dns-servers \(fwgen\/catalog\/vendors\/secure-trading\.yaml:\d+:\d+\) needs it: .*; set it under variables, or exclude the service \(exclude: \[dns-servers\]\)\n/,
    );
    // The way out works as said.
    fs.writeFileSync(path.join(root, 'sites/web.yaml'), without.replace('  secure-trading:\n', '  secure-trading:\n    exclude: [dns-servers]\n'));
    expect((await runInProcess(['validate'], root)).status).toBe(0);
  });
});
