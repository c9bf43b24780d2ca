import * as fs from 'node:fs';
import * as path from 'node:path';
import { runBinary, tempDir } from '../helpers';
import { Agent } from '../live/listeners';
import { Namespaces } from '../live/netns';
import { nextTag, withLive } from '../live/suite';

/**
 * The starter site of `fwgen init`, rendered as a new user would and its nftables host files
 * applied for real: each in a namespace holding that class's address, linked to a LAN
 * namespace that holds the admin network's address, an address outside it, and an upstream
 * DNS server. The admins' SSH must still open after the file is applied; the rest is dropped.
 */
const live = withLive();

const ADMIN = '192.0.2.2'; // inside the starter's admin network, 192.0.2.0/28
const OUTSIDER = '192.0.2.100'; // on the same LAN, outside the admin network
const UPSTREAM = '192.0.2.200'; // an authoritative server the resolver asks

describe('fwgen init: the starter site keeps SSH open when applied', () => {
  let dir: string;
  beforeAll(() => {
    dir = path.join(tempDir('fwgen-init-live-'), 'fleet');
    expect(runBinary(['init', dir]).status).toBe(0);
    const r = runBinary(['render', '-t', 'nftables'], dir);
    expect(r).toMatchObject({ status: 0 });
    // The one any in the starter site is acknowledged with its reason: no policy warning.
    expect(r.stderr).not.toContain('[policy]');
  });

  const hosts = [
    { file: 'back-office-pc.nft', address: '192.0.2.20', upstream: false },
    { file: 'dns-resolver.nft', address: '192.0.2.53', upstream: true },
  ];

  for (const host of hosts) {
    live(`${host.file}: SSH from the admin network opens, from elsewhere it does not`, async () => {
      const ns = new Namespaces(nextTag('init'));
      const agents: Agent[] = [];
      try {
        const device = ns.add('dev');
        const lan = ns.add('lan');
        ns.link(device, 'eth0', lan, 'eth0');
        ns.batch(device, [`addr add ${host.address}/24 dev eth0`, 'link set eth0 up']);
        ns.batch(lan, [...[ADMIN, OUTSIDER, UPSTREAM].map((a) => `addr add ${a}/24 dev eth0`), 'link set eth0 up']);
        const deviceAgent = new Agent(device, dir);
        const lanAgent = new Agent(lan, dir);
        agents.push(deviceAgent, lanAgent);
        await deviceAgent.listen([[host.address, 22]], []);
        await lanAgent.listen([], [[UPSTREAM, 53]]);

        // Before the file: everything passes, so a drop afterwards is the file's doing.
        expect((await lanAgent.probe('tcp', OUTSIDER, host.address, 22, 2000)).passed).toBe(true);

        const file = path.join(dir, 'out/store-001/nftables', host.file);
        expect(fs.existsSync(file)).toBe(true);
        ns.mustExec(device, 'nft', ['-f', file]);
        expect(ns.mustExec(device, 'nft', ['list', 'chain', 'inet', 'fwgen', 'input']).stdout).toContain('policy drop');

        const admin = await lanAgent.probe('tcp', ADMIN, host.address, 22, 2000);
        expect(admin).toMatchObject({ passed: true, detail: 'echo' });
        expect((await lanAgent.probe('tcp', OUTSIDER, host.address, 22, 1000)).passed).toBe(false);
        // The resolver's upstream query goes out and its answer comes back; the PC may not ask anyone but the resolver.
        expect((await deviceAgent.probe('udp', host.address, UPSTREAM, 53, 2000)).passed).toBe(host.upstream);
      } finally {
        for (const a of agents) a.close();
        ns.destroy();
      }
    });
  }
});
