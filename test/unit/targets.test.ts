import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acmeVendor, minimalProfile, repoRoot, runInProcess, tempCatalog, tempDir, withAnswers } from '../helpers';
import { iptablesLoad, withTool } from '../conformance/validators';

function vendorWith(flow: string): string {
  return acmeVendor(`  - id: api
    name: Acme API
    requirement: required
    deviceClasses: [pos-terminal]
    flows:
${flow}`);
}

function addresses(n: number, base = 10): string {
  return Array.from({ length: n }, (_v, i) => `"${base}.${Math.floor(i / 250)}.${i % 250}.1"`).join(', ');
}

const profile = withAnswers(minimalProfile.replace('    variables:\n      mid: "42"\n', ''), [['management-access', 'pos-terminal']]);

function site(flow: string): { catalog: string; profile: string; out: string } {
  const catalog = tempCatalog({ 'acme.yaml': vendorWith(flow) });
  fs.writeFileSync(path.join(catalog, 'site.yaml'), profile);
  return { catalog, profile: path.join(catalog, 'site.yaml'), out: path.join(tempDir(), 'out') };
}

describe('target limits', () => {
  test('AWS: over the rules quota is an error that says by how much and what to do; nothing is written', async () => {
    const s = site(`      - direction: inbound\n        protocol: tcp\n        ports: [443]\n        addresses: [${addresses(70, 11)}]\n`);
    const r = await runInProcess(['render', '--catalog', s.catalog, '-p', s.profile, '-o', s.out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /vendors\/acme\.yaml:11:9: error: \[aws\] security group for pos-terminal: ingress needs 70 IPv4 rules, 10 over the limit of 60 .*managed prefix list.*more security groups.*targets\.aws\.maxRules/,
    );
    expect(r.stderr).toContain('nothing was written');
    expect(fs.existsSync(s.out)).toBe(false);
  });

  test('AWS: the quota counts a CIDR two rules share once, from the counts alone', async () => {
    const hosts = (from: number, to: number) => Array.from({ length: to - from }, (_v, i) => `"11.0.${from + i}.1"`).join(', ');
    const flows = (secondFrom: number) =>
      `      - direction: inbound\n        protocol: tcp\n        ports: [443]\n        addresses: [${hosts(0, 40)}]\n` +
      `      - direction: inbound\n        protocol: tcp\n        ports: [443]\n        addresses: [${hosts(secondFrom, secondFrom + 40)}]\n`;
    const fits = site(flows(20)); // 60 distinct networks: exactly the default quota
    const ok = await runInProcess(['render', '--catalog', fits.catalog, '-p', fits.profile, '-t', 'aws', '-o', '-', '--only', 'pos-terminal.ingress.json']);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)[0].IpRanges).toHaveLength(60);
    const over = site(flows(21));
    const r = await runInProcess(['render', '--catalog', over.catalog, '-p', over.profile, '-t', 'aws', '-o', over.out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error: \[aws\] security group for pos-terminal: ingress needs 61 IPv4 rules, 1 over the limit of 60/);
  });

  test('AWS: a CIDR two rules share lands once per permission, with the first rule\'s description, sorted', async () => {
    const s = site(
      `      - direction: inbound\n        protocol: tcp\n        ports: [443]\n        addresses: [192.0.2.9, 192.0.2.1, "2001:db8::2"]\n` +
        `      - direction: inbound\n        protocol: tcp\n        ports: [443, 8443]\n        addresses: [192.0.2.1, 192.0.2.5, "2001:db8::2", "2001:db8::1"]\n`,
    );
    const r = await runInProcess(['render', '--catalog', s.catalog, '-p', s.profile, '-t', 'aws', '-o', '-', '--only', 'pos-terminal.ingress.json']);
    expect(r.status).toBe(0);
    // The rule of the second flow sorts first in the policy, so its description wins where both hold a CIDR.
    const both = `acme.api.pos-terminal.in.tcp (${path.join(s.catalog, 'vendors', 'acme.yaml')}:15)`;
    const first = `acme.api.pos-terminal.in.tcp.2 (${path.join(s.catalog, 'vendors', 'acme.yaml')}:11)`;
    const v4 = (c: string, d: string) => ({ CidrIp: c, Description: d });
    const v6 = (c: string, d: string) => ({ CidrIpv6: c, Description: d });
    const shared = {
      IpRanges: [v4('192.0.2.1/32', both), v4('192.0.2.5/32', both)],
      Ipv6Ranges: [v6('2001:db8::1/128', both), v6('2001:db8::2/128', both)],
    };
    expect(JSON.parse(r.stdout)).toEqual([
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, ...shared, IpRanges: [...shared.IpRanges, v4('192.0.2.9/32', first)] },
      { IpProtocol: 'tcp', FromPort: 8443, ToPort: 8443, ...shared },
    ]);
  });

  test('iptables: multiport never gets more than 15 ports (a range counts two)', async () => {
    const ports = Array.from({ length: 20 }, (_v, i) => 1000 + i * 2).concat([]);
    const s = site(`      - direction: outbound\n        protocol: tcp\n        ports: [${ports.join(', ')}, "3000-3010"]\n        addresses: [192.0.2.1]\n`);
    const r = await runInProcess(['render', '--catalog', s.catalog, '-p', s.profile, '-t', 'iptables', '-o', '-', '--only', 'pos-terminal.rules.v4']);
    expect(r.status).toBe(0);
    const lists = [...r.stdout.matchAll(/--dports (\S+)/g)].map((m) => m[1]!.split(','));
    expect(lists.length).toBe(2);
    for (const l of lists) expect(l.reduce((n, p) => n + (p.includes(':') ? 2 : 1), 0)).toBeLessThanOrEqual(15);
    expect(lists.flat()).toEqual([...ports.map(String), '3000:3010']);
  });

  withTool('iptables')('iptables: large groups go to an ipset that loads with the rules', async () => {
    const s = site(`      - direction: outbound\n        protocol: tcp\n        ports: [443]\n        addresses: [${addresses(20, 12)}]\n`);
    const r = await runInProcess(['render', '--catalog', s.catalog, '-p', s.profile, '-t', 'iptables', '-o', s.out]);
    expect(r.status).toBe(0);
    const dir = path.join(s.out, 'acme-site', 'iptables');
    expect(fs.readFileSync(path.join(dir, 'pos-terminal.rules.v4'), 'utf8')).toContain('-m set --match-set fwgen_acme_api_4 dst');
    const loaded = iptablesLoad(dir, 'pos-terminal.');
    expect(loaded.ok).toBe(true);
  });

  withTool('iptables')('iptables: an ipset over the default 65536 elements says its room, loads whole, and re-applies as it grows', async () => {
    const many = (n: number) => Array.from({ length: n }, (_v, i) => `"${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.1"`).join(', ');
    const render = async (n: number) => {
      const s = site(`      - direction: outbound\n        protocol: tcp\n        ports: [443]\n        addresses: [${many(n)}]\n`);
      const r = await runInProcess(['render', '--catalog', s.catalog, '-p', s.profile, '-t', 'iptables', '-o', s.out]);
      expect(r.status).toBe(0);
      return { dir: path.join(s.out, 'acme-site', 'iptables'), stderr: r.stderr };
    };
    const first = await render(70000);
    const ipsets = fs.readFileSync(path.join(first.dir, 'pos-terminal.ipsets'), 'utf8');
    expect(ipsets).toContain('create fwgen_acme_api_4 hash:net family inet maxelem 16777216\n');
    expect(first.stderr).toMatch(/warning: .*ipset fwgen_acme_api_4 holds 70000 elements, more than ipset's default 65536.*ipset destroy fwgen_acme_api_4/);
    const loaded = iptablesLoad(first.dir, 'pos-terminal.');
    expect(loaded.output).not.toContain('Hash is full');
    expect(loaded.ok).toBe(true);
    // Past the next power of two, the create line stays the same, so -exist restore takes it
    // over the set already loaded.
    const grown = await render(140000);
    const q = (d: string) => `'${path.join(d, 'pos-terminal.ipsets')}'`;
    const both = spawnSync('unshare', ['-n', 'sh', '-c', `set -e\nipset -exist restore < ${q(first.dir)}\nipset -exist restore < ${q(grown.dir)}\nipset list -t fwgen_acme_api_4`], { encoding: 'utf8' });
    expect(both.stderr).toBe('');
    expect(both.status).toBe(0);
    expect(both.stdout).toMatch(/Number of entries: 140000/);
  }, 120000);

  test('Windows: more than 1000 remote addresses are split over several rules', async () => {
    const s = site(`      - direction: outbound\n        protocol: tcp\n        ports: [443]\n        addresses: [${addresses(1500, 13)}]\n`);
    const r = await runInProcess(['render', '--catalog', s.catalog, '-p', s.profile, '-t', 'windows', '-o', '-']);
    expect(r.status).toBe(0);
    const names = [...r.stdout.matchAll(/-Name '([^']+)'/g)].map((m) => m[1]);
    expect(names).toEqual(['fwgen-acme-site-acme.api.pos-terminal.out.tcp.part1', 'fwgen-acme-site-acme.api.pos-terminal.out.tcp.part2']);
    const sizes = [...r.stdout.matchAll(/-RemoteAddress @\(([^)]*)\)/g)].map((m) => m[1]!.split(',').length);
    expect(sizes).toEqual([1000, 500]);
  });
});

