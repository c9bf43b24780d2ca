/**
 * The readers on files other tools wrote, and on hostile ones: a pfSense config.xml as the
 * installer leaves it, aliases nested, rules disabled and floating; JSON as PowerShell writes it
 * (UTF-16, numbers for enums); and input that is not what it claims: one located error, never a
 * crash, never an entity expanded.
 */
import * as path from 'node:path';
import { InputError } from '../../src/errors';
import { readAwsGroups } from '../../src/ruleset/readers/aws';
import { decodeText } from '../../src/ruleset/readers/located-json';
import { readPfsense } from '../../src/ruleset/readers/pfsense';
import { readWindowsProfiles } from '../../src/ruleset/readers/windows';
import { audit } from './helpers';
import * as fs from 'node:fs';

const stock = path.join(__dirname, 'fixtures', 'pfsense-stock.xml');

function located(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).message;
  }
  throw new Error('no error');
}

describe('pfSense config.xml written by pfSense', () => {
  const rs = readPfsense(stock, fs.readFileSync(stock, 'utf8'));
  const rules = rs.chains[0]!.rules;

  test('order: quick floating first, the anti-lockout rule, then each interface in file order; disabled skipped', () => {
    expect(rules.map((r) => `${r.verdict.kind} ${r.match.iif} ${r.source.text}`)).toEqual([
      'drop wan block on wan: No telnet anywhere',
      'drop lan block on lan: No telnet anywhere',
      'accept lan anti-lockout rule on lan (implicit in pfSense)',
      'accept lan pass on lan: Default allow LAN to any rule',
      'accept lan pass on lan: Default allow LAN IPv6 to any rule',
      'accept wan pass on wan: Vendor remote support',
    ]);
    expect(rs.chains[0]!.policy).toBe('drop');
  });

  test('aliases resolved, nested ones and ranges too; interface networks; the anti-lockout ports', () => {
    const support = rules.find((r) => r.source.text.includes('Vendor remote support'))!;
    expect(support.match.src!.cidrs).toEqual(['198.51.100.0/28', '203.0.113.9/32', '203.0.113.20/30']);
    expect(support.match.dport!.ranges).toEqual([[3389, 3389], [5900, 5901]]);
    const lan = rules.find((r) => r.source.text.includes('LAN IPv6'))!;
    expect(lan.match).toMatchObject({ family: 6, src: { cidrs: ['10.20.0.0/24', '2001:db8:20::/64'] } });
    expect(rules[2]!.match.dport!.ranges).toEqual([[22, 22], [80, 80], [443, 443]]);
    expect(rs.notes.join('\n')).toMatch(/anti-lockout[\s\S]*Default allow LAN to any rule[\s\S]*Default allow LAN IPv6 to any rule/);
  });

  test('audited against a site: the stock LAN rules are openings beyond the profile, each named', () => {
    const r = audit('eu-restaurant-aloha', [stock]);
    const by = r.openings.map((o) => o.by.rule!.text);
    expect(by).toEqual(expect.arrayContaining(['pass on lan: Default allow LAN to any rule', 'pass on wan: Vendor remote support']));
    const lanAll = r.openings.find((o) => o.by.rule!.text === 'pass on lan: Default allow LAN to any rule')!;
    expect(lanAll.parts.some((p) => p.dst.widest <= 1 && BigInt(p.dst.count) > 2n ** 31n)).toBe(true);
    // Outbound vendor flows pass (by the stock rule); inbound ones meet the default deny.
    expect(r.flows.filter((f) => f.direction === 'outbound' && f.deviceClass === 'boh-server' && f.status === 'met').length).toBeGreaterThan(0);
    const inbound = r.flows.find((f) => f.service === 'cloudflare' && f.direction === 'inbound')!;
    expect(inbound.status).toBe('missing');
    expect(inbound.blockedBy.some((b) => b.byDefault && b.verdict === 'drop')).toBe(true);
  });
});

