import * as fs from 'node:fs';
import * as path from 'node:path';
import { examplesRoot, repoRoot, runInProcess, tempDir } from '../helpers';
import { awsSpec, useMoto } from '../audit/helpers';

/**
 * fwgen query --file on pfSense, AWS and Windows files that fwgen did not write: the verdict and
 * exit code a network admin expects, the deciding rule's file:line, how the interface, group or
 * profile was chosen, and "uncertain" (never allowed) where the file cannot say.
 */

const stock = path.join(repoRoot, 'test', 'audit', 'fixtures', 'pfsense-stock.xml');
const aloha = path.join(examplesRoot, 'eu-restaurant-aloha.yaml');

/** The 1-based line of the first line holding `needle` at or after the line holding `after`. */
function lineOf(file: string, needle: string, after?: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const from = after === undefined ? 0 : lines.findIndex((l) => l.includes(after));
  const at = lines.findIndex((l, i) => i >= from && l.includes(needle));
  if (from < 0 || at < 0) throw new Error(`${needle} not in ${file}`);
  return at + 1;
}

/** The line of the <rule> element whose description is `descr`. */
function ruleLine(file: string, descr: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const d = lines.findIndex((l) => l.includes(descr));
  for (let i = d; i >= 0; i--) if (lines[i]!.includes('<rule>')) return i + 1;
  throw new Error(`no rule ${descr}`);
}

