/**
 * Planted differences, for each format audit reads: a port removed, a range widened, a foreign
 * accept rule, a shadowed rule (a drop before an accept; on Windows a Block rule, which wins
 * whatever its place; AWS has no drops, so there a group reference stands in, reported as
 * such). Each is found, and the answer names the line of the rule that causes it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AuditReport } from '../../src/audit';
import { cidrRange } from '../../src/ruleset/ranges';
import { withTool } from '../conformance/validators';
import { audit, awsSpec, nftJsonFromKernel, outDir, planted, useMoto, windowsExport, write } from './helpers';

const SITE = 'eu-restaurant-aloha';

function lineOf(file: string, needle: string): number {
  const i = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`${needle} not in ${file}`);
  return i + 1;
}

function flow(r: AuditReport, service: string, cls: string, direction: string, protocol: string) {
  const f = r.flows.filter((x) => x.service === service && x.deviceClass === cls && x.direction === direction && x.protocol === protocol);
  expect(f.length).toBeGreaterThan(0);
  return f;
}

function openingAt(r: AuditReport, line: number) {
  const o = r.openings.filter((x) => x.by.rule?.line === line);
  expect({ line, openings: o.length > 0 }).toEqual({ line, openings: true });
  return o;
}

describe('nftables (the gateway file)', () => {
  const file = path.join(outDir, SITE, 'nftables', 'fwgen.nft');
  const accept = '\t\tip saddr @class_boh_server_v4 ip daddr @class_order_entry_terminal_v4 tcp dport { 9054-9055, 9090 } accept';

  test('a port removed: the flow is partly met, port 9090 missing, stopped by the last drop', () => {
    const f = planted(file, (t) => t.replace(accept, accept.replace('{ 9054-9055, 9090 }', '{ 9054-9055 }')));
    const r = audit(SITE, [f]);
    const [boh] = flow(r, 'aloha', 'boh-server', 'outbound', 'tcp');
    expect(boh!.status).toBe('partial');
    expect(boh!.missing.map((m) => [m.family, m.ports])).toEqual([[4, '9090']]);
    expect(boh!.blockedBy.map((b) => [b.verdict, b.rule?.line])).toEqual([['drop', lineOf(f, 'ip saddr @site_classes_v4 drop comment "fwgen: not allowed')]]);
    expect(boh!.admittedBy.map((a) => a.line)).toContain(lineOf(f, accept.replace('{ 9054-9055, 9090 }', '{ 9054-9055 }').trim()));
    expect(r.openings).toEqual([]);
  });

  test('a range widened: an opening beyond the profile, on the rule that uses the set', () => {
    const f = planted(file, (t) => t.replace(/(set site_admin_rdp_v4 \{[^}]*elements = \{\s*)192\.0\.2\.0\/28/, '$1192.0.2.0/24'));
    const r = audit(SITE, [f]);
    const [o] = openingAt(r, lineOf(f, 'ip saddr @site_admin_rdp_v4 ip daddr @class_boh_server_v4 tcp dport 3389 accept'));
    expect(o!.parts[0]!.src.cidrs).toEqual(['192.0.2.16/28', '192.0.2.32/27', '192.0.2.64/26', '192.0.2.128/25']);
    expect(o!.parts[0]!.ports).toBe('3389');
  });

  test('a foreign accept rule: an opening naming it, with its width', () => {
    const f = planted(file, (t) => t.replace('\t\tct state established,related accept\n', '\t\tct state established,related accept\n\t\tip daddr 10.20.0.0/24 tcp dport 22 accept\n'));
    const r = audit(SITE, [f]);
    const [o] = openingAt(r, lineOf(f, 'ip daddr 10.20.0.0/24 tcp dport 22 accept'));
    // From the site's classes to anything on 10.20.0.0/24, and from anywhere to its classes: tcp 22 only.
    expect(o!.parts.every((p) => p.protocols.join() === 'tcp' && p.ports === '22')).toBe(true);
    const within = (c: string): boolean => {
      const r = cidrRange(c);
      return !('error' in r) && r.range[0] >= 0x0a140000n && r.range[1] <= 0x0a1400ffn;
    };
    expect(o!.parts.flatMap((p) => p.dst.cidrs).every(within)).toBe(true);
    expect(o!.parts.map((p) => p.dst.cidrs)).toContainEqual(['10.20.0.10/32', '10.20.0.32/28']);
    expect(r.flows.every((x) => x.status === 'met' || x.status === 'unchecked')).toBe(true);
  });

  test('a shadowed rule: a drop before the accept; the flow is not met and the drop is named', () => {
    const before = '\t\tip saddr @paytronix_cloudflare_v4 ip daddr @class_boh_server_v4 tcp dport 443 accept';
    const f = planted(file, (t) => t.replace(before, `\t\tip daddr 10.20.0.10 tcp dport 443 drop\n${before}`));
    const r = audit(SITE, [f]);
    const inbound = flow(r, 'cloudflare', 'boh-server', 'inbound', 'tcp')[0]!;
    expect(inbound.status).toBe('partial'); // IPv6 still passes
    expect(inbound.missing.map((m) => m.family)).toEqual([4]);
    expect(inbound.blockedBy.map((b) => b.rule?.line)).toEqual([lineOf(f, 'ip daddr 10.20.0.10 tcp dport 443 drop')]);
    expect(r.openings).toEqual([]);
  });
});

describe('iptables-save (rules.v4 with its ipsets)', () => {
  const dir = path.join(outDir, SITE, 'iptables');
  const v4 = path.join(dir, 'rules.v4');
  const ipsets = path.join(dir, 'ipsets');
  const rdp = '-A FWGEN-FWD -d 10.20.0.10/32 -s 192.0.2.0/28 -p tcp -m tcp --dport 3389';
  const run = (f: string) => audit(SITE, [f, path.join(dir, 'rules.v6'), ipsets]);

  test('a port removed', () => {
    const f = planted(v4, (t) => t.replace('--dports 9054:9055,9090 -m comment --comment "paytronix.aloha.boh-server.out.tcp', '--dports 9054:9055 -m comment --comment "paytronix.aloha.boh-server.out.tcp'), 'rules.v4');
    const boh = flow(run(f), 'aloha', 'boh-server', 'outbound', 'tcp')[0]!;
    expect(boh.status).toBe('partial');
    expect(boh.missing.map((m) => [m.family, m.ports])).toEqual([[4, '9090']]);
    expect(boh.blockedBy.map((b) => b.rule?.line)).toEqual([lineOf(f, '-A FWGEN-FWD -s 10.20.0.10/32 -m comment --comment "fwgen: not allowed')]);
  });

  test('a range widened, a foreign accept, and a drop that shadows an accept', () => {
    const f = planted(v4, (t) => t
      .replace(rdp, rdp.replace('192.0.2.0/28', '192.0.2.0/24'))
      .replace('-A FWGEN-FWD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n', '-A FWGEN-FWD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n-A FWGEN-FWD -d 10.20.0.10/32 -p tcp -m tcp --dport 443 -j DROP\n-A FWGEN-FWD -s 10.20.0.32/28 -p udp -m udp --dport 161 -j ACCEPT\n'), 'rules.v4');
    const r = run(f);
    openingAt(r, lineOf(f, rdp.replace('192.0.2.0/28', '192.0.2.0/24')));
    const [snmp] = openingAt(r, lineOf(f, '--dport 161 -j ACCEPT'));
    expect(snmp!.parts.every((p) => p.protocols.join() === 'udp' && p.ports === '161')).toBe(true);
    const cf = flow(r, 'cloudflare', 'boh-server', 'inbound', 'tcp')[0]!;
    expect(cf.status).toBe('partial');
    expect(cf.blockedBy.map((b) => b.rule?.line)).toEqual([lineOf(f, '--dport 443 -j DROP')]);
  });
});

describe('nftables JSON (nft -j list ruleset of the loaded file)', () => {
  withTool('nft')('a drop before an accept, and a foreign accept, each named by its JSON element', () => {
    const file = path.join(outDir, SITE, 'nftables', 'fwgen.nft');
    const f = planted(file, (t) => t.replace('\t\tct state established,related accept\n', '\t\tct state established,related accept\n\t\tip daddr 10.20.0.10 tcp dport 3389 drop\n\t\tip saddr 10.20.0.32/28 udp dport 161 accept\n'), 'fwgen.nft');
    const json = write('ruleset.json', nftJsonFromKernel(f));
    const r = audit(SITE, [json]);
    const rdp = flow(r, 'admin-rdp', 'boh-server', 'inbound', 'tcp')[0]!;
    expect(rdp.status).toBe('missing');
    // The planted drop, and on the LAN interface the drop of sources in no class.
    expect(rdp.blockedBy.every((b) => b.rule!.file === json)).toBe(true);
    expect(rdp.blockedBy.filter((b) => /3389/.test(b.rule!.text)).length).toBe(1);
    expect(r.openings.map((o) => o.parts[0]!.ports)).toEqual(['161']);
  });
});

describe('pfSense config.xml', () => {
  const file = path.join(outDir, SITE, 'pfsense', 'config.xml');

  test('a port removed from a port alias', () => {
    const f = planted(file, (t) => t.replace('<address>9054:9055 9090</address>', '<address>9054:9055</address>'));
    const r = audit(SITE, [f]);
    const boh = flow(r, 'aloha', 'boh-server', 'outbound', 'tcp')[0]!;
    expect(boh.status).toBe('partial');
    expect(boh.missing.map((m) => m.ports)).toEqual(['9090', '9090']);
    expect(boh.blockedBy.map((b) => [b.verdict, b.byDefault, b.rule?.text])).toEqual([['drop', true, 'pfSense default deny: what no rule passes is blocked']]);
  });

  test('a range widened in an alias: openings on the rules that use it', () => {
    const f = planted(file, (t) => t.replace('<address>192.0.2.0/28</address>', '<address>192.0.2.0/24</address>'));
    const r = audit(SITE, [f]);
    const rules = r.openings.map((o) => o.by.rule!.text);
    expect(rules).toEqual(['pass on wan: fwgen eu-restaurant-aloha: site/admin-rdp boh-server inbound tcp', 'pass on wan: fwgen eu-restaurant-aloha: site/admin-rdp order-entry-terminal inbound tcp']);
  });

  test('a foreign pass rule, and a block placed before a pass (shadowing)', () => {
    const foreign = '\t\t<rule>\n\t\t\t<type>pass</type>\n\t\t\t<interface>wan</interface>\n\t\t\t<ipprotocol>inet</ipprotocol>\n\t\t\t<protocol>tcp</protocol>\n\t\t\t<source><any></any></source>\n\t\t\t<destination><address>10.20.0.10</address><port>22</port></destination>\n\t\t\t<descr>ssh from anywhere</descr>\n\t\t</rule>\n';
    const shadow = foreign.replace('<type>pass</type>', '<type>block</type>').replace('<port>22</port>', '<port>3389</port>').replace('ssh from anywhere', 'no rdp');
    const f = planted(file, (t) => t.replace('\t<filter>\n', `\t<filter>\n${shadow}${foreign}`));
    const r = audit(SITE, [f]);
    const [o] = openingAt(r, lineOf(f, 'ssh from anywhere') - 7);
    expect(BigInt(o!.parts[0]!.src.count)).toBeGreaterThan(2n ** 31n);
    expect(o!.parts[0]!.ports).toBe('22');
    const rdp = flow(r, 'admin-rdp', 'boh-server', 'inbound', 'tcp')[0]!;
    expect(rdp.status).toBe('missing');
    expect(rdp.blockedBy.map((b) => b.rule?.text)).toContain('block on wan: no rdp');
  });
});

describe('Windows export', () => {
  const script = path.join(outDir, SITE, 'windows', 'boh-server.ps1');
  type Rule = { Name: string; Direction: number; Action: number; AddressFilter: { RemoteAddress: unknown }; PortFilter: { Protocol: string; LocalPort: unknown } };
  let base: { Rules: Rule[] };
  beforeAll(async () => {
    base = (await windowsExport(fs.readFileSync(script, 'utf8'))) as { Rules: Rule[] };
  });
  const auditWith = (edit: (doc: { Rules: Rule[] }) => void): AuditReport => {
    const doc = JSON.parse(JSON.stringify(base)) as { Rules: Rule[] };
    edit(doc);
    return audit(SITE, [write('boh-server.json', JSON.stringify(doc, null, 2))]);
  };
  const rdp = (d: { Rules: Rule[] }) => d.Rules.find((r) => r.Name.endsWith('site.admin-rdp.boh-server.in.tcp'))!;

  test('a rule removed: the flow is not met, stopped by the profile\'s default action', () => {
    const r = auditWith((d) => d.Rules.splice(d.Rules.indexOf(rdp(d)), 1));
    const f = r.flows.filter((x) => x.service === 'admin-rdp');
    // Domain and Private profiles; only the Paytronix programs' own allow rules still pass it, for those programs.
    expect(f.map((x) => x.status)).toEqual(['partial', 'partial']);
    expect(f.every((x) => x.missing.every((m) => m.ports === '3389' && m.src.cidrs.join() === '192.0.2.0/28'))).toBe(true);
    expect(f.map((x) => x.blockedBy.map((b) => [b.byDefault, b.rule?.text]))).toEqual([[[true, 'Domain profile: DefaultInboundAction Block']], [[true, 'Private profile: DefaultInboundAction Block']]]);
  });

  test('a range widened, and a foreign allow rule: openings naming them', () => {
    const r = auditWith((d) => {
      rdp(d).AddressFilter.RemoteAddress = '192.0.2.0/24';
      d.Rules.push({ ...JSON.parse(JSON.stringify(rdp(d))), Name: 'smb', AddressFilter: { RemoteAddress: 'Any' }, PortFilter: { Protocol: 'TCP', LocalPort: '445' } });
    });
    const texts = r.openings.map((o) => `${o.by.rule!.text.split(' ')[0]} ${o.parts[0]!.ports}`);
    expect(texts).toEqual(['fwgen-eu-restaurant-aloha-site.admin-rdp.boh-server.in.tcp 3389', 'smb 445', 'fwgen-eu-restaurant-aloha-site.admin-rdp.boh-server.in.tcp 3389', 'smb 445']);
  });

  test('a Block rule shadows the Allow wherever it sits', () => {
    const r = auditWith((d) => d.Rules.push({ ...JSON.parse(JSON.stringify(rdp(d))), Name: 'no-rdp', Action: 4 }));
    const f = r.flows.filter((x) => x.service === 'admin-rdp');
    // Block wins over the programs' allow rules too: nothing of the flow passes.
    expect(f.map((x) => x.status)).toEqual(['missing', 'missing']);
    expect(f.map((x) => x.blockedBy.map((b) => b.rule!.text.split(' ')[0]))).toEqual([['no-rdp'], ['no-rdp']]);
  });
});

describe('AWS security groups (moto)', () => {
  const { moto, it } = useMoto();

  it('a port removed, a range widened, a foreign rule and a group reference, each found', () => {
    const spec = awsSpec(SITE);
    let n = 0;
    const withEdit = (edit: (g: (typeof spec)[number]) => void): AuditReport => {
      const copy = JSON.parse(JSON.stringify(spec)) as typeof spec;
      const suffix = `-${++n}`;
      for (const g of copy) g.name += suffix;
      edit(copy.find((g) => g.tags['fwgen:device-class'] === 'boh-server')!);
      // A group of no device class (the partners' hosts), that a rule may reference.
      return audit(SITE, [write('groups.json', moto.describe([{ name: `partners${suffix}`, tags: {}, ingress: [], egress: null }, ...copy]))]);
    };
    type P = { FromPort: number; IpRanges?: Array<{ CidrIp: string }>; UserIdGroupPairs?: unknown[] };
    const removed = withEdit((g) => (g.ingress = (g.ingress as P[]).filter((p) => p.FromPort !== 3389)));
    expect(removed.flows.find((f) => f.service === 'admin-rdp' && f.deviceClass === 'boh-server')!.status).toBe('missing');

    const widened = withEdit((g) => {
      for (const p of g.ingress as P[]) for (const r of p.IpRanges ?? []) if (r.CidrIp === '192.0.2.0/28') r.CidrIp = '192.0.2.0/24';
    });
    expect(widened.openings.map((o) => o.by.rule!.text)).toEqual([expect.stringContaining('192.0.2.0/24')]);

    const foreign = withEdit((g) => (g.ingress as unknown[]).push({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }));
    expect(foreign.openings.map((o) => [o.by.rule!.text.includes('0.0.0.0/0'), o.parts[0]!.ports])).toEqual([[true, '22']]);

    const reference = withEdit((g) => (g.ingress as unknown[]).push({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupName: `partners-${n}` }] }));
    expect(reference.uncertain.map((u) => u.why)).toEqual([expect.stringMatching(/^security group reference sg-[0-9a-f]+: the instances in that group/)]);
    expect(reference.scopes.flatMap((s) => s.notes)).toEqual(expect.arrayContaining([expect.stringMatching(/not audited \(no device class\): sg-[0-9a-f]+ \(partners-4\)/)]));
  }, 120_000);
});
