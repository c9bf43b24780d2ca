import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../src/errors';
import { evaluate, type Packet } from '../../src/ruleset/evaluate';
import type { Ruleset } from '../../src/ruleset/model';
import { readRulesets } from '../../src/ruleset/readers';
import { repoRoot } from '../helpers';

/**
 * The readers on their own: what each format's constructs mean in the model (checked by the
 * verdicts they give), and one located error for what they cannot read. The kernel checks of
 * the same files are in differential.test.ts and foreign.test.ts.
 */

const fixture = (name: string) => ({ file: name, text: fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8') });

function verdict(sets: Ruleset[], p: Partial<Packet> & Pick<Packet, 'src' | 'dst'>, hook: 'input' | 'forward' = 'input') {
  const packet: Packet = { family: p.src.includes(':') ? 6 : 4, protocol: 'tcp', iif: { is: 'eth0' }, ...p };
  const d = evaluate(sets, packet, hook);
  return `${d.verdict}@${d.source?.line ?? '-'}`;
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  throw new Error('no error');
}

describe('nftables text', () => {
  const sets = readRulesets([fixture('hand-written.nft')]);

  test('named sets with intervals, a concatenation, a verdict map, jump/goto/return, an earlier table', () => {
    expect(verdict(sets, { src: '198.51.100.33', dst: '10.9.0.1', dport: 22 })).toBe('drop@58'); // @blocked4, a prefix
    expect(verdict(sets, { src: '192.0.2.100', dst: '10.9.0.1', dport: 22 })).toBe('drop@58'); // the range's last address
    expect(verdict(sets, { src: '192.0.2.101', dst: '10.9.0.20', dport: 9005 })).toBe('accept@59'); // ip daddr . tcp dport @svc
    expect(verdict(sets, { src: '192.0.2.101', dst: '10.9.0.200', dport: 9005 })).toBe('drop@55'); // not that pair: on to the policy
    expect(verdict(sets, { src: '203.0.113.7', dst: '10.9.0.17', dport: 443 })).toBe('accept@44'); // vmap jump web, $web_ports
    expect(verdict(sets, { src: '203.0.113.7', dst: '10.9.0.32', dport: 443 })).toBe('drop@61'); // vmap drop
    expect(verdict(sets, { src: '198.51.100.44', dst: '10.9.0.99', dport: 22 })).toBe('accept@38'); // in $admin_v4's range
    expect(verdict(sets, { src: '198.51.100.30', dst: '10.9.0.99', protocol: 'udp', dport: 9010 })).toBe('accept@39'); // meta l4proto set, th dport
    expect(verdict(sets, { src: '198.51.100.64', dst: '10.9.0.99', dport: 22 })).toBe('drop@55'); // admin returns, log goes on, policy
    expect(verdict(sets, { src: '198.51.100.44', dst: '10.9.0.99', dport: 3389 })).toBe('drop@12'); // the ip early table runs first
    expect(verdict(sets, { src: '203.0.113.7', dst: '10.9.0.99', protocol: 'icmp' })).toBe('accept@63');
  });

  test('IPv6: a jump to a chain that goes to another, whose end returns to the first caller', () => {
    expect(verdict(sets, { src: '2001:db8:aa::1', dst: '2001:db8:9::1', dport: 9001 })).toBe('accept@49');
    expect(verdict(sets, { src: '2001:db8:77::5', dst: '2001:db8:9::11', dport: 80 })).toBe('accept@44'); // goto web
    // goto web, no match there: back in input after the jump to six, then admin (IPv4 only) and the policy.
    expect(verdict(sets, { src: '2001:db8:77::5', dst: '2001:db8:9::11', dport: 22 })).toBe('accept@38');
    expect(verdict(sets, { src: '2001:db8:77::5', dst: '2001:db8:9::1', dport: 80 })).toBe('drop@51'); // reject
  });

  test('the nft -j JSON of the same rule set means the same; its rules are placed by their "rule" key', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { json_schema_version: 1 } },
        { table: { family: 'inet', name: 'f', handle: 1 } },
        { chain: { family: 'inet', table: 'f', name: 'in', handle: 1, type: 'filter', hook: 'input', prio: 0, policy: 'drop' } },
        { set: { family: 'inet', name: 's', table: 'f', type: ['ipv4_addr', 'inet_service'], handle: 2, elem: [{ concat: ['10.9.0.20', 9005] }] } },
        { rule: { family: 'inet', table: 'f', chain: 'in', handle: 3, expr: [{ match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } }, { accept: null }] } },
        { rule: { family: 'inet', table: 'f', chain: 'in', handle: 4, expr: [{ match: { op: '==', left: { concat: [{ payload: { protocol: 'ip', field: 'daddr' } }, { payload: { protocol: 'tcp', field: 'dport' } }] }, right: '@s' } }, { counter: { packets: 0, bytes: 0 } }, { accept: null }] } },
        { rule: { family: 'inet', table: 'f', chain: 'in', handle: 5, expr: [{ match: { op: '==', left: { payload: { protocol: 'ip6', field: 'saddr' } }, right: { prefix: { addr: '2001:db8:aa::', len: 48 } } } }, { match: { op: '==', left: { payload: { protocol: 'th', field: 'dport' } }, right: { range: [9000, 9010] } } }, { accept: null }] } },
        { rule: { family: 'inet', table: 'f', chain: 'in', handle: 6, expr: [{ match: { op: '==', left: { meta: { key: 'mark' } }, right: 1 } }, { accept: null }] } },
      ],
    }, null, 1);
    const js = readRulesets([{ file: 'r.json', text: json }]);
    const line = (h: number) => json.split('\n').findIndex((l, i, all) => l.includes('"rule"') && all.slice(i, i + 6).join('').includes(`"handle": ${h}`)) + 1;
    expect(verdict(js, { src: '192.0.2.1', dst: '10.9.0.20', dport: 9005 })).toBe(`accept@${line(4)}`);
    expect(verdict(js, { src: '2001:db8:aa::5', dst: '2001:db8:9::1', protocol: 'udp', dport: 9010 })).toBe(`accept@${line(5)}`);
    const d = evaluate(js, { family: 4, protocol: 'tcp', src: '192.0.2.1', dst: '10.9.0.21', dport: 9005 }, 'input');
    expect(d.verdict).toBe('drop');
    expect(d.uncertain).toEqual([expect.stringMatching(/^r\.json:\d+ \(accept\) might match, passed over: meta mark == 1$/)]);
    expect(js[0]!.chains[0]!.rules[1]!.source.text).toContain('handle 4');
  });

  test('fwgen\'s own files: the dnsmasq sets are filled at run time, so a rule on them makes the answer uncertain', () => {
    const dir = path.join(repoRoot, 'out', 'shop-payxpert-sunmi', 'nftables');
    const shop = readRulesets([{ file: 'fwgen.nft', text: fs.readFileSync(path.join(dir, 'fwgen.nft'), 'utf8') }]);
    const rule = shop[0]!.chains.flatMap((c) => c.rules).find((r) => r.unsupported !== undefined)!;
    expect(rule.unsupported).toMatch(/@dns_payxpert_backoffice_central_v4: the set is filled at run time/);
    expect(rule.match.dst).toBeUndefined();
  });

  test.each([
    ['table inet t {\n\tchain c {\n\t\tip saddr 10.0.0.300 accept\n\t}\n}\n', 't.nft:3:12: ip saddr: \'10.0.0.300\' is not a valid IP address'],
    ['table inet t {\n\tchain c {\n\t\tip saddr @nope accept\n\t}\n}\n', 't.nft:3:12: set: set nope is not declared before this rule'],
    ['table inet t {\n\tchain c {\n\t\ttcp dport 70000 accept\n\t}\n}\n', 't.nft:3:13: tcp dport: \'70000\' is not a port number'],
    ['table inet t {\n\tchain c {\n\t\tip saddr "10.0.0.1\n', 't.nft:3:12: string: a quoted string runs past the end of its line'],
    ['table inet t {\n\tchain c {\n', 't.nft:1:14: table t: this \'{\' is never closed'],
    ['table inet t {\n\tchain c {\n\t\tjump nowhere\n\t}\n}\n', 't.nft:3:1: jump: chain inet t nowhere is not declared in the file'],
    ['include "/etc/passwd"\n', 't.nft:1:1: include: include is not followed'],
    ['add rule inet t c accept\n', 't.nft:1:10: table: table inet t is not declared before this command'],
    ['table inet t {\n\tchain c {\n\t\tip6 daddr ::1 ip protocol tcp accept\n\t}\n}\n', 't.nft:3:29: family: an IPv4 match after an IPv6 one in the same rule'],
  ])('a located error for what nft would not read either: %j', (text, message) => {
    expect(errorOf(() => readRulesets([{ file: 't.nft', text }]))).toContain(message);
  });
});

