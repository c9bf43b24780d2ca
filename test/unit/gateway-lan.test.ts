import * as fs from 'node:fs';
import * as path from 'node:path';
import { acmeProfile, acmeVendor, runInProcess, tempCatalog, tempDir, withAnswers } from '../helpers';

/**
 * The profile's `interfaces:` map and what a gateway writes from it, read in the files the CLI
 * writes (the kernel's view of them is in test/live/lan.test.ts, pfSense's in the parse-back).
 */

const VENDOR = acmeVendor(`  - id: api
    name: Acme API
    requirement: required
    deviceClasses: [back-office-pc, boh-server]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [443]
        addresses: [192.0.2.1, "2001:db8::1"]
`);

const CLASSES = `  back-office-pc:
    addresses: [10.0.0.0/24, "2001:db8:10::/64"]
    interface: lan0
  boh-server:
    addresses: [10.0.1.10, "2001:db8:11::10"]
    interface: lan1
`;

const GATEWAY = '  iptables:\n    mode: gateway\n  nftables:\n    mode: gateway\n';

function site(extra = '', classes = CLASSES, targets = GATEWAY): { profile: string; out: string } {
  const catalog = tempCatalog({ 'acme.yaml': VENDOR });
  const profile = path.join(catalog, 'site.yaml');
  // Their host firewalls (Windows scripts, Linux host files) would lock admins out; this test is about the gateway.
  const windows = ['back-office-pc', 'boh-server', 'pos-terminal'].filter((c) => classes.includes(`  ${c}:`));
  fs.writeFileSync(profile, `${withAnswers(acmeProfile(classes, targets), windows.map((c) => ['management-access', c]))}${extra}`);
  return { profile, out: path.join(tempDir(), 'out') };
}

async function render(s: { profile: string; out: string }, ...args: string[]) {
  return runInProcess(['render', '--catalog', path.dirname(s.profile), '-p', s.profile, '-o', s.out, ...args]);
}

function read(s: { out: string }, file: string): string {
  return fs.readFileSync(path.join(s.out, 'acme-site', file), 'utf8');
}

function lineOf(file: string, text: string): number {
  return fs.readFileSync(file, 'utf8').split('\n').indexOf(text) + 1;
}