async function query(args: string[]): Promise<{ status: number; json: any; stderr: string }> {
  const r = await runInProcess(['query', ...args, '--json']);
  return { status: r.status, json: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

function write(name: string, text: string): string {
  const f = path.join(tempDir('fwgen-query-'), name);
  fs.writeFileSync(f, text);
  return f;
}

describe('pfSense config.xml with the stock default LAN rules', () => {
  test('LAN to the internet is allowed by the default allow LAN rules, both families', async () => {
    const v4 = await query(['--file', stock, '--from', '10.20.0.50', '--to', '93.184.216.34', '--port', '443']);
    expect(v4.status).toBe(0);
    expect(v4.json.files.pairs[0]).toMatchObject({ verdict: 'allow', by: 'rule', certain: true, rule: { file: stock, line: ruleLine(stock, 'Default allow LAN to any rule') } });
    expect(v4.json.files.assumptions).toContain("arrives on lan: the source is in lan's subnet 10.20.0.0/24 (<interfaces> of the file)");
    const v6 = await query(['--file', stock, '--from', '2001:db8:20::50', '--to', '2606:4700::1', '--protocol', 'udp', '--port', '53']);
    expect(v6.status).toBe(0);
    expect(v6.json.files.pairs[0].rule.line).toBe(ruleLine(stock, 'Default allow LAN IPv6 to any rule'));
  });

  test('WAN to LAN meets the default deny; a quick floating block wins over the LAN allow', async () => {
    const wan = await query(['--file', stock, '--from', '93.184.216.34', '--to', '10.20.0.50', '--port', '443']);
    expect(wan.status).toBe(3);
    expect(wan.json.files.pairs[0]).toMatchObject({ verdict: 'drop', by: 'policy', certain: true });
    expect(wan.json.files.assumptions.join('\n')).toMatch(/arrives on wan: no interface of the file holds the source/);
    const telnet = await query(['--file', stock, '--from', '10.20.0.50', '--to', '93.184.216.34', '--port', '23']);
    expect(telnet.status).toBe(3);
    expect(telnet.json.files.pairs[0]).toMatchObject({ action: 'drop', rule: { line: ruleLine(stock, 'No telnet anywhere'), text: 'block on lan: No telnet anywhere' } });
  });

  test('the WAN rule with nested aliases passes its hosts and ports only; the disabled rule is skipped', async () => {
    const ok = await query(['--file', stock, '--from', '203.0.113.22', '--to', '10.20.0.10', '--port', '5901', '--iif', 'vtnet0']);
    expect(ok.status).toBe(0);
    expect(ok.json.files.pairs[0].rule.line).toBe(ruleLine(stock, 'Vendor remote support'));
    expect(ok.json.files.assumptions).toContain('arrives on wan: given (--iif)');
    // 5902 is beyond the alias's range; the disabled pass-all rule after it would have passed it.
    const no = await query(['--file', stock, '--from', '203.0.113.22', '--to', '10.20.0.10', '--port', '5902', '--iif', 'wan']);
    expect(no.status).toBe(3);
  });

  test('traffic within the LAN subnet does not cross the firewall: allowed, and said so', async () => {
    const r = await runInProcess(['query', '--file', stock, '--from', '10.20.0.50', '--to', '10.20.0.60', '--port', '23']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ALLOWED: tcp port 23 from 10\.20\.0\.50 to 10\.20\.0\.60\n/);
    expect(r.stdout).toContain('    allowed: does not cross the firewall (same subnet on lan: 10.20.0.0/24)\n');
    const j = await query(['--file', stock, '--from', '2001:db8:20::5', '--to', '2001:db8:20::6', '--port', '23', '--iif', 'lan']);
    expect(j.status).toBe(0);
    expect(j.json.files.pairs[0]).toMatchObject({ verdict: 'allow', by: 'not-crossing', reason: 'allowed: does not cross the firewall (same subnet on lan: 2001:db8:20::/64)' });
    // To the firewall's own LAN address it does reach the firewall: its rules decide (anti-lockout).
    const self = await query(['--file', stock, '--from', '10.20.0.50', '--to', '10.20.0.1', '--port', '443']);
    expect(self.json.files.pairs[0]).toMatchObject({ verdict: 'allow', by: 'rule', rule: { text: 'anti-lockout rule on lan (implicit in pfSense)' } });
  });

  test('--iif takes the device name too; an unknown interface is a usage error naming those there are', async () => {
    const dev = await query(['--file', stock, '--from', '10.20.0.50', '--to', '93.184.216.34', '--port', '443', '--iif', 'vtnet1']);
    expect(dev.json.files.assumptions).toContain('arrives on lan: given (--iif)');
    const bad = await runInProcess(['query', '--file', stock, '--from', '10.20.0.50', '--to', '93.184.216.34', '--port', '443', '--iif', 'igb7']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--iif 'igb7' is not an interface of the configuration (wan (vtnet0), lan (vtnet1))");
  });
});

describe('pfSense rules an admin wrote', () => {
  const config = `<?xml version="1.0"?>
<pfsense>
  <interfaces>
    <wan><if>igb0</if><ipaddr>198.51.100.2</ipaddr><subnet>24</subnet></wan>
    <lan><if>igb1</if><ipaddr>10.1.0.1</ipaddr><subnet>24</subnet></lan>
    <opt1><if>igb2</if><ipaddr>10.2.0.1</ipaddr><subnet>24</subnet></opt1>
  </interfaces>
  <aliases>
    <alias><name>servers</name><type>host</type><address>10.2.0.10 more</address></alias>
    <alias><name>more</name><type>host</type><address>10.2.0.11</address></alias>
    <alias><name>webports</name><type>port</type><address>80 8000:8080</address></alias>
  </aliases>
  <filter>
    <rule>
      <type>block</type><interface>lan</interface><floating>yes</floating><direction>in</direction>
      <protocol>tcp</protocol><source><any/></source><destination><any/><port>25</port></destination>
      <descr>no mail out (last match wins)</descr>
    </rule>
    <rule>
      <type>pass</type><interface>lan</interface><protocol>tcp</protocol>
      <source><network>lan</network></source><destination><address>servers</address><port>webports</port></destination>
      <descr>web to the servers</descr>
    </rule>
    <rule>
      <type>pass</type><disabled/><interface>lan</interface><source><any/></source><destination><any/></destination>
      <descr>old pass all</descr>
    </rule>
    <rule>
      <type>reject</type><interface>lan</interface><protocol>tcp</protocol>
      <source><network>lan</network></source><destination><any/><port>22</port></destination>
      <descr>no ssh out</descr>
    </rule>
    <rule>
      <type>pass</type><interface>opt1</interface><ipprotocol>inet</ipprotocol><protocol>udp</protocol>
      <source><network>opt1</network></source><destination><network>(self)</network><port>53</port></destination>
      <descr>dns to the firewall</descr>
    </rule>
  </filter>
</pfsense>
`;
  const file = write('config.xml', config);

  test('nested host and port aliases; the disabled rule is skipped', async () => {
    const ok = await query(['--file', file, '--from', '10.1.0.5', '--to', '10.2.0.11', '--port', '8080']);
    expect(ok.status).toBe(0);
    expect(ok.json.files.pairs[0].rule.line).toBe(ruleLine(file, 'web to the servers'));
    expect((await query(['--file', file, '--from', '10.1.0.5', '--to', '10.2.0.11', '--port', '8081'])).status).toBe(3);
  });

  test('a floating rule without quick decides only where no interface rule does; reject drops', async () => {
    const mail = await query(['--file', file, '--from', '10.1.0.5', '--to', '192.0.2.25', '--port', '25']);
    expect(mail.status).toBe(3);
    expect(mail.json.files.pairs[0].rule.line).toBe(ruleLine(file, 'no mail out'));
    const ssh = await query(['--file', file, '--from', '10.1.0.5', '--to', '192.0.2.25', '--port', '22']);
    expect(ssh.json.files.pairs[0]).toMatchObject({ verdict: 'drop', action: 'drop', rule: { line: ruleLine(file, 'no ssh out') } });
  });

  test('(self) is every address of the firewall; the interface is the one whose subnet holds the source', async () => {
    for (const to of ['10.2.0.1', '10.1.0.1', '198.51.100.2']) {
      const r = await query(['--file', file, '--from', '10.2.0.7', '--to', to, '--protocol', 'udp', '--port', '53']);
      expect({ to, status: r.status, line: r.json.files.pairs[0].rule?.line }).toEqual({ to, status: 0, line: ruleLine(file, 'dns to the firewall') });
    }
    expect((await query(['--file', file, '--from', '10.2.0.7', '--to', '192.0.2.53', '--protocol', 'udp', '--port', '53'])).status).toBe(3);
    // The same packet said to arrive on lan (by its device) meets lan's rules: dropped.
    expect((await query(['--file', file, '--from', '10.2.0.7', '--to', '10.2.0.1', '--protocol', 'udp', '--port', '53', '--iif', 'igb1'])).status).toBe(3);
  });
});

describe('AWS security groups', () => {
  const { moto, it } = useMoto();

  it('as moto returns them after the EC2 calls: the groups fwgen names for each end', async () => {
    const groups = write('groups.json', moto.describe(awsSpec('eu-restaurant-aloha')));
    const r = await query(['-p', aloha, '--file', groups, '--from', 'order-entry-terminal', '--to', 'boh-server', '--port', '9054']);
    expect(r.status).toBe(0);
    expect(r.json.files.pairs.map((p: { hook: string }) => p.hook).sort()).toEqual(['input', 'input', 'input', 'input', 'output', 'output', 'output', 'output']);
    expect(r.json.files.assumptions.join('\n')).toMatch(/egress of sg-\w+ \(fwgen-eu-restaurant-aloha-order-entry-terminal\): the group fwgen names for the source's device class order-entry-terminal/);
    expect(r.json.files.assumptions.join('\n')).toMatch(/ingress of sg-\w+ \(fwgen-eu-restaurant-aloha-boh-server\): the group fwgen names for the destination's device class boh-server/);
    const line = r.json.files.pairs.find((p: { hook: string }) => p.hook === 'input').rule.line;
    expect(fs.readFileSync(groups, 'utf8').split('\n')[line - 1]).toMatch(/\{/);
    const no = await query(['-p', aloha, '--file', groups, '--from', 'boh-server', '--to', '8.8.8.8', '--port', '22']);
    expect(no.status).toBe(3);
    expect(no.json.files.pairs[0]).toMatchObject({ by: 'policy', certain: true, hook: 'output' });
  }, 60_000);

  it('a rule that references another group is uncertain, never allowed; several groups need --group', async () => {
    const groups = write('refs.json', moto.describe([
      { name: 'web', tags: {}, ingress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }], egress: null },
      { name: 'db', tags: {}, ingress: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupName: 'web' }] }], egress: null },
    ]));
    const none = await runInProcess(['query', '--file', groups, '--from', '10.0.0.5', '--to', '10.0.1.5', '--port', '5432', '--hook', 'input']);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/say which security group the destination is in with --group \(the files hold sg-\w+ \(web\), sg-\w+ \(db\)\)/);
    const ref = await query(['--file', groups, '--from', '10.0.0.5', '--to', '10.0.1.5', '--port', '5432', '--hook', 'input', '--group', 'db']);
    expect(ref.status).toBe(3);
    expect(ref.json.certain).toBe(false);
    expect(ref.json.files.pairs[0].uncertain[0]).toMatch(/might match, passed over: security group reference sg-\w+: the instances in that group, whose addresses the file does not hold/);
    const id = JSON.parse(fs.readFileSync(groups, 'utf8')).SecurityGroups.find((g: { GroupName: string }) => g.GroupName === 'web').GroupId;
    const web = await query(['--file', groups, '--from', '203.0.113.9', '--to', '10.0.1.5', '--port', '443', '--hook', 'input', '--group', id]);
    expect(web.status).toBe(0);
    // moto keeps the default egress rule (allow all) where the spec says so.
    expect((await query(['--file', groups, '--from', '10.0.1.5', '--to', '203.0.113.9', '--port', '25', '--hook', 'output', '--group', 'web'])).status).toBe(0);
  }, 60_000);

  test("fwgen's CLASS.ingress.json alone answers for ingress; a prefix list is uncertain", async () => {
    const dir = path.join(repoRoot, 'out', 'eu-restaurant-aloha', 'aws');
    const r = await query(['--file', path.join(dir, 'boh-server.ingress.json'), '--from', '104.16.0.1', '--to', '10.20.0.10', '--port', '443']);
    expect(r.status).toBe(0);
    expect(r.json.files.assumptions).toContain('the files hold ingress rules only: the packet is taken as going to the instance (--hook says otherwise)');
    const egressNeeded = await runInProcess(['query', '--file', path.join(dir, 'boh-server.ingress.json'), '--from', '10.20.0.10', '--to', '104.16.0.1', '--port', '443', '--hook', 'output']);
    expect(egressNeeded.status).toBe(1);
    expect(egressNeeded.stderr).toContain('the files hold no egress rules of boh-server (give its egress too)');
    const pl = write('sg.json', JSON.stringify({ SecurityGroups: [{ GroupId: 'sg-1', GroupName: 'app', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, PrefixListIds: [{ PrefixListId: 'pl-123' }] }], IpPermissionsEgress: [] }] }, null, 2));
    const u = await query(['--file', pl, '--from', '192.0.2.1', '--to', '10.0.0.1', '--port', '22', '--hook', 'input']);
    expect([u.status, u.json.certain]).toEqual([3, false]);
    expect(u.json.files.pairs[0].uncertain[0]).toContain('managed prefix list pl-123: its entries are not in the file');
  });
});

