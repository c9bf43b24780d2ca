import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalog } from '../../src/catalog/load-catalog';
import { loadProfile } from '../../src/catalog/profile';
import { buildPolicy } from '../../src/policy/build';
import { classesWithoutDns } from '../../src/policy/dns-reach';
import { formatPorts } from '../../src/net/ports';
import type { Policy, Rule } from '../../src/policy/types';
import { readLock, lockPathFor } from '../../src/resolve/lock';
import { lockableNames } from '../../src/resolve/update-lock';
import { required } from '../conformance/validators';
import { dnsmasqAvailable, startDnsmasq } from '../dns/dnsmasq';
import { catalogRoot, examplesRoot, minimalProfile, minimalVendor, runInProcess, tempCatalog, tempDir, withAnswers } from '../helpers';

/** A site with two classes, its own flows and a resolver inside one of the classes (managed from its console). */
const siteProfile = withAnswers(`${minimalProfile.replace('[10.0.0.0/24]', '[10.0.0.0/24, "2001:db8:10::/64"]')}  dns-resolver:
    addresses: [10.0.9.53]
resolvers: [10.0.9.53, 192.0.2.53]
flows:
  - id: admin-ssh
    name: SSH from the admins
    deviceClasses: [pos-terminal]
    direction: inbound
    protocol: tcp
    ports: [22]
    addresses: [192.0.2.0/28]
  - id: customers
    deviceClasses: [pos-terminal]
    direction: inbound
    protocol: tcp
    ports: [443]
    addresses: [0.0.0.0/0, "::/0"]
  - id: updates
    deviceClasses: [pos-terminal]
    direction: outbound
    protocol: tcp
    ports: ["1-65535"]
    domains: [updates.acme.example, "*.cdn.acme.example"]
  - id: upstream
    deviceClasses: [dns-resolver]
    direction: outbound
    protocol: tcp/udp
    ports: [53]
    addresses: [0.0.0.0/0]
`,
  [['management-access', 'dns-resolver']],
);

function site(profile = siteProfile, vendor = minimalVendor): { root: string; file: string } {
  const root = tempCatalog({ 'acme.yaml': vendor });
  const file = path.join(root, 'profile.yaml');
  fs.writeFileSync(file, profile);
  return { root, file };
}

function policyOf(profile = siteProfile, vendor = minimalVendor): Policy {
  const { root, file } = site(profile, vendor);
  const catalog = loadCatalog(root);
  return buildPolicy(catalog, loadProfile(file, catalog));
}

function show(r: Rule): string {
  const ends = [...r.remote.addresses.ipv4, ...r.remote.addresses.ipv6, ...r.remote.names, ...r.remote.peers.map((p) => `class:${p}`)];
  return `${r.id} ${r.protocol} ${formatPorts(r.ports)} ${ends.join(' ')} @${r.origins[0]!.loc.line}:${r.origins[0]!.loc.col}`;
}

