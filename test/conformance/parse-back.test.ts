import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSite } from '../../src/render/site';
import { resolveOptions } from '../../src/targets/options';
import { classesWithRules, WINDOWS_HOSTS } from '../../src/targets/rule-selection';
import { targets } from '../../src/targets/registry';
import { pfsense, type PfsenseOptions } from '../../src/targets/pfsense';
import { windows, type WindowsOptions } from '../../src/targets/windows';
import { loadSite, exampleProfiles } from '../../src/workspace';
import { acmeProfile, acmeVendor, catalogRoot, lockText, tempCatalog, withAnswers } from '../helpers';
import type { Policy } from '../../src/policy/types';
import {
  awsPermissionsCoverage,
  cfnCoverage,
  CoverageBuilder,
  expectedCoverage,
  expectedNetworkFirewallNames,
  networkFirewallNames,
  pfsenseBlocks,
  pfsenseCoverage,
  windowsCoverage,
} from './parse-back';

/**
 * pfSense, Windows and AWS output read back and compared with the policy IR: for every
 * (class, direction, protocol, port) the same addresses and names, nothing missing, nothing
 * extra, nothing wider. What a target documents it cannot hold (wildcards without a native
 * form, programs outside Windows, the inbound mirror of a rule between two classes at a
 * gateway) is left out of the expectation the same way.
 */

function synthetic(): string {
  const vendor = acmeVendor(`  - id: web
    name: Acme web
    requirement: required
    deviceClasses: [back-office-pc, boh-server]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [443, 80]
        domains: [www.acme.test, "*.cdn.acme.test"]
        addresses: [198.51.100.0/25, "2001:db8:7::/48"]
      - direction: outbound
        protocol: tcp
        ports: [8443]
        domains: [api.acme.test]
  - id: feeds
    name: Acme feeds
    requirement: required
    deviceClasses: [back-office-pc]
    flows:
      - direction: inbound
        protocol: tcp
        ports: ["3000-3010", 9443]
        addresses: [203.0.113.0/26, 203.0.113.64/26, "2001:db8:9::1"]
      - direction: outbound
        protocol: udp
        ports: [123]
        addresses: [192.0.2.123]
      - direction: outbound
        protocol: icmp
        addresses: [192.0.2.1]
  - id: local
    name: Acme local
    requirement: required
    deviceClasses: [boh-server]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [5000]
        peers: [back-office-pc]
`);
  const root = tempCatalog({ 'acme.yaml': vendor });
  fs.writeFileSync(
    path.join(root, 'site.yaml'),
    withAnswers(
      acmeProfile('  back-office-pc:\n    addresses: [10.0.0.0/24, "2001:db8:10::/64"]\n  boh-server:\n    addresses: [10.0.1.10]\n', '  windows:\n    dynamicKeywords: true\n'),
      ['back-office-pc', 'boh-server'].flatMap((c): Array<[string, string]> => [['management-access', c], ['dns-lookup', c]]),
    ),
  );
  fs.writeFileSync(
    path.join(root, 'site.lock.yaml'),
    lockText('acme-site', {
      'www.acme.test': { ipv4: ['192.0.2.80'], ipv6: ['2001:db8:53::50'] },
      'api.acme.test': { ipv4: ['192.0.2.81', '192.0.2.82'] },
    }),
  );
  return root;
}

const cases: Array<{ label: string; catalog: string; profile: string }> = exampleProfiles().map((p) => ({ label: path.basename(p, '.yaml'), catalog: catalogRoot, profile: p }));
const syntheticRoot = synthetic();
cases.push({ label: 'synthetic two-class site', catalog: syntheticRoot, profile: path.join(syntheticRoot, 'site.yaml') });

function render(c: (typeof cases)[number]) {
  const result = renderSite(c.catalog, c.profile, targets);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
  const files = new Map(result.files.map((f) => [f.path.split('/').slice(1).join('/'), f.content]));
  return { policy: result.policy, files, profile: loadSite(c.catalog, c.profile).profile };
}

/** pfSense: names as FQDN aliases, only the families the class has, no inbound mirror of a class-to-class rule. */
function pfsenseExpected(policy: Policy): string[] {
  const classes = new Map(policy.deviceClasses.map((d) => [d.id, d]));
  return expectedCoverage(
    policy,
    (r) => r.protocol !== undefined && !(r.direction === 'inbound' && r.remote.peers.length > 0),
    () => 'fqdn',
    (r) => (['ipv4', 'ipv6'] as const).filter((f) => classes.get(r.deviceClass)!.addresses[f].length > 0),
  ).lines();
}

