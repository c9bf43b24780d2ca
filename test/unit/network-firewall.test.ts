/**
 * The AWS Network Firewall rule group as its own module: a typed build numbered in code, the
 * Suricata text made from it at the edge, and the aws target writing it as a part.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSite } from '../../src/render/site';
import { aws } from '../../src/targets/aws';
import { Diagnostics } from '../../src/targets/diagnostics';
import { networkFirewall, networkFirewallBuild, RULE_GROUP_FILE, suricataLine, type SuricataRule } from '../../src/targets/network-firewall';
import { withParts } from '../../src/targets/parts';
import { targetById } from '../../src/targets/registry';
import { catalogRoot, tempDir } from '../helpers';

// Two classes reaching names on 443, 80 and 8443, by name and by address, and one over UDP.
const PROFILE = `profile: { name: nfw-site }
region: eu
environment: production
vendors: { excoinz: {} }
deviceClasses:
  boh-server: { addresses: ['10.20.0.10', '2001:db8:20::10'], interface: lan0 }
  caps-server: { addresses: ['10.30.0.5'], interface: lan0 }
flows:
  - { deviceClasses: [boh-server], id: web, name: Web, direction: outbound, protocol: tcp, ports: [443], domains: [a.example.com, '*.cdn.example.net'] }
  - { deviceClasses: [boh-server, caps-server], id: both, name: Both, direction: outbound, protocol: tcp, ports: [80, 443, 8443], domains: [b.example.org], addresses: ['198.51.100.7'] }
  - { deviceClasses: [boh-server], id: dns, name: DNS, direction: outbound, protocol: udp, ports: [53], domains: [dns.example] }
  - { deviceClasses: [caps-server], id: dns2, name: DNS2, direction: outbound, protocol: udp, ports: [53], addresses: ['192.0.2.53'] }
  - { deviceClasses: [boh-server, caps-server], id: rdp, name: RDP, direction: inbound, protocol: tcp, ports: [3389], addresses: ['192.0.2.0/28'] }
`;

function site() {
  const file = path.join(tempDir('fwgen-nfw-'), 'nfw-site.yaml');
  fs.writeFileSync(file, PROFILE);
  return renderSite(catalogRoot, file, [targetById('aws')!], true);
}

describe('the Network Firewall rule group', () => {
  test('rules are numbered in code: passes first, sid 1..n, each line carrying its own', () => {
    const result = site();
    const built = networkFirewallBuild(result.policy, new Diagnostics('test'));
    expect(built.rules.map((r) => r.sid)).toEqual(built.rules.map((_r, i) => i + 1));
    const firstDrop = built.rules.findIndex((r) => r.kind === 'drop');
    expect(built.rules.slice(firstDrop).every((r) => r.kind === 'drop')).toBe(true);
    expect(built.rules.slice(firstDrop).map((r) => [r.protocol, r.kind === 'drop' && r.deviceClass])).toEqual([
      ['tls', 'boh-server'],
      ['http', 'boh-server'],
      ['tls', 'caps-server'],
      ['http', 'caps-server'],
    ]);
    const group = JSON.parse(result.files.find((f) => f.path === `nfw-site/aws/${RULE_GROUP_FILE}`)!.content);
    const lines = group.RuleGroup.RulesSource.RulesString.split('\n');
    expect(lines).toEqual(built.rules.map(suricataLine));
    lines.forEach((l: string, i: number) => expect(l).toMatch(new RegExp(`; sid:${i + 1}; rev:1;\\)$`)));
    expect(group.Capacity).toBe(Math.max(100, lines.length * 2));
  });

  test('the build is data another module can read: names and addresses per class', () => {
    const built = networkFirewallBuild(site().policy, new Diagnostics('test'));
    const of = (variable: string, kind: SuricataRule['kind'], protocol: string) =>
      built.rules.filter((r) => 'variable' in r.source && r.source.variable === variable && r.kind === kind && r.protocol === protocol).map((r) => (r.kind === 'name' ? r.name : r.kind === 'address' ? built.variables[r.variable] : r.deviceClass));
    expect(built.variables.CLASS_CAPS_SERVER).toEqual(['10.30.0.5/32']);
    expect(of('CLASS_BOH_SERVER', 'name', 'tls')).toEqual(['*.cdn.example.net', 'a.example.com', 'b.example.org']);
    expect(of('CLASS_BOH_SERVER', 'name', 'http')).toEqual(['b.example.org']);
    expect(of('CLASS_CAPS_SERVER', 'name', 'tls')).toEqual(['b.example.org']);
    expect(of('CLASS_CAPS_SERVER', 'address', 'tls')).toEqual([['198.51.100.7/32']]);
    expect(of('CLASS_CAPS_SERVER', 'address', 'http')).toEqual([['198.51.100.7/32']]);
  });

  test('a value cannot leave its quotes: names are hex-escaped, messages lose quote, semicolon, pipe and backslash', () => {
    const line = suricataLine({ sid: 7, kind: 'name', protocol: 'tls', source: { homeNet: true }, name: 'a";drop tls any any -> any any (sid:1;)|b.example', summary: 'x"; pass \\ |y' });
    expect(line).toBe(
      'pass tls $HOME_NET any -> $EXTERNAL_NET 443 (tls.sni; content:"a|22||3B|drop|20|tls|20|any|20|any|20|-|3E||20|any|20|any|20||28|sid|3A|1|3B||29||7C|b.example"; nocase; startswith; endswith; msg:"x   pass y"; flow:to_server, established; sid:7; rev:1;)',
    );
    expect(suricataLine({ sid: 2, kind: 'name', protocol: 'http', source: { variable: 'CLASS_X' }, name: '*.cdn.example.net', summary: 's' })).toBe(
      'pass http $CLASS_X any -> $EXTERNAL_NET 80 (http.host; content:".cdn.example.net"; endswith; msg:"s"; flow:to_server, established; sid:2; rev:1;)',
    );
  });
});

describe('the aws target writes it as a part', () => {
  test('in the aws folder, its warnings said by aws, once; the security groups alone do not write it', () => {
    const result = site();
    expect(result.files.map((f) => f.path)).toContain(`nfw-site/aws/${RULE_GROUP_FILE}`);
    const nfwWarnings = result.diagnostics.filter((d) => /Network Firewall (rules match|sees names)/.test(d.message));
    expect(nfwWarnings.map((d) => d.target)).toEqual(['aws', 'aws', 'aws']);
    expect(new Set(result.diagnostics.map((d) => `${d.severity}|${d.message}|${JSON.stringify(d.loc)}`)).size).toBe(result.diagnostics.length);
    const o = { groupName: 'g', vpcId: '', maxRules: 60, allowEmpty: false };
    expect(aws.files(result.policy, o).map((f) => f.path)).not.toContain(RULE_GROUP_FILE);
    expect(targetById('aws')!.files(result.policy, o).filter((f) => f.part === networkFirewall.id).map((f) => f.path)).toEqual([RULE_GROUP_FILE]);
    expect(targetById('aws')!.apply).toBe(`${aws.apply}; ${networkFirewall.apply}`);
  });

  test('a part writing a file the target writes is an internal error, not a silent overwrite', () => {
    const policy = site().policy;
    const clash = withParts(aws, [{ ...networkFirewall, files: () => [{ path: 'security-groups.cfn.json', template: 'document.json.hbs', scope: { kind: 'rule-group' as const } }] }]);
    expect(() => clash.files(policy, { groupName: 'g', vpcId: '', maxRules: 60, allowEmpty: false })).toThrow(/internal: network-firewall and aws both write security-groups\.cfn\.json/);
  });
});