describe('names without addresses never become "any"', () => {
  function shopWithoutLock(): string {
    const profile = path.join(tempDir(), 'shop-payxpert-sunmi.yaml');
    // Without its resolvers, so that every rule of the site names hosts only.
    const text = fs.readFileSync(path.join(repoRoot, 'examples', 'shop-payxpert-sunmi.yaml'), 'utf8');
    // Without resolvers its classes cannot look names up: said in the profile, as a site would.
    const noDns = ['sunmi-device', 'back-office-pc'].map((c) => `  - { check: dns-lookup, deviceClass: ${c}, reason: Names are resolved by hand here }\n`).join('');
    fs.writeFileSync(profile, text.replace(/^resolvers:.*\n/m, '').replace(/^acknowledge:\n/m, `acknowledge:\n${noDns}`));
    return profile;
  }

  test('without a lock, a name-only rule is an error that names the name; nothing is written', async () => {
    const out = path.join(tempDir(), 'out');
    const r = await runInProcess(['render', '-p', shopWithoutLock(), '-t', 'nftables', '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /catalog\/vendors\/payxpert\.yaml:30:9: error: \[nftables\] api-pos-default-v4\.payxpert\.com has no addresses: the profile has no lock file\. Run fwgen resolve, or render with --allow-unresolved/,
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  test('with --allow-unresolved the shop example (all host names, no lock) renders no address-less rule in any IP-only target', async () => {
    const out = path.join(tempDir(), 'out');
    const profile = shopWithoutLock();
    // Every AWS rule is a name: with all of them left out the security groups would allow nothing.
    const all = await runInProcess(['render', '-p', profile, '-o', out, '--allow-unresolved']);
    expect(all.status).toBe(1);
    expect(all.stderr).toMatch(/error: \[aws\] the aws output holds no allow rule .*every rule was left out.*targets\.aws\.allowEmpty: true/);
    expect(fs.existsSync(out)).toBe(false);
    fs.appendFileSync(profile, '  aws:\n    allowEmpty: true\n');
    const r = await runInProcess(['render', '-p', profile, '-o', out, '--allow-unresolved']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: \[aws\] \*\.central\.payxpert\.com: a wildcard name cannot be pinned/);
    expect(r.stderr).toMatch(/warning: \[iptables, nftables, aws\] api-pos-default-v4\.payxpert\.com has no addresses: the profile has no lock file; its rule is left out/);
    const dir = path.join(out, 'shop-payxpert-sunmi');
    const v4 = fs.readFileSync(path.join(dir, 'iptables', 'rules.v4'), 'utf8');
    for (const line of v4.split('\n').filter((l) => l.endsWith('-j ACCEPT') && !l.includes('conntrack'))) expect(line).toMatch(/ -d | --match-set /);
    expect(v4).toContain('# left out payxpert.emv-backend.sunmi-device.out.tcp: no addresses to match: api-pos-default-v4.payxpert.com (unresolved)');
    const nft = fs.readFileSync(path.join(dir, 'nftables', 'fwgen.nft'), 'utf8');
    for (const line of nft.split('\n').filter((l) => / accept comment/.test(l))) expect(line).toMatch(/daddr @/);
    for (const f of ['sunmi-device.egress.json', 'back-office-pc.egress.json']) {
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'aws', f), 'utf8'))).toEqual([]);
    }
    const cfn = JSON.parse(fs.readFileSync(path.join(dir, 'aws', 'security-groups.cfn.json'), 'utf8'));
    expect(cfn.Resources.SgSunmiDevice.Properties.SecurityGroupEgress).toEqual([
      { IpProtocol: '-1', CidrIp: '127.0.0.1/32', Description: 'fwgen: no egress is allowed; this replaces the default allow-all rule' },
    ]);
  });
});

