import * as fs from 'node:fs';
import * as path from 'node:path';
import { readLock } from '../../src/resolve/lock';
import { required } from '../conformance/validators';
import { dnsmasqAvailable, startDnsmasq } from '../dns/dnsmasq';
import { listText, siteText, vendorText, writeTree } from '../diff/fixture';
import { runInProcess } from '../helpers';

const maybe = dnsmasqAvailable || required ? describe : describe.skip;
if (!dnsmasqAvailable && !required) console.warn("skipping workspace resolve tests: dnsmasq (Debian's dnsmasq-base) is not installed");

maybe('fwgen resolve on a workspace (dnsmasq on loopback)', () => {
  test("refreshes every site's lock, or those named; render then needs no DNS", async () => {
    if (!dnsmasqAvailable) throw new Error('dnsmasq is missing but FWGEN_REQUIRE_VALIDATORS=1: .ci/run must install dnsmasq-base');
    const root = writeTree({
      'fwgen.yaml': 'sites: [sites/*.yaml]\ncatalog: [own]\n',
      'own/vendors/acme.yaml': vendorText,
      'own/lists/acme-edge.yaml': listText,
      'sites/store-1.yaml': siteText,
      'sites/store-2.yaml': siteText.replace('name: store-1', 'name: store-2'),
    });
    const dns = await startDnsmasq([{ name: 'api.acme.example', ipv4: ['203.0.113.10'], ttl: 3600 }]);
    try {
      const r = await runInProcess(['resolve', '--server', dns.address, '--timeout', '500', '--tries', '2'], root);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('store-1.lock.yaml: 1 of 1 names resolved\n');
      expect(r.stderr).toContain('store-2.lock.yaml: 1 of 1 names resolved\n');
      for (const site of ['store-1', 'store-2']) {
        const { lock } = readLock(path.join(root, 'sites', `${site}.lock.yaml`));
        expect(lock.names.get('api.acme.example')?.ipv4).toEqual(['203.0.113.10']);
      }
      expect(fs.readFileSync(path.join(root, 'sites/store-1.lock.yaml'), 'utf8')).toContain('(sites/store-1.yaml)');
      fs.rmSync(path.join(root, 'sites/store-2.lock.yaml'));
      const one = await runInProcess(['resolve', 'store-2', '--server', dns.address], root);
      expect(one.status).toBe(0);
      expect(one.stderr).not.toContain('store-1');
    } finally {
      await dns.stop();
    }
    const render = await runInProcess(['render'], root);
    expect(render.status).toBe(0);
    expect((await runInProcess(['check'], root)).status).toBe(0);
  });
});
