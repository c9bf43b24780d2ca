import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCatalog } from '../../src/catalog/load-catalog';
import { loadProfile } from '../../src/catalog/profile';
import { buildPolicy } from '../../src/policy/build';
import { renderSite } from '../../src/render/site';
import { lockableNames } from '../../src/resolve/update-lock';
import { targets } from '../../src/targets/registry';
import { conformanceTests } from '../conformance/conform';
import { renderToTemp } from '../conformance/render-helpers';
import { required } from '../conformance/validators';
import { dnsmasqAvailable, startDnsmasq } from '../dns/dnsmasq';
import { catalogRoot, runInProcess, tempDir } from '../helpers';
import { startFeedServer } from './server';

/**
 * The vendor file generated from the Microsoft 365 feed is a vendor like any other: a
 * profile selects it, fwgen resolve pins its names (against dnsmasq on loopback, with
 * documentation addresses), and every target renders it into files the real tools accept.
 */
const maybe = dnsmasqAvailable || required ? describe : describe.skip;
if (!dnsmasqAvailable && !required) console.warn("skipping the Microsoft 365 render checks: dnsmasq (Debian's dnsmasq-base) is not installed");

const PROFILE = `profile:
  name: office-m365
  description: An office whose PCs use Microsoft 365
region: eu
environment: production
vendors:
  microsoft-365:
    include: [exchange-optional]
    variables:
      tenant: contoso
deviceClasses:
  back-office-pc:
    addresses: [192.168.10.0/24]
    interface: lan0
targets:
  iptables:
    mode: gateway
  nftables:
    mode: gateway
  pfsense:
    interface: lan
  aws:
    # Microsoft 365's ranges pass the default 60 rules of a security group; the quota was raised.
    maxRules: 400
acknowledge:
  - { check: management-access, deviceClass: back-office-pc, reason: Used at the desk only }
  - { check: dns-lookup, deviceClass: back-office-pc, reason: The test resolves names on loopback only }
`;

const stripFetched = (text: string) => text.replace(/^# fetched: .*$/m, '# fetched:');

maybe('the Microsoft 365 vendor file generated from the feed', () => {
  let catalog = '';
  let profile = '';
  let dir = '';
  let generated = '';

  beforeAll(async () => {
    if (!dnsmasqAvailable) throw new Error('dnsmasq is missing but FWGEN_REQUIRE_VALIDATORS=1: .ci/run must install dnsmasq-base');
    for (const v of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete process.env[v];
    catalog = tempDir('fwgen-m365-');
    fs.cpSync(catalogRoot, catalog, { recursive: true });
    fs.rmSync(path.join(catalog, 'vendors/microsoft-365.yaml'));
    const feeds = await startFeedServer();
    try {
      const r = await runInProcess(['lists', 'update', 'microsoft-365', '--catalog', catalog, '--source-base', feeds.base, '--tries', '1']);
      if (r.status !== 0) throw new Error(r.stderr);
    } finally {
      await feeds.close();
    }
    generated = fs.readFileSync(path.join(catalog, 'vendors/microsoft-365.yaml'), 'utf8');

    const site = tempDir('fwgen-m365-site-');
    profile = path.join(site, 'office-m365.yaml');
    fs.writeFileSync(profile, PROFILE);
    const cat = loadCatalog(catalog);
    const names = lockableNames(buildPolicy(cat, loadProfile(profile, cat)));
    const blocks = ['192.0.2', '198.51.100', '203.0.113'];
    const dns = await startDnsmasq(names.map((name, i) => ({ name, ipv4: [`${blocks[i % 3]}.${20 + i}`], ipv6: [`2001:db8:365::${(20 + i).toString(16)}`], ttl: 3600 })));
    try {
      const r = await runInProcess(['resolve', '-p', profile, '--catalog', catalog, '--server', dns.address, '--timeout', '1000']);
      if (r.status !== 0) throw new Error(r.stderr);
    } finally {
      await dns.stop();
    }
    dir = renderToTemp(profile, catalog).dir;
  });

  test('the shipped vendor file is what the feed sample generates', () => {
    const shippedFile = path.join(catalogRoot, 'vendors/microsoft-365.yaml');
    // After a change to the generator: UPDATE_GOLDEN=1 rewrites the shipped file from the sample.
    if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(shippedFile, generated);
    const shipped = fs.readFileSync(shippedFile, 'utf8');
    expect(stripFetched(generated)).toBe(stripFetched(shipped));
  });

  test('validates against the vendor schema, with services by service area and the feed version', async () => {
    const r = await runInProcess(['validate', '--catalog', catalog]);
    expect(r.stderr.split('\n').filter((l) => l && !/: warning: \[policy\] allows any address/.test(l))).toEqual([]);
    expect(r.status).toBe(0);
    const vendor = loadCatalog(catalog).vendors.get('microsoft-365')!;
    expect(vendor.source.date).toBe('version 2025103000');
    expect(vendor.services.map((s) => `${s.id}:${s.requirement}`)).toEqual([
      'common:required', 'exchange:required', 'exchange-optional:optional', 'sharepoint:required', 'skype:required',
    ]);
    const skype = vendor.services.find((s) => s.id === 'skype')!;
    // Set 11 is UDP 3478-3481 to ranges only; set 12 is TCP and UDP 443 to names and ranges.
    expect(skype.flows.map((f) => `${f.protocol} ${f.ports.map((p) => ('range' in p ? `${p.range.from}-${p.range.to}` : p.variable)).join(',')}`)).toEqual([
      'udp 3478-3478,3479-3479,3480-3480,3481-3481', 'tcp 443-443', 'udp 443-443',
    ]);
    expect(vendor.services.find((s) => s.id === 'sharepoint')!.flows[0]!.domains).toEqual(['{tenant}-my.sharepoint.com', '{tenant}.sharepoint.com']);
    expect(vendor.variables.get('tenant')?.kind).toBe('name');
  });

  test('wildcard names are followed where a target can and reported where it cannot', () => {
    const result = renderSite(catalog, profile, targets);
    const warnings = result.diagnostics.filter((d) => d.severity === 'warning').map((d) => `[${d.target}] ${d.message}`);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(warnings.some((w) => w.startsWith('[pfsense] *.outlook.com: pfSense cannot resolve a wildcard'))).toBe(true);
    expect(warnings.some((w) => w.startsWith('[aws]') && w.includes('*.outlook.com'))).toBe(true);
    const nftDnsmasq = fs.readdirSync(path.join(dir, 'nftables')).filter((f) => f.endsWith('.dnsmasq.conf'));
    expect(nftDnsmasq.length).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(dir, 'nftables', nftDnsmasq[0]!), 'utf8')).toMatch(/^nftset=\/outlook\.com\//m);
    // The tenant's names are concrete and pinned from the lock.
    expect(fs.readFileSync(path.join(dir, 'pfsense', fs.readdirSync(path.join(dir, 'pfsense'))[0]!), 'utf8')).toContain('contoso.sharepoint.com');
  });

  conformanceTests('microsoft-365', () => dir, { networkFirewall: true });
});