describe('render and check from the CLI', () => {
  test('--output - needs one target and one file', async () => {
    const p = path.join(repoRoot, 'examples', 'ecommerce-web.yaml');
    const two = await runInProcess(['render', '-p', p, '-o', '-']);
    expect(two.status).toBe(1);
    expect(two.stderr).toContain('--output - writes one target; name it with --target');
    const many = await runInProcess(['render', '-p', p, '-t', 'nftables', '-o', '-']);
    expect(many.status).toBe(1);
    expect(many.stderr).toContain(
      'this target writes 2 files here (dns-resolver.nft, ecommerce-web-server.nft); pick one with --only',
    );
    const one = await runInProcess(['render', '-p', p, '-t', 'nftables', '-o', '-', '--only', 'ecommerce-web-server.nft']);
    expect(one.status).toBe(0);
    expect(one.stdout.startsWith('#!/usr/sbin/nft -f\n')).toBe(true);
  });

  test('an unknown target is named', async () => {
    const r = await runInProcess(['render', '-p', path.join(repoRoot, 'examples', 'ecommerce-web.yaml'), '-t', 'junos']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unknown target 'junos' (known: iptables, nftables, pfsense, windows, aws, ansible)");
  });

  test('render writes only what changed, and removes what it no longer produces', async () => {
    const out = path.join(tempDir(), 'out');
    const p = path.join(repoRoot, 'examples', 'eu-restaurant-aloha.yaml');
    const first = await runInProcess(['render', '-p', p, '-o', out]);
    const written = Number(/(\d+) written, 0 unchanged, 0 removed\n$/.exec(first.stderr)![1]);
    expect(written).toBeGreaterThan(10);
    fs.writeFileSync(path.join(out, 'eu-restaurant-aloha', 'nftables', 'old.nft'), 'stale');
    const second = await runInProcess(['render', '-p', p, '-o', out]);
    expect(second.stderr).toMatch(new RegExp(`0 written, ${written} unchanged, 1 removed\n$`));
  });

  test('check exits 2 listing stale files, and 0 once --update rewrote them', async () => {
    const out = path.join(tempDir(), 'out');
    fs.cpSync(path.join(repoRoot, 'out'), out, { recursive: true });
    const ok = await runInProcess(['check', '-o', out]);
    expect({ status: ok.status, stdout: ok.stdout }).toEqual({ status: 0, stdout: 'out/ is current (3 profiles, 6 targets)\n' });
    // The examples' deliberate any is acknowledged in their profiles: check says nothing.
    expect(ok.stderr).toBe('');
    fs.appendFileSync(path.join(out, 'ecommerce-web', 'pfsense', 'config.xml'), '<!-- hand edit -->\n');
    fs.rmSync(path.join(out, 'eu-restaurant-aloha', 'windows', 'boh-server.ps1'));
    const stale = await runInProcess(['check', '-o', out]);
    expect(stale.status).toBe(2);
    expect(stale.stderr).toContain('  ecommerce-web/pfsense/config.xml (differs)\n');
    expect(stale.stderr).toContain('  eu-restaurant-aloha/windows/boh-server.ps1 (missing)\n');
    expect((await runInProcess(['check', '-o', out, '--update'])).status).toBe(0);
    expect((await runInProcess(['check', '-o', out])).status).toBe(0);
  });

  test('targets lists every target with its options and defaults', async () => {
    const r = await runInProcess(['targets']);
    expect(r.status).toBe(0);
    for (const id of ['iptables', 'nftables', 'pfsense', 'windows', 'aws']) expect(r.stdout).toContain(`${id}: `);
    expect(r.stdout).toContain('targets.nftables.table (default "fwgen")');
    expect(r.stdout).toContain('targets.aws.maxRules (default 60)');
  });
});