describe('the interfaces map is checked where it is written', () => {
  test('an interface no bound class sits behind: one located error, exit 1, nothing written', async () => {
    const s = site('interfaces:\n  lan9:\n    unclassified: accept\n');
    const r = await render(s);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      `${s.profile}:${lineOf(s.profile, '  lan9:')}:3: interfaces.lan9: no bound device class sits behind interface 'lan9' (they sit behind lan0, lan1); name it under a class's interface, or remove it here`,
    );
    expect(r.stderr).toContain('nothing was written');
    expect(fs.existsSync(s.out)).toBe(false);
  });

  test('a value other than drop or accept, or a missing one, is a schema error at its line', async () => {
    for (const [extra, text] of [
      ['interfaces:\n  lan0:\n    unclassified: allow\n', '    unclassified: allow'],
      ['interfaces:\n  lan0: {}\n', '  lan0: {}'],
      ['interfaces:\n  "lan 0":\n    unclassified: drop\n', '  "lan 0":'],
    ] as const) {
      const s = site(extra);
      const r = await render(s);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^${s.profile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${lineOf(s.profile, text)}:\\d+: interfaces`, 'm'));
      expect(fs.existsSync(s.out)).toBe(false);
    }
  });
});

describe('a gateway on two LAN interfaces', () => {
  test('nftables: spoofed class sources and addresses in no class dropped first, per interface, both families', async () => {
    const s = site();
    const r = await render(s, '-t', 'nftables');
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/interface/);
    const fwd = read(s, 'nftables/fwgen.nft').split('chain forward {')[1]!.split('\n').map((l) => l.trim());
    const checks = fwd.slice(2, fwd.indexOf('ct state established,related accept'));
    expect(checks.map((l) => l.replace(/ comment .*/, ''))).toEqual([
      'iifname != "lan0" ip saddr @class_back_office_pc_v4 drop',
      'iifname != "lan0" ip6 saddr @class_back_office_pc_v6 drop',
      'iifname != "lan1" ip saddr @class_boh_server_v4 drop',
      'iifname != "lan1" ip6 saddr @class_boh_server_v6 drop',
      'iifname "lan0" ip saddr != @class_back_office_pc_v4 drop',
      'oifname "lan0" ip daddr != @class_back_office_pc_v4 drop',
      'iifname "lan0" ip6 saddr != @class_back_office_pc_v6 drop',
      'oifname "lan0" ip6 daddr != @class_back_office_pc_v6 drop',
      'iifname "lan1" ip saddr != @class_boh_server_v4 drop',
      'oifname "lan1" ip daddr != @class_boh_server_v4 drop',
      'iifname "lan1" ip6 saddr != @class_boh_server_v6 drop',
      'oifname "lan1" ip6 daddr != @class_boh_server_v6 drop',
    ]);
  });

  test('iptables: the same in both files, the unclassified checks in chains of their own', async () => {
    const s = site();
    expect((await render(s, '-t', 'iptables')).status).toBe(0);
    const v6 = read(s, 'iptables/rules.v6').split('\n').filter((l) => /^[-:]/.test(l));
    expect(v6.slice(0, 3)).toEqual([':FWGEN-FWD - [0:0]', ':FWGEN-SRC - [0:0]', ':FWGEN-DST - [0:0]']);
    const fwd = v6.filter((l) => l.startsWith('-A FWGEN-FWD'));
    expect(fwd.slice(0, 5).map((l) => l.replace(/ -m comment .*? -j/, ' -j'))).toEqual([
      '-A FWGEN-FWD ! -i lan0 -s 2001:db8:10::/64 -j DROP',
      '-A FWGEN-FWD ! -i lan1 -s 2001:db8:11::10/128 -j DROP',
      '-A FWGEN-FWD -j FWGEN-SRC',
      '-A FWGEN-FWD -j FWGEN-DST',
      '-A FWGEN-FWD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
    ]);
    expect(v6.filter((l) => l.startsWith('-A FWGEN-SRC')).map((l) => l.replace(/ -m comment .*? -j/, ' -j'))).toEqual([
      '-A FWGEN-SRC -i lan0 -s 2001:db8:10::/64 -j RETURN',
      '-A FWGEN-SRC -i lan0 -j DROP',
      '-A FWGEN-SRC -i lan1 -s 2001:db8:11::10/128 -j RETURN',
      '-A FWGEN-SRC -i lan1 -j DROP',
    ]);
    expect(v6.filter((l) => l.startsWith('-A FWGEN-DST'))).toHaveLength(4);
  });

  test('unclassified: accept on one interface: a located warning, its checks gone, anti-spoofing kept', async () => {
    const s = site('interfaces:\n  lan1:\n    unclassified: accept\n');
    const r = await render(s, '-t', 'nftables', '-t', 'iptables');
    expect(r.status).toBe(0);
    const at = `${s.profile}:${lineOf(s.profile, '  lan1:')}:3`;
    // Said once for the site, naming both targets.
    expect(r.stderr).toContain(`${at}: warning: [nftables, iptables] interface lan1: traffic of addresses in no device class is forwarded, not dropped (interfaces.lan1.unclassified: accept)`);
    const nft = read(s, 'nftables/fwgen.nft');
    expect(nft).toContain('# WARNING: on lan1, traffic of addresses in no device class is forwarded (interfaces.lan1.unclassified: accept).');
    expect(nft).toContain('iifname != "lan1" ip saddr @class_boh_server_v4 drop');
    expect(nft).toContain('iifname "lan0" ip saddr != @class_back_office_pc_v4 drop');
    expect(nft).not.toMatch(/[io]ifname "lan1" ip6? [sd]addr !=/);
    const v4 = read(s, 'iptables/rules.v4');
    expect(v4).toMatch(/^-A FWGEN-FWD ! -i lan1 -s 10\.0\.1\.10\/32 .*-j DROP$/m);
    expect(v4).not.toMatch(/^-A FWGEN-(SRC|DST) -[io] lan1 /m);
  });

  test('policy accept: only anti-spoofing, which keeps fwgen\'s accept rules from passing a spoofed source', async () => {
    const s = site('', CLASSES, '  nftables:\n    mode: gateway\n    policy: accept\n');
    expect((await render(s, '-t', 'nftables')).status).toBe(0);
    const nft = read(s, 'nftables/fwgen.nft');
    expect(nft).toContain('iifname != "lan0" ip saddr @class_back_office_pc_v4 drop');
    expect(nft).not.toContain('!= @');
    expect(nft).not.toContain('in no device class"');
  });

  test('a class with no interface: a warning, and its addresses are known on every LAN interface', async () => {
    const classes = `${CLASSES}  pos-terminal:\n    addresses: [10.0.2.0/28, "2001:db8:12::/64"]\n`;
    const s = site('', classes);
    fs.writeFileSync(path.join(path.dirname(s.profile), 'vendors', 'acme.yaml'), VENDOR.replace('[back-office-pc, boh-server]', '[back-office-pc, boh-server, pos-terminal]'));
    const r = await render(s, '-t', 'nftables');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('warning: [nftables] device class pos-terminal has no interface: at the gateway its addresses are accepted from any interface (no anti-spoofing) and as sources on every LAN interface; give it its interface in the profile');
    const nft = read(s, 'nftables/fwgen.nft');
    expect(nft).toMatch(/^# WARNING: device classes without an interface \(pos-terminal\) are not anti-spoofed/m);
    // lan0 knows its own class and the one bound to no interface, in one set.
    const known = /iifname "lan0" ip saddr != @(\w+) drop/.exec(nft)![1]!;
    const set = nft.split(`set ${known} {`)[1]!.split('}')[0]!;
    expect(set.replace(/\s+/g, ' ')).toContain('10.0.0.0/24, 10.0.2.0/28');
    expect(nft).not.toMatch(/iifname != "\w+" ip saddr @\w*pos/);
  });
});

test('unfilteredIpv6: a class without IPv6 prefixes on an interface leaves its IPv6 in no class unchecked there, loudly', async () => {
  const classes = '  back-office-pc:\n    addresses: [10.0.0.0/24]\n    interface: lan0\n';
  const s = site('', classes, `${GATEWAY}    unfilteredIpv6: true\n`);
  const r = await render(s, '-t', 'nftables');
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(/warning: \[nftables\] IPv6 of device classes without IPv6 prefixes \(back-office-pc\) is forwarded UNFILTERED/);
  const nft = read(s, 'nftables/fwgen.nft');
  expect(nft).toContain('iifname "lan0" ip saddr != @class_back_office_pc_v4 drop');
  expect(nft).not.toMatch(/[io]ifname "lan0" (ip6|meta nfproto ipv6)/);
  expect(nft).toContain('# On lan0, IPv6 of addresses in no device class is forwarded: its classes without IPv6 prefixes have theirs forwarded unfiltered (unfilteredIpv6).');
});

describe('pfSense', () => {
  test('unclassified: accept leaves the block rule out, with a warning and a header line', async () => {
    const s = site('', CLASSES, '  pfsense:\n    unclassified: accept\n');
    const r = await render(s, '-t', 'pfsense');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('warning: [pfsense] sources on lan in no device class are not blocked (targets.pfsense.unclassified: accept)');
    const xml = read(s, 'pfsense/config.xml');
    expect(xml).not.toContain('<type>block</type>');
    expect(xml).toContain('WARNING: sources on lan in no device class are not blocked by these rules (targets.pfsense.unclassified: accept).');
  });

  test('the block rule sits on the configured interface', async () => {
    const s = site('', CLASSES, '  pfsense:\n    interface: opt1\n');
    expect((await render(s, '-t', 'pfsense')).status).toBe(0);
    const rules = read(s, 'pfsense/config.xml').split('<rule>').slice(1);
    expect(rules[rules.length - 1]).toMatch(/<type>block<\/type>\s*<interface>opt1<\/interface>/);
    expect(rules.slice(0, -1).every((r) => r.includes('<type>pass</type>'))).toBe(true);
  });
});
