import * as fs from 'node:fs';
import * as path from 'node:path';
import { examplesRoot, runInProcess, tempDir } from '../helpers';

/** What render says on stderr besides the files it wrote and its summary. */
function said(stderr: string): string[] {
  return stderr
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '' && !/^(wrote|updated|removed) /.test(l) && !/^\d+ written, /.test(l) && !/^\d+ sites?, /.test(l));
}

/** A line's message: without the place, the site and the targets, which may differ for one message. */
const message = (line: string) => line.replace(/^.*?(warning|error): \[[^\]]*\] /, '');

describe('a warning prints once per site, naming the targets it concerns', () => {
  test('the restaurant example: 5 lines (each target said them apart before: 10 lines)', async () => {
    const r = await runInProcess(['render', '-p', path.join(examplesRoot, 'eu-restaurant-aloha.yaml'), '-o', path.join(tempDir(), 'out')]);
    expect(r.status).toBe(0);
    const lines = said(r.stderr);
    expect(lines).toEqual([
      expect.stringMatching(/^fwgen\/catalog\/vendors\/paytronix\.yaml:\d+:9: warning: \[iptables, nftables, pfsense, aws\] paytronix\/controller-applications: allowing programs \(.*\) needs a program-aware firewall; left out here, rendered for Windows$/),
      expect.stringMatching(/^fwgen\/catalog\/vendors\/paytronix\.yaml:\d+:9: warning: \[iptables, nftables, pfsense, aws\] paytronix\/aloha: allowing programs \(C:\\Paytronix\\pxalohaui\.exe\)/),
      expect.stringMatching(/^warning: \[iptables, nftables\] exact host names are matched by the addresses pinned in the lock/),
      // Windows policy drop, said once for the render as policy accept is: both scripts named.
      expect.stringMatching(/^warning: \[windows\] policy drop: boh-server\.ps1, order-entry-terminal\.ps1 set DefaultInboundAction and DefaultOutboundAction to Block for the profiles Domain, Private, so traffic in and out that no enabled rule allows is blocked/),
      // The inventory's groups that no host fills yet, once for the site.
      expect.stringMatching(/^examples\/eu-restaurant-aloha\.yaml:\d+:1: warning: \[ansible\] inventory groups without hosts: eu_restaurant_aloha_gateway \(linux\.yml\), eu_restaurant_aloha_order_entry_terminal_windows \(windows\.yml\)/),
    ]);
    expect(new Set(lines.map(message)).size).toBe(lines.length);
  });

  test('in a workspace, each site says its own once, and a warning two sites share word for word is one line naming both', async () => {
    const root = tempDir('fwgen-ws-');
    fs.mkdirSync(path.join(root, 'sites'));
    fs.writeFileSync(path.join(root, 'fwgen.yaml'), 'sites: [sites/*.yaml]\noutput: out\n');
    const text = fs.readFileSync(path.join(examplesRoot, 'eu-restaurant-aloha.yaml'), 'utf8');
    const lock = fs.readFileSync(path.join(examplesRoot, 'eu-restaurant-aloha.lock.yaml'), 'utf8');
    for (const site of ['bistro-1', 'bistro-2']) {
      // Each site's back-of-house server under its own inventory name: one host serves one site.
      const own = text.replace(/^( {2}name: )\S+$/m, `$1${site}`).replace(/^targets:\n/m, `targets:\n  ansible: { hosts: { boh-server: [${site}-boh] } }\n`);
      fs.writeFileSync(path.join(root, 'sites', `${site}.yaml`), own);
      fs.writeFileSync(path.join(root, 'sites', `${site}.lock.yaml`), lock);
    }
    const r = await runInProcess(['render'], root);
    expect(r.status).toBe(0);
    const lines = said(r.stderr);
    // The catalog's warnings, the lock's and the Windows policy are the same words at the same place for both.
    const shared = lines.filter((l) => l.startsWith('2 sites (bistro-1, bistro-2): '));
    expect(shared).toHaveLength(4);
    expect(new Set(shared.map(message)).size).toBe(4);
    // Each site's own profile is its own place: its warning keeps its site's line.
    for (const site of ['bistro-1', 'bistro-2']) {
      const own = lines.filter((l) => l.startsWith(`${site}: `));
      expect(own).toEqual([expect.stringMatching(new RegExp(`^${site}: sites/${site}\\.yaml:\\d+:\\d+: warning: \\[ansible\\] inventory groups without hosts`))]);
    }
    expect(lines).toHaveLength(6);
  });

  test('a gateway dropping the IPv6 of a class without IPv6 prefixes says so at render, at the class binding', async () => {
    const r = await runInProcess(['render', '-p', path.join(examplesRoot, 'shop-payxpert-sunmi.yaml'), '-o', path.join(tempDir(), 'out')]);
    expect(r.status).toBe(0);
    const v6 = said(r.stderr).filter((l) => l.includes('no IPv6 prefixes'));
    expect(v6).toEqual([
      expect.stringMatching(/^examples\/shop-payxpert-sunmi\.yaml:\d+:3: warning: \[iptables, nftables\] device class back-office-pc has no IPv6 prefixes, so the gateway drops its forwarded IPv6 on lan0; bind its IPv6 prefixes/),
      expect.stringMatching(/^examples\/shop-payxpert-sunmi\.yaml:\d+:3: warning: \[iptables, nftables\] device class sunmi-device has no IPv6 prefixes, so the gateway drops its forwarded IPv6 on lan0/),
    ]);
  });
});