describe.each(cases)('$label: files read back allow what the policy says', (c) => {
  const { policy, files, profile } = render(c);

  test('pfSense config.xml', () => {
    expect(pfsenseCoverage(files.get('pfsense/config.xml')!, policy).lines()).toEqual(pfsenseExpected(policy));
  });

  test('pfSense: last, on its interface, one rule blocks every source in no device class, both families', () => {
    const o = resolveOptions(pfsense.options, profile.targets.pfsense, policy) as PfsenseOptions;
    const blocks = pfsenseBlocks(files.get('pfsense/config.xml')!);
    expect(blocks.map(({ source, ...b }) => ({ ...b, not: source.not }))).toEqual([
      { index: blocks[0]!.rules - 1, rules: blocks[0]!.rules, interface: o.interface, ipprotocol: 'inet46', destination: { any: '' }, not: true },
    ]);
    // Its alias holds exactly the classes' addresses: a wider alias would let a device in no class through.
    const alias = new CoverageBuilder();
    alias.add('site', 'source', 'any', 'any', { cidrs: blocks[0]!.source.entries });
    const classes = new CoverageBuilder();
    classes.add('site', 'source', 'any', 'any', { cidrs: policy.deviceClasses.flatMap((d) => [...d.addresses.ipv4, ...d.addresses.ipv6]) });
    expect(alias.lines()).toEqual(classes.lines());
  });

  test('Windows scripts (through the PowerShell parser)', async () => {
    const o = resolveOptions(windows.options, profile.targets.windows, policy) as WindowsOptions;
    const classes = classesWithRules(policy, WINDOWS_HOSTS);
    const parsed = new CoverageBuilder();
    for (const cls of classes) await windowsCoverage(files.get(`windows/${cls}.ps1`)!, cls, parsed);
    const expected = expectedCoverage(
      policy,
      (r) => classes.includes(r.deviceClass),
      (r) => (o.dynamicKeywords && r.direction === 'outbound' ? 'keywords' : 'pinned'),
      undefined,
      true,
    );
    expect(parsed.lines()).toEqual(expected.lines());
  });

  test('AWS IpPermissions JSON and the CloudFormation template', () => {
    const expected = expectedCoverage(policy, (r) => r.protocol !== undefined, () => 'pinned').lines();
    const json = new CoverageBuilder();
    for (const cls of classesWithRules(policy)) {
      for (const dir of ['ingress', 'egress'] as const) awsPermissionsCoverage(JSON.parse(files.get(`aws/${cls}.${dir}.json`)!), cls, dir, json);
    }
    expect(json.lines()).toEqual(expected);
    expect(cfnCoverage(JSON.parse(files.get('aws/security-groups.cfn.json')!)).lines()).toEqual(expected);
  });

  test('AWS Network Firewall: each name for its class, TLS only where 443 is selected, HTTP only where 80 is', () => {
    const group = files.get('aws/network-firewall.rule-group.json');
    const expected = expectedNetworkFirewallNames(policy);
    expect(group === undefined ? [] : networkFirewallNames(JSON.parse(group), policy)).toEqual(expected);
  });
});

test('the synthetic site exercises what the comparison is for', () => {
  const { files } = render(cases[cases.length - 1]!);
  const nfw = JSON.parse(files.get('aws/network-firewall.rule-group.json')!);
  const rules = String(nfw.RuleGroup.RulesSource.RulesString);
  // api.acme.test is selected on 8443 only: no TLS-on-443 or HTTP pass for it.
  expect(rules).not.toContain('api.acme.test');
  expect(rules).toContain('pass http $CLASS_BACK_OFFICE_PC any -> $EXTERNAL_NET 80 (http.host; content:"www.acme.test"; startswith; endswith;');
  expect(rules).toContain('pass tls $CLASS_BOH_SERVER any -> $EXTERNAL_NET 443 (tls.sni; content:".cdn.acme.test"; nocase; endswith;');
  // The vendor's literal ranges on 443 pass by address, so the class's TLS drop does not cut them off.
  expect(rules).toMatch(/pass tls \$CLASS_BACK_OFFICE_PC any -> \$ACME_WEB_BACK_OFFICE_PC 443 /);
  expect(nfw.RuleGroup.RuleVariables.IPSets.ACME_WEB_BACK_OFFICE_PC.Definition).toEqual(['198.51.100.0/25', '2001:db8:7::/48']);
  expect(rules.split('\n').filter((l) => l.startsWith('drop '))).toHaveLength(4);
});

test('the comparison catches a widened port, an extra address and a missing rule', async () => {
  const c = cases[cases.length - 1]!;
  const { policy, files } = render(c);
  const pfExpected = pfsenseExpected(policy);
  const xml = files.get('pfsense/config.xml')!;
  expect(xml).toContain('<port>123</port>');
  expect(pfsenseCoverage(xml.replace('<port>123</port>', '<port>120-130</port>'), policy).lines()).not.toEqual(pfExpected);

  const ps = files.get('windows/boh-server.ps1')!;
  const widened = await windowsCoverage(ps.replace("-RemoteAddress @('198.51.100.0/25'", "-RemoteAddress @('198.51.100.0/24'"), 'boh-server');
  const exact = await windowsCoverage(ps, 'boh-server');
  expect(widened.lines()).not.toEqual(exact.lines());

  const egress = JSON.parse(files.get('aws/back-office-pc.egress.json')!);
  const before = awsPermissionsCoverage(egress, 'back-office-pc', 'egress').lines();
  egress.pop();
  expect(awsPermissionsCoverage(egress, 'back-office-pc', 'egress').lines()).not.toEqual(before);
});