describe('site flows', () => {
  const policy = policyOf();
  const siteRules = policy.rules.filter((r) => r.vendor === 'site').map(show);

  test('become rules with stable ids and the profile line as their origin, explicit "any" kept as written', () => {
    expect(siteRules).toEqual(
      expect.arrayContaining([
        'site.admin-ssh.pos-terminal.in.tcp tcp 22 192.0.2.0/28 @16:5',
        'site.customers.pos-terminal.in.tcp tcp 443 0.0.0.0/0 ::/0 @23:5',
        'site.updates.pos-terminal.out.tcp tcp 1-65535 *.cdn.acme.example updates.acme.example @29:5',
        'site.upstream.dns-resolver.out.tcp tcp 53 0.0.0.0/0 @35:5',
        'site.upstream.dns-resolver.out.udp udp 53 0.0.0.0/0 @35:5',
      ]),
    );
    for (const r of policy.rules.filter((x) => x.vendor === 'site')) expect(r.origins[0]!.loc.file).toMatch(/profile\.yaml$/);
  });

  test('their names go through the lock like vendor names (wildcards excepted)', () => {
    expect(lockableNames(policy)).toEqual(['m42.acme.example', 'updates.acme.example']);
  });

  test('the policy cites the profile as the source of its own flows', () => {
    expect(policy.vendors.map((v) => v.id)).toEqual(['acme', 'site']);
    expect(policy.vendors[1]!.citation).toMatch(/^the site's own flows and resolvers in .*profile\.yaml$/);
  });
});

describe('resolvers', () => {
  const policy = policyOf();
  const dns = policy.rules.filter((r) => r.service === 'resolvers').map(show);

  test('every class gets udp and tcp 53 to a resolver outside the site; one inside a class is a peer that accepts the queries', () => {
    expect(dns).toEqual([
      'site.resolvers.dns-resolver.in.tcp tcp 53 10.0.0.0/24 2001:db8:10::/64 class:pos-terminal @14:1',
      'site.resolvers.dns-resolver.in.udp udp 53 10.0.0.0/24 2001:db8:10::/64 class:pos-terminal @14:1',
      'site.resolvers.dns-resolver.out.tcp tcp 53 192.0.2.53/32 @14:1',
      'site.resolvers.dns-resolver.out.udp udp 53 192.0.2.53/32 @14:1',
      'site.resolvers.pos-terminal.out.tcp tcp 53 10.0.9.53/32 class:dns-resolver @14:1',
      'site.resolvers.pos-terminal.out.tcp.2 tcp 53 192.0.2.53/32 @14:1',
      'site.resolvers.pos-terminal.out.udp udp 53 10.0.9.53/32 class:dns-resolver @14:1',
      'site.resolvers.pos-terminal.out.udp.2 udp 53 192.0.2.53/32 @14:1',
    ]);
  });

  test('a class that reaches names without any DNS rule is reported; resolvers fix it', () => {
    expect(classesWithoutDns(policy.deviceClasses, policy.rules)).toEqual([]);
    const bare = policyOf(withAnswers(minimalProfile));
    expect(classesWithoutDns(bare.deviceClasses, bare.rules).map((g) => [g.deviceClass, g.names])).toEqual([['pos-terminal', ['m42.acme.example']]]);
  });

  test('render refuses it at the class binding, naming the rule that needs a name', async () => {
    const { root, file } = site(withAnswers(minimalProfile, [['management-access', 'pos-terminal']]));
    const r = await runInProcess(['render', '--catalog', root, '-p', file, '-t', 'nftables', '-o', '-', '--only', 'pos-terminal.nft', '--allow-unresolved']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^\S*profile\.yaml:10:3: deviceClasses\.pos-terminal: dns-lookup: the class reaches host names \(m42\.acme\.example; first by rule acme\.api\.pos-terminal\.out\.tcp, \S*vendors\/acme\.yaml:17:9\) but no rule lets it query DNS .*Add the site's resolvers/,
    );
  });
});

describe('site flows in every target', () => {
  test.each(['nftables', 'iptables', 'pfsense', 'windows', 'aws'])('%s comments name the site flow and its profile line', async (target) => {
    const { root, file } = site();
    const out = tempDir();
    const r = await runInProcess(['render', '--catalog', root, '-p', file, '-t', target, '-o', out, '--allow-unresolved']);
    expect(r.status).toBe(0);
    const text = readAll(path.join(out, 'acme-site', target));
    expect(text).toMatch(/site.admin-ssh/);
    expect(text).toMatch(/profile\.yaml:16\b/);
    expect(text).toMatch(/profile\.yaml:14\b/);
  });
});

function readAll(dir: string): string {
  return fs
    .readdirSync(dir)
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
}

describe('regions, environments and variable defaults', () => {
  const catalog = loadCatalog(catalogRoot);
  const copy = (name: string, edit: (s: string) => string): string => {
    const dir = tempDir();
    const file = path.join(dir, name);
    fs.writeFileSync(file, edit(fs.readFileSync(path.join(examplesRoot, name), 'utf8')));
    return file;
  };

  test('an Asia-Pacific Excoinz shop is expressible and selects the region-free services', () => {
    const file = copy('ecommerce-web.yaml', (s) => s.replace('region: eu', 'region: asia-pacific'));
    const policy = buildPolicy(catalog, loadProfile(file, catalog));
    expect(policy.profile.region).toBe('asia-pacific');
    expect(policy.rules.some((r) => r.vendor === 'excoinz' && r.service === 'webhooks')).toBe(true);
  });

  test('a profile may select production and the test environment together', () => {
    for (const written of ['environment: [production, test]', 'environments: [production, test]']) {
      const file = copy('eu-restaurant-aloha.yaml', (s) => s.replace('environment: production', written));
      const services = new Set(buildPolicy(catalog, loadProfile(file, catalog)).rules.map((r) => r.service));
      expect(services).toContain('eu-pos-transactional');
      expect(services).toContain('eu-test-pos-transactional');
      expect(services).toContain('eu-test-rest-integrations');
    }
  });

  test('the catalog default applies (Paytronix 9090) and a profile overrides it without touching the catalog', () => {
    const covered = (file: string) => {
      const rules = buildPolicy(catalog, loadProfile(file, catalog)).rules.filter((r) => r.service === 'aloha' && r.protocol !== undefined);
      return [9054, 9055, 9090, 9091].filter((port) => rules.some((r) => r.ports.some((p) => p.from <= port && port <= p.to)));
    };
    expect(covered(path.join(examplesRoot, 'eu-restaurant-aloha.yaml'))).toEqual([9054, 9055, 9090]);
    const moved = copy('eu-restaurant-aloha.yaml', (s) => s.replace('      # pxc_port: 9091', '      pxc_port: 9091'));
    expect(covered(moved)).toEqual([9054, 9055, 9091]);
  });
});

/** Each case breaks one thing of a site flow or resolver and names the exact place. */
const broken: Array<{ name: string; profile?: string; vendor?: string; expected: string }> = [
  {
    name: 'site flow on a class the site does not bind',
    profile: siteProfile.replace('    deviceClasses: [pos-terminal]\n    direction: inbound\n    protocol: tcp\n    ports: [22]', '    deviceClasses: [boh-server]\n    direction: inbound\n    protocol: tcp\n    ports: [22]'),
    expected: "profile.yaml:18:21: flows[0].deviceClasses[0]: device class 'boh-server' is not bound at this site; bind it under deviceClasses with its addresses",
  },
  {
    name: 'site flow with an unknown class',
    profile: siteProfile.replace('deviceClasses: [dns-resolver]\n    direction: outbound', 'deviceClasses: [till]\n    direction: outbound'),
    expected:
      "profile.yaml:36:21: flows[3].deviceClasses[0]: unknown device class 'till' (known: back-office-pc, boh-server, caps-server, dns-resolver, ecommerce-web-server, mail-server, order-entry-terminal, pos-terminal, sunmi-device)",
  },
  {
    name: 'site flow peer not bound',
    profile: siteProfile.replace('    addresses: [192.0.2.0/28]\n', '    peers: [back-office-pc]\n'),
    expected: "profile.yaml:22:13: flows[0].peers[0]: device class 'back-office-pc' is not bound at this site; bind it under deviceClasses with its addresses",
  },
  {
    name: 'site flow without device classes',
    profile: siteProfile.replace('    name: SSH from the admins\n    deviceClasses: [pos-terminal]\n', '    name: SSH from the admins\n'),
    expected: "profile.yaml:16:5: flows[0]: missing required field 'deviceClasses'",
  },
  {
    name: 'site flow with tcp and no ports',
    profile: siteProfile.replace('    ports: [22]\n', ''),
    expected: 'profile.yaml:20:15: flows[0].protocol: a tcp flow needs ports (fwgen never opens every port)',
  },
  {
    name: 'site flow naming no other end',
    profile: siteProfile.replace('    addresses: [192.0.2.0/28]\n', ''),
    expected: 'profile.yaml:16:5: flows[0]: the flow names no other end (domains, addresses, lists or peers) and is not marked incomplete',
  },
  {
    name: 'site flow with a bad address',
    profile: siteProfile.replace('192.0.2.0/28', '192.0.2.1/28'),
    expected: "profile.yaml:22:17: flows[0].addresses[0]: '192.0.2.1/28' has host bits set; the network is 192.0.2.0/28",
  },
  {
    name: 'site flow with a port out of range',
    profile: siteProfile.replace('ports: [22]', 'ports: [22, 65536]'),
    expected: 'profile.yaml:21:17: flows[0].ports[1]: 65536 is above the maximum 65535',
  },
  {
    name: 'site flow with a variable',
    profile: siteProfile.replace('updates.acme.example,', '"m{mid}.acme.example",'),
    expected: 'profile.yaml:34:15: flows[2].domains[0]: "m{mid}.acme.example" does not match the pattern ^(\\*\\.)?([a-z0-9_-]+\\.)+[a-z0-9-]+$',
  },
  {
    name: 'site flow with a variable for addresses',
    profile: siteProfile.replace('addresses: [192.0.2.0/28]', 'addresses: ["{admins}"]'),
    expected: 'profile.yaml:22:17: flows[0].addresses[0]: "{admins}" does not match the pattern ^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$',
  },
  {
    name: 'site flow taking the reserved id',
    profile: siteProfile.replace('  - id: customers', '  - id: resolvers'),
    expected: "profile.yaml:23:9: flows[1].id: 'resolvers' is reserved for the rules made from resolvers:; give the flow another id",
  },
  {
    name: 'two site flows with one id',
    profile: siteProfile.replace('  - id: customers', '  - id: admin-ssh'),
    expected: "profile.yaml:23:9: flows[1].id: duplicate flow id 'admin-ssh' (first defined on line 16)",
  },
  {
    name: 'a resolver that is not an address',
    profile: siteProfile.replace('resolvers: [10.0.9.53, 192.0.2.53]', 'resolvers: [10.0.9.53, dns.example]'),
    expected: "profile.yaml:14:24: resolvers[1]: 'dns.example' is not a valid IP address: an IPv4 address is four decimal numbers a.b.c.d",
  },
  {
    name: 'no environment',
    profile: siteProfile.replace('environment: production\n', ''),
    expected: "profile.yaml:1:1: (document): missing required field 'environment'",
  },
  {
    name: 'environment and environments together',
    profile: siteProfile.replace('environment: production\n', 'environment: production\nenvironments: [test]\n'),
    expected: 'profile.yaml:5:1: environments: write environment or environments, not both',
  },
  {
    name: 'an unknown region',
    profile: siteProfile.replace('region: eu', 'region: mars'),
    expected: 'profile.yaml:3:9: region: "mars" is not one of: north-america, latin-america, eu, europe-other, middle-east-africa, asia-pacific, china',
  },
  {
    name: 'a catalog vendor taking the reserved id site',
    vendor: minimalVendor.replace('  id: acme', '  id: site'),
    profile: minimalProfile.replace('  acme:', '  site:'),
    expected: "vendors/acme.yaml:2:7: vendor.id: 'site' is reserved for a profile's own flows; give the vendor another id",
  },
  {
    name: 'a catalog default that does not fit its variable',
    vendor: minimalVendor.replace('    pattern: "[0-9]+"', '    pattern: "[0-9]+"\n    default: abc'),
    expected: 'vendors/acme.yaml:11:14: variables.mid.default: "abc" does not match the vendor\'s pattern [0-9]+',
  },
];

describe('broken site flows and resolvers name file, line, column and field', () => {
  test.each(broken)('$name', async ({ profile, vendor, expected }) => {
    const { root, file } = site(profile ?? siteProfile, vendor ?? minimalVendor);
    const r = await runInProcess(['validate', '--catalog', root, file], root);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(expected);
    expect(r.status).toBe(1);
  });

  test('the valid site passes', async () => {
    const { root, file } = site();
    const r = await runInProcess(['validate', '--catalog', root, file], root);
    // Only the explicit any of the fixture's own flows is reported, as a warning.
    for (const line of r.stderr.trimEnd().split('\n')) expect(line).toMatch(/^profile\.yaml:\d+:\d+: warning: \[policy\] allows (any address|every port)/);
    expect(r.status).toBe(0);
  });
});

const withDns = dnsmasqAvailable || required ? describe : describe.skip;
if (!dnsmasqAvailable && !required) console.warn("skipping the site-flow resolve test: dnsmasq (Debian's dnsmasq-base) is not installed");

withDns('fwgen resolve looks up the names of site flows too', () => {
  test('the lock holds the site name beside the vendor name, and render pins it', async () => {
    if (!dnsmasqAvailable) throw new Error('dnsmasq is missing but FWGEN_REQUIRE_VALIDATORS=1: .ci/run must install dnsmasq-base');
    const dns = await startDnsmasq([
      { name: 'm42.acme.example', ipv4: ['192.0.2.1'], ttl: 3600 },
      { name: 'updates.acme.example', ipv4: ['198.51.100.8'], ipv6: ['2001:db8::8'], ttl: 3600 },
    ]);
    try {
      const { root, file } = site();
      const r = await runInProcess(['resolve', '--catalog', root, '-p', file, '--server', dns.address, '--timeout', '1000', '--tries', '1']);
      expect(r.stderr).toBe(`wrote ${lockPathFor(file)}: 2 of 2 names resolved\n`);
      expect([...readLock(lockPathFor(file)).lock.names.keys()]).toEqual(['m42.acme.example', 'updates.acme.example']);
      const nft = await runInProcess(['render', '--catalog', root, '-p', file, '-t', 'nftables', '-o', '-', '--only', 'pos-terminal.nft']);
      expect(nft.stdout).toMatch(/198\.51\.100\.8/);
    } finally {
      await dns.stop();
    }
  });
});