describe('Windows Get-NetFirewallRule export', () => {
  const rules = {
    Profiles: [
      { Name: 'Domain', Enabled: true, DefaultInboundAction: 'Block', DefaultOutboundAction: 'Allow' },
      { Name: 'Private', Enabled: true, DefaultInboundAction: 'NotConfigured', DefaultOutboundAction: 'NotConfigured' },
      { Name: 'Public', Enabled: true, DefaultInboundAction: 'Block', DefaultOutboundAction: 'Block' },
    ],
    Rules: [
      { Name: 'rdp', DisplayName: 'Remote Desktop', Enabled: 'True', Direction: 'Inbound', Action: 'Allow', Profile: 'Any', AddressFilter: { LocalAddress: 'Any', RemoteAddress: 'Any' }, PortFilter: { Protocol: 'TCP', LocalPort: '3389', RemotePort: 'Any' } },
      { Name: 'rdp-block', DisplayName: 'No RDP from the guest network', Enabled: 'True', Direction: 'Inbound', Action: 'Block', Profile: 'Any', AddressFilter: { LocalAddress: 'Any', RemoteAddress: '192.168.50.0/24' }, PortFilter: { Protocol: 'TCP', LocalPort: '3389', RemotePort: 'Any' } },
      { Name: 'pos', DisplayName: 'POS app', Enabled: 'True', Direction: 'Inbound', Action: 'Allow', Profile: 'Any', AddressFilter: { LocalAddress: 'Any', RemoteAddress: 'Any' }, PortFilter: { Protocol: 'Any' }, ApplicationFilter: { Program: 'C:\\POS\\pos.exe' } },
    ],
  };
  const file = write('host.json', JSON.stringify(rules, null, 2));
  const line = (name: string) => lineOf(file, `"Name": "${name}"`) - 1;

  test('a block rule listed after an allow still wins over it', async () => {
    const blocked = await query(['--file', file, '--from', '192.168.50.7', '--to', '10.0.0.5', '--port', '3389', '--hook', 'input', '--windows-profile', 'Domain']);
    expect(blocked.status).toBe(3);
    expect(blocked.json.files.pairs[0]).toMatchObject({ verdict: 'drop', by: 'rule', chain: 'Domain inbound', rule: { line: line('rdp-block') } });
    const allowed = await query(['--file', file, '--from', '192.168.51.7', '--to', '10.0.0.5', '--port', '3389', '--hook', 'input', '--windows-profile', 'Domain']);
    expect(allowed.status).toBe(0);
    expect(allowed.json.files.pairs[0].rule.line).toBe(line('rdp'));
  });

  test('default actions per profile: outbound allowed where Allow or NotConfigured, dropped where Block', async () => {
    const out = await query(['--file', file, '--from', '10.0.0.5', '--to', '192.0.2.1', '--port', '443', '--hook', 'output']);
    expect(out.status).toBe(3);
    expect(out.json.files.pairs.map((p: { chain: string; verdict: string }) => `${p.chain} ${p.verdict}`)).toEqual(['Domain outbound allow', 'Private outbound allow', 'Public outbound drop']);
    expect((await query(['--file', file, '--from', '10.0.0.5', '--to', '192.0.2.1', '--port', '443', '--hook', 'output', '--windows-profile', 'Domain', '--windows-profile', 'Private'])).status).toBe(0);
  });

  test('a rule for one program: uncertain without --program, decided with it (case as Windows compares paths)', async () => {
    const unknown = await query(['--file', file, '--from', '192.0.2.1', '--to', '10.0.0.5', '--port', '9000', '--hook', 'input', '--windows-profile', 'Public']);
    expect([unknown.status, unknown.json.certain]).toEqual([3, false]);
    expect(unknown.json.files.pairs[0].uncertain[0]).toContain('its program (the rule is for C:\\POS\\pos.exe only; --program says which)');
    const pos = await query(['--file', file, '--from', '192.0.2.1', '--to', '10.0.0.5', '--port', '9000', '--hook', 'input', '--windows-profile', 'Public', '--program', 'c:\\pos\\POS.EXE']);
    expect(pos.status).toBe(0);
    expect(pos.json.files.pairs[0].rule.line).toBe(line('pos'));
    const other = await query(['--file', file, '--from', '192.0.2.1', '--to', '10.0.0.5', '--port', '9000', '--hook', 'input', '--windows-profile', 'Public', '--program', 'C:\\other.exe']);
    expect([other.status, other.json.certain]).toEqual([3, true]);
  });

  test('with a site, the host of the export is the end in a device class; files of two firewalls are refused', async () => {
    const host = write('boh-server.json', JSON.stringify(rules, null, 2));
    const r = await query(['-p', aloha, '--file', host, '--from', '192.168.50.7', '--to', 'boh-server', '--port', '3389', '--windows-profile', 'Domain']);
    expect(r.status).toBe(3);
    expect(r.json.files.pairs.every((p: { hook: string }) => p.hook === 'input')).toBe(true);
    expect(r.json.files.assumptions).toContain(`${host} is the host of device class boh-server (its name)`);
    const mixed = await runInProcess(['query', '--file', host, '--file', stock, '--from', '10.0.0.1', '--to', '10.0.0.2', '--port', '1']);
    expect(mixed.status).toBe(1);
    expect(mixed.stderr).toMatch(/the files are of different firewalls .*: ask about one at a time/);
  });
});
