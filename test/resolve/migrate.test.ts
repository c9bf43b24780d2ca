/**
 * A lock written by an earlier fwgen (version 1: no digest, one stale line per name) is
 * refused by render with the way out, and fwgen resolve --migrate carries its reviewed
 * addresses into a current lock without looking anything up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readLock } from '../../src/resolve/lock';
import { selectionDigest } from '../../src/resolve/update-lock';
import { runInProcess } from '../helpers';
import { listText, siteText, vendorText, writeTree, workspaceText } from '../diff/fixture';

/** A version-1 lock as fwgen 0.1 before lock version 2 wrote it: comment header, no digest. */
function v1Lock(address: string, stale?: string): string {
  return [
    '# fwgen lock for profile store-1 (sites/store-1.yaml), made by fwgen resolve.',
    '# fwgen render reads addresses from this file only, never from DNS. Review a change here like code:',
    '# a moved address changes what the firewall allows.',
    '# Note: reviewed by the network team',
    'lock:',
    '  version: 1',
    '  profile: store-1',
    `  selection: ${selectionDigest(['api.acme.example'])}`,
    '  note: reviewed by the network team',
    'names:',
    '  api.acme.example:',
    '    ipv4:',
    `      - ${address}`,
    '    ipv6:',
    '      - 2001:db8:53::11',
    '    ttl: 3600',
    '    cnames: []',
    '    server: 192.0.2.53:53',
    '    resolvedAt: 2026-10-02T08:00:00.000Z',
    ...(stale ? [`    stale: ${JSON.stringify(stale)}`] : []),
    '',
  ].join('\n');
}

function workspace(lock: string): string {
  return writeTree({
    'fwgen.yaml': workspaceText,
    'catalog-local/vendors/acme.yaml': vendorText,
    'catalog-local/lists/acme-edge.yaml': listText,
    'sites/store-1.yaml': siteText,
    'sites/store-1.lock.yaml': lock,
  });
}

describe('fwgen resolve --migrate', () => {
  test('render refuses a version-1 lock and names --migrate; --migrate keeps its addresses, looks nothing up, and render then uses them', async () => {
    const root = workspace(v1Lock('198.51.100.17', 'lookup failed: SERVFAIL; addresses from 2026-10-01T08:00:00.000Z'));
    const lockFile = path.join(root, 'sites/store-1.lock.yaml');
    const refused = await runInProcess(['render'], root);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      'sites/store-1.lock.yaml:6:12: lock.version: lock version 1 was written by an earlier fwgen; run fwgen resolve --migrate to keep its addresses in a current lock',
    );
    // A server that answers nothing: a lookup would fail, and --migrate makes none.
    const r = await runInProcess(['resolve', '--migrate', '--server', '127.0.0.1:9', '--timeout', '50', '--tries', '1'], root);
    expect(r).toMatchObject({ status: 0, stdout: '' });
    expect(r.stderr).toBe(`wrote ${lockFile}: version 1 to 2, 1 name and their addresses kept\n`);
    const { lock } = readLock(lockFile);
    expect(lock.note).toBe('reviewed by the network team');
    expect(lock.selection).toBe(selectionDigest(['api.acme.example']));
    expect(lock.names.get('api.acme.example')).toEqual({
      ipv4: ['198.51.100.17'],
      ipv6: ['2001:db8:53::11'],
      ttl: 3600,
      cnames: [],
      server: '192.0.2.53:53',
      resolvedAt: '2026-10-02T08:00:00.000Z',
      // Version 1 marked the whole name stale: both families are.
      stale: { ipv4: 'lookup failed: SERVFAIL; addresses from 2026-10-01T08:00:00.000Z', ipv6: 'lookup failed: SERVFAIL; addresses from 2026-10-01T08:00:00.000Z' },
    });
    const rendered = await runInProcess(['render', '-t', 'nftables'], root);
    expect(rendered.status).toBe(0);
    expect(fs.readFileSync(path.join(root, 'out/store-1/nftables/pos-terminal.nft'), 'utf8')).toContain('198.51.100.17');
    // A second run finds a current lock and leaves it byte for byte.
    const text = fs.readFileSync(lockFile, 'utf8');
    const again = await runInProcess(['resolve', '--migrate'], root);
    expect(again).toMatchObject({ status: 0, stderr: `${lockFile} is current (version 2); left as it was\n` });
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(text);
  });

  test('a version-1 lock with a bad address is a located error and stays as it was', async () => {
    const bad = v1Lock('198.51.100.300');
    const root = workspace(bad);
    const r = await runInProcess(['resolve', '--migrate'], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^sites\/store-1\.lock\.yaml:13:9: names\.api\.acme\.example\.ipv4\[0\]: .*198\.51\.100\.300/m);
    expect(fs.readFileSync(path.join(root, 'sites/store-1.lock.yaml'), 'utf8')).toBe(bad);
  });

  test('a site without a lock has nothing to migrate', async () => {
    const root = workspace('');
    fs.rmSync(path.join(root, 'sites/store-1.lock.yaml'));
    const r = await runInProcess(['resolve', '--migrate'], root);
    expect(r).toMatchObject({ status: 0, stderr: `${path.join(root, 'sites/store-1.yaml')}: no lock file to migrate (fwgen resolve makes one)\n` });
  });
});