describe('iptables-save with ipset save', () => {
  const sets = readRulesets([fixture('hand-written.rules.v4'), fixture('hand-written.ipsets'), fixture('hand-written.rules.v6')]);

  test('user chains with RETURN and goto, sets of addresses and of addresses with ports, negations, iprange', () => {
    expect(sets.map((s) => s.chains[0]!.families)).toEqual([[4], [6]]);
    expect(verdict(sets, { src: '192.0.2.1', dst: '10.9.0.1', dport: 22 })).toBe('drop@10'); // blocked4 src
    expect(verdict(sets, { src: '192.0.2.200', dst: '10.9.0.20', dport: 9005 })).toBe('accept@11'); // svc4 dst,dst
    expect(verdict(sets, { src: '192.0.2.200', dst: '10.9.0.200', protocol: 'udp', dport: 53 })).toBe('accept@11');
    expect(verdict(sets, { src: '192.0.2.200', dst: '10.9.0.200', protocol: 'tcp', dport: 53 })).toBe('drop@3'); // the port is udp's
    expect(verdict(sets, { src: '203.0.113.7', dst: '10.9.0.17', dport: 80 })).toBe('accept@20'); // -g WEB
    expect(verdict(sets, { src: '203.0.113.7', dst: '10.9.0.17', dport: 22 })).toBe('drop@3'); // WEB ends: INPUT's policy, ADMIN not reached
    expect(verdict(sets, { src: '198.51.100.1', dst: '10.9.0.1', dport: 9010 })).toBe('accept@18');
    expect(verdict(sets, { src: '198.51.100.1', dst: '10.9.0.101', protocol: 'udp', dport: 9000 })).toBe('drop@3'); // outside --dst-range
    expect(verdict(sets, { src: '203.0.113.7', dst: '10.9.0.1', dport: 3389 })).toBe('drop@13'); // REJECT
    expect(verdict(sets, { src: '2001:db8:77::5', dst: '2001:db8:9::11', dport: 444 })).toBe('accept@8'); // ! --dport 443
    expect(verdict(sets, { src: '2001:db8:77::5', dst: '2001:db8:9::11', dport: 443 })).toBe('drop@3');
  });

  test('a fragment for iptables-restore -n: the jump its header asks for is taken, and said', () => {
    const dir = path.join(repoRoot, 'out', 'eu-restaurant-aloha', 'iptables');
    const frag = readRulesets(['rules.v4', 'ipsets'].map((f) => ({ file: f, text: fs.readFileSync(path.join(dir, f), 'utf8') })));
    expect(frag[0]!.notes).toEqual([
      "rules.v4: FORWARD is not in the file (it is loaded with -n); its policy is taken as ACCEPT, the kernel's default",
      'rules.v4:8: the header\'s "iptables -I FORWARD -j FWGEN-FWD" is taken as done',
    ]);
  });

  test.each([
    ['*filter\n:INPUT DROP [0:0]\n-A INPUT -m set --match-set nope src -j ACCEPT\nCOMMIT\n', 'r:3:29: --match-set: set nope is not in the ipset files given'],
    ['*filter\n:INPUT DROP [0:0]\n-A INPUT -s 10.0.0.0/33 -j ACCEPT\nCOMMIT\n', "r:3:13: -s: '10.0.0.0/33' is not a valid CIDR"],
    ['*filter\n:INPUT DROP [0:0]\n-A INPUT -j NOWHERE\nCOMMIT\n', "r:3:13: -j: 'NOWHERE' is neither a chain of table filter nor a target fwgen knows"],
    ['*filter\n:INPUT DROP [0:0]\n-A OUTPUT -j ACCEPT\nCOMMIT\n', 'r:3:4: chain: chain OUTPUT is not declared in table filter before this rule'],
    ['*filter\n:INPUT DROP [0:0]\n-A INPUT --frobnicate -j ACCEPT\nCOMMIT\n', "r:3:10: --frobnicate: '--frobnicate' is not an iptables option"],
    ['*filter\n:INPUT DROP [0:0]\n-A INPUT -m comment --comment "open -j ACCEPT\nCOMMIT\n', 'r:3:31: quote: a quoted value is not closed on its line'],
  ])('a located error: %j', (text, message) => {
    expect(errorOf(() => readRulesets([{ file: 'r', text }]))).toContain(message);
  });

  test('an option the model has no field for keeps the rule, as uncertain', () => {
    const r = readRulesets([{ file: 'r', text: '*filter\n:INPUT DROP [0:0]\n-A INPUT -m limit --limit 5/min -p tcp --dport 22 -j ACCEPT\nCOMMIT\n' }]);
    const d = evaluate(r, { family: 4, protocol: 'tcp', src: '192.0.2.1', dst: '192.0.2.2', dport: 22 }, 'input');
    expect([d.verdict, d.uncertain]).toEqual(['drop', ['r:3 (accept) might match, passed over: -m limit --limit 5/min']]);
    // Where the modelled part does not match, nothing is uncertain.
    expect(evaluate(r, { family: 4, protocol: 'tcp', src: '192.0.2.1', dst: '192.0.2.2', dport: 23 }, 'input').uncertain).toEqual([]);
  });
});

describe('format detection', () => {
  test('a file of no known format is refused at line 1, naming the formats', () => {
    expect(errorOf(() => readRulesets([{ file: 'x.txt', text: 'hello world\n' }]))).toMatch(/^x\.txt:1:1: \(document\): not a format fwgen reads \(nft -j list ruleset; iptables-save/);
  });

  test('the examples rendered by fwgen read without notes beyond the header jumps', () => {
    const dir = path.join(repoRoot, 'out', 'eu-restaurant-aloha');
    const sets = readRulesets(['nftables/fwgen.nft', 'iptables/rules.v4', 'iptables/ipsets', 'iptables/rules.v6'].map((f) => ({ file: f, text: fs.readFileSync(path.join(dir, f), 'utf8') })));
    expect(sets.map((s) => s.format)).toEqual(['nftables', 'iptables-save', 'iptables-save']);
    expect(sets[0]!.notes).toEqual([]);
  });
});