describe('hostile and malformed input: one located error', () => {
  test('a document type (entities) is refused before anything is parsed', () => {
    const xml = '<?xml version="1.0"?>\n<!DOCTYPE pfsense [<!ENTITY x "y">]>\n<pfsense><filter/></pfsense>';
    expect(located(() => readPfsense('c.xml', xml))).toMatch(/^c\.xml:2:1: \(document\): a document type or entity declaration/);
  });

  test('XML that is not well-formed, an alias loop, an unknown port alias', () => {
    expect(located(() => readPfsense('c.xml', '<pfsense>\n<filter>\n<rule></filter></pfsense>'))).toMatch(/^c\.xml:3:\d+: \(document\): not well-formed XML/);
    const loop = '<pfsense><aliases>\n<alias><name>a</name><type>host</type><address>b</address></alias>\n<alias><name>b</name><type>host</type><address>a</address></alias>\n</aliases><filter>\n<rule><type>pass</type><interface>lan</interface><source><address>a</address></source><destination><any/></destination></rule></filter></pfsense>';
    expect(located(() => readPfsense('c.xml', loop))).toMatch(/aliases nest in a loop: a > b > a/);
    const port = '<pfsense><filter>\n<rule><type>pass</type><interface>lan</interface><protocol>tcp</protocol><source><any/></source><destination><any/><port>nope</port></destination></rule></filter></pfsense>';
    expect(located(() => readPfsense('c.xml', port))).toMatch(/^c\.xml:2:1: filter\.rule\[0\]\.destination\.port: 'nope' is not a port/);
  });

  test('AWS: a bad CIDR and a bad protocol, each at its line', () => {
    const json = '{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [\n {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [\n  {"CidrIp": "10.0.0.300/32"}]},\n {"IpProtocol": "smtp"}]}]}';
    const msg = located(() => readAwsGroups('sg.json', json));
    expect(msg.split('\n')).toEqual([
      "sg.json:3:3: SecurityGroups[0].IpPermissions[0].IpRanges[0].CidrIp: '10.0.0.300/32' is not an IP address or network",
      "sg.json:4:2: SecurityGroups[0].IpPermissions[1].IpProtocol: 'smtp' is not a protocol (tcp, udp, icmp, icmpv6, -1 or a number 0-255)",
    ]);
  });

  test('Windows: UTF-16 as Windows PowerShell writes it, enums as numbers; a bad value located', () => {
    const doc = JSON.stringify([{ Name: 'x', Enabled: 1, Direction: 1, Action: 2, Profile: 0, PortFilter: { Protocol: 'TCP', LocalPort: '3389' }, AddressFilter: { RemoteAddress: ['192.0.2.0/255.255.255.240', '198.51.100.1-198.51.100.6'] } }], null, 1);
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(doc, 'utf16le')]);
    const [domain] = readWindowsProfiles('w.json', decodeText(bytes));
    const rule = domain!.ruleset.chains[0]!.rules[0]!;
    expect(rule.match).toMatchObject({ protocol: 'tcp', dport: { ranges: [[3389, 3389]] }, src: { cidrs: ['192.0.2.0/28', '198.51.100.1/32', '198.51.100.2/31', '198.51.100.4/31', '198.51.100.6/32'] } });
    expect(domain!.ruleset.chains.map((c) => c.policy)).toEqual(['drop', 'accept']);
    expect(located(() => readWindowsProfiles('w.json', '[\n{"Name": "x", "Enabled": 1, "Direction": 9, "Action": 2}]'))).toMatch(/^w\.json:2:1: Rules\[0\]\.Direction: '9' is not one of in, out/);
  });

  test('truncated and garbled files never crash: each is an InputError or reads', () => {
    const texts = [fs.readFileSync(stock, 'utf8'), fs.readFileSync(path.join(__dirname, '../../out/eu-restaurant-aloha/aws/boh-server.ingress.json'), 'utf8')];
    for (const text of texts) {
      for (let cut = 0; cut < text.length; cut += Math.ceil(text.length / 60)) {
        const part = text.slice(0, cut) + '\u0000<&"]}' + text.slice(cut + 7);
        for (const read of [() => readPfsense('f', part), () => readAwsGroups('f', part), () => readWindowsProfiles('f', part)]) {
          try {
            read();
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
          }
        }
      }
    }
  });
});
