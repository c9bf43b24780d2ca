import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkRules } from '../../src/policy/checks';
import { hostNameProblem } from '../../src/net/host-names';
import type { Rule } from '../../src/policy/types';
import { renderSite } from '../../src/render/site';
import { targets } from '../../src/targets/registry';
import { lockText, answeredProfile, minimalVendor, runInProcess, tempCatalog } from '../helpers';

/** A catalog with the given vendor and a profile beside it (and its lock, if given). */
function site(vendor: string, profile: string, lock?: string): { root: string; profile: string } {
  const root = tempCatalog({ 'acme.yaml': vendor });
  fs.writeFileSync(path.join(root, 'profile.yaml'), profile);
  if (lock !== undefined) fs.writeFileSync(path.join(root, 'profile.lock.yaml'), lock);
  return { root, profile: path.join(root, 'profile.yaml') };
}

async function validate(vendor: string, profile: string, lock?: string) {
  const s = site(vendor, profile, lock);
  return runInProcess(['validate', '--catalog', s.root, s.profile], s.root);
}

async function render(vendor: string, profile: string, lock?: string, target = 'nftables') {
  const s = site(vendor, profile, lock);
  return runInProcess(['render', '--catalog', s.root, '-p', s.profile, '-t', target, '-o', path.join(s.root, 'out')], s.root);
}

const loose = (pattern: string) => minimalVendor.replace('pattern: "[0-9]+"', `pattern: ${JSON.stringify(pattern)}`);
const withMid = (value: string) => answeredProfile.replace('mid: "42"', `mid: ${JSON.stringify(value)}`);

function lockFor(name: string, ipv4: string[], ipv6: string[] = []): string {
  return lockText('acme-site', { [name]: { ipv4, ipv6 } });
}

describe('1. host names built from variables are host names, whatever the pattern lets through', () => {
  test.each([
    ['evil/#/x', `holds "/"`],
    ['a ::/0 b', `holds " "`],
    ['x.example\naddress=/#/203.0.113.9', 'U+000A'],
    ['a..b', 'empty label'],
    ['a-', 'starts or ends with a hyphen'],
    ['a*b', `'*' may only start`],
    ['x'.repeat(64), 'at most 63'],
    ['a]]><x', `holds "]"`],
  ])('%j is refused by validate and render with the profile and catalog locations', async (value, why) => {
    for (const r of [await validate(loose('.*'), withMid(value)), await render(loose('.*'), withMid(value))]) {
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(why);
      expect(r.stderr).toMatch(/profile\.yaml:8:\d+: vendors\.acme\.variables\.mid: /);
      if (!why.startsWith('U+')) expect(r.stderr).toContain('acme/api (vendors/acme.yaml:17:9) turns');
      expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    }
  });

  test('a name that is one label longer than allowed or upper-case in the catalog is refused at load', async () => {
    const r = await validate(minimalVendor.replace('m{mid}.acme.example', 'M{mid}.acme.example'), answeredProfile);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('services[0].flows[0].domains[0]');
  });

  test('whatever the validator accepts holds nothing but labels, dots and one leading "*."', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '.', '*', '_', '/', '#', ' ', '\n', ':', '%', 'é'), maxLength: 30 }), (name) => {
        if (hostNameProblem(name) === undefined) {
          expect(name).toMatch(/^(\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('the one validator: names, wildcards, lengths', () => {
    expect(hostNameProblem('api.example.com')).toBeUndefined();
    expect(hostNameProblem('*.example.com')).toBeUndefined();
    expect(hostNameProblem('xn--bcher-kva.example')).toBeUndefined();
    expect(hostNameProblem('*.*.example.com')).toMatch(/'\*'/);
    expect(hostNameProblem('example.com.')).toMatch(/root dot/);
    expect(hostNameProblem(`${'a'.repeat(63)}.`.repeat(4) + 'com')).toMatch(/253/);
    expect(hostNameProblem('10.0.0.1')).toMatch(/address/);
    expect(hostNameProblem('Example.com')).toMatch(/lower case/);
    expect(hostNameProblem('a_b.example')).toMatch(/holds "_"/);
  });
});

describe('2. a rule never gets wider than its flow', () => {
  const programAndDomain = minimalVendor.replace('        protocol: tcp\n        ports: [443]\n', '        programs: ["C:\\\\Acme\\\\pos.exe"]\n');

  test('domains and programs without a protocol are refused, naming the protocol field', async () => {
    const r = await validate(programAndDomain, answeredProfile);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      'vendors/acme.yaml:17:9: services[0].flows[0].protocol: missing: the flow names its other end (domains, addresses, lists or peers) but no protocol; give protocol and ports, or drop the other end to allow the programs as such',
    );
  });

  test.each(targets.map((t) => t.id))('%s: render refuses it too, writing nothing', async (target) => {
    const r = await render(programAndDomain, answeredProfile, undefined, target);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('services[0].flows[0].protocol: missing');
  });

  test('the policy refuses a protocol-less rule with an other end, however it was built', () => {
    const rule: Rule = {
      id: 'site.ssh.pos-terminal.out.app',
      vendor: 'site',
      vendorName: 'Site',
      service: 'ssh',
      serviceName: 'SSH',
      requirement: 'required',
      deviceClass: 'pos-terminal',
      direction: 'outbound',
      ports: [],
      remote: { addresses: { ipv4: ['192.0.2.0/24'], ipv6: [] }, names: ['bad name'], lists: [], peers: [] },
      programs: ['C:\\x.exe'],
      origins: [{ vendor: 'site', service: 'ssh', flow: 0, loc: { file: 'site.yaml', line: 3, col: 5 } }],
    };
    expect(() => checkRules([rule])).toThrow(/site\.yaml:3:5: rule site\.ssh\.pos-terminal\.out\.app: 'bad name' is not a host name/);
    expect(() => checkRules([{ ...rule, remote: { ...rule.remote, names: [] } }])).toThrow(/no protocol, but an other end/);
    expect(() => checkRules([{ ...rule, protocol: 'tcp', ports: [{ from: 0, to: 70000 }], remote: { ...rule.remote, names: [] } }])).toThrow(/not a port/);
  });
});

describe('3. addresses are plain dotted decimal or IPv6, everywhere', () => {
  const addrVendor = minimalVendor
    .replace('domains: ["m{mid}.acme.example"]', 'addresses: ["{gw}"]')
    .replace('variables:\n  mid:\n    description: merchant id\n    pattern: "[0-9]+"', 'variables:\n  gw:\n    description: gateway\n    kind: addresses');
  const addrProfile = (v: string) => answeredProfile.replace('mid: "42"', `gw: [${JSON.stringify(v)}]`);

  test.each(['010.020.000.010', '0xa.0.0.1', '10.1', 'fe80::1%eth0', '012.1.1.1/8'])('%s is refused in catalog flows, profiles, lists and locks', async (bad) => {
    const inCatalog = await validate(minimalVendor.replace('domains: ["m{mid}.acme.example"]', `addresses: [${JSON.stringify(bad)}]`), answeredProfile);
    const inProfile = await validate(addrVendor, addrProfile(bad));
    const inBinding = await validate(minimalVendor, answeredProfile.replace('10.0.0.0/24', JSON.stringify(bad)));
    const root = tempCatalog({ 'acme.yaml': minimalVendor }, {
      'lists/bad.yaml': `list:\n  id: bad\n  name: Bad\n  source:\n    url: https://example.com/\n    recorded: 2026-01-01\naddresses: [${JSON.stringify(bad)}]\n`,
    });
    const inList = await runInProcess(['validate', '--catalog', root], root);
    const inLock = await render(minimalVendor, answeredProfile, lockFor('m42.acme.example', [bad]));
    const lockValidated = await validate(minimalVendor, answeredProfile, lockFor('m42.acme.example', [bad]));
    for (const r of [inCatalog, inProfile, inBinding, inList, inLock, lockValidated]) {
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`'${bad}' is not a valid`);
    }
    expect(inLock.stderr).toMatch(/profile\.lock\.yaml:\d+:\d+: names\.m42\.acme\.example\.ipv4\[0\]/);
  });
});

describe('4. "any" is never silent, and a malformed reference is an error', () => {
  test('0.0.0.0/0 and ::/0 from the catalog, a profile variable or the lock, and every port, each warn at their source', async () => {
    const v = minimalVendor
      .replace('ports: [443]', 'ports: ["1-1000", "{more}"]')
      .replace('domains: ["m{mid}.acme.example"]', 'domains: ["m{mid}.acme.example"]\n        addresses: ["0.0.0.0/0", "{gw}"]')
      .replace('variables:\n', 'variables:\n  gw:\n    description: gateway\n    kind: addresses\n  more:\n    description: more ports\n    kind: ports\n');
    const p = answeredProfile.replace('mid: "42"', 'mid: "42"\n      gw: ["::/0"]\n      more: ["1001-65535"]');
    const r = await render(v, p, lockFor('m42.acme.example', ['0.0.0.0/0']));
    expect(r.status).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('warning: [policy]'));
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^vendors\/acme\.yaml:\d+:9: warning: \[policy\] the catalog flow acme\/api allows any address \(0\.0\.0\.0\/0\)/),
        expect.stringMatching(/^profile\.yaml:\d+:\d+: warning: \[policy\] variable 'gw' gives acme\/api \(vendors\/acme\.yaml:\d+:9\) any address \(::\/0\)/),
        expect.stringMatching(/^profile\.yaml:\d+:\d+: warning: \[policy\] variable 'more' makes .* allow every port/),
        expect.stringMatching(/warning: \[policy\] allows every port \(1-65535\)/),
        expect.stringMatching(/warning: \[policy\] profile\.lock\.yaml pins m42\.acme\.example to any address \(0\.0\.0\.0\/0\)/),
      ]),
    );
    const valid = await validate(v, p, lockFor('m42.acme.example', ['0.0.0.0/0']));
    expect(valid.status).toBe(0);
    expect(valid.stderr).toContain('warning: [policy] the catalog flow acme/api allows any address (0.0.0.0/0)');
    expect(valid.stderr).toContain('warning: [policy] profile.lock.yaml pins m42.acme.example to any address (0.0.0.0/0)');
  });

  test.each([
    ['addresses', 'addresses: ["{Gw}"]', `'{Gw}' is not a variable reference`],
    ['addresses', 'addresses: ["{gw"]', `'{gw' is not a variable reference`],
    ['addresses', 'addresses: ["x{gw}"]', 'a variable must be the whole item'],
    ['domains', 'domains: ["m{mid.acme.example"]', `'{mid.acme.example' is not a variable reference`],
    ['domains', 'domains: ["m{Mid}.acme.example"]', 'does not match the pattern'],
    ['domains', 'domains: ["mid}.acme.example"]', `'}' is not a variable reference`],
  ])('%s: %s is an error with its location', async (_field, replacement, message) => {
    const r = await validate(minimalVendor.replace('domains: ["m{mid}.acme.example"]', replacement), answeredProfile);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^vendors/acme\\.yaml:20:\\d+: services\\[0\\]\\.flows\\[0\\]\\.\\w+\\[0\\]: .*${message.replace(/[{}[\]().*]/g, '\\$&')}`));
  });
});

describe('5. ICMP per family; unsafe characters refused and escaped', () => {
  const icmp = minimalVendor.replace('        protocol: tcp\n        ports: [443]\n        domains: ["m{mid}.acme.example"]', '        protocol: icmp\n        addresses: [192.0.2.0/24, "2001:db8::/32"]');

  test('Windows: ICMPv4 for IPv4 remotes and ICMPv6 for IPv6 ones, in rules of their own', () => {
    const s = site(icmp, answeredProfile);
    const result = renderSite(s.root, s.profile, targets.filter((t) => t.id === 'windows'));
    const ps1 = result.files.find((f) => f.path.endsWith('pos-terminal.ps1'))!.content;
    expect(ps1).toMatch(/-Protocol ICMPv4[^\n]*\n?[\s\S]*?-RemoteAddress @\('192\.0\.2\.0\/24'\)/);
    const calls = ps1.split('New-NetFirewallRule').slice(1);
    expect(calls.filter((c) => c.includes('ICMPv4')).every((c) => c.includes("'192.0.2.0/24'") && !c.includes('2001:db8'))).toBe(true);
    expect(calls.filter((c) => c.includes('ICMPv6')).every((c) => c.includes("'2001:db8::/32'") && !c.includes('192.0.2'))).toBe(true);
    expect(calls.filter((c) => c.includes('ICMPv6')).length).toBe(1);
  });

  test('Windows: an ICMP rule on names Windows resolves itself is made for both families', () => {
    const v = minimalVendor.replace('        protocol: tcp\n        ports: [443]\n', '        protocol: icmp\n');
    const s = site(v, answeredProfile + 'targets:\n  windows:\n    dynamicKeywords: true\n');
    const result = renderSite(s.root, s.profile, targets.filter((t) => t.id === 'windows'));
    const ps1 = result.files.find((f) => f.path.endsWith('pos-terminal.ps1'))!.content;
    const calls = ps1.split('New-NetFirewallRule').slice(1).filter((c) => c.includes('-RemoteDynamicKeywordAddresses'));
    expect(calls.map((c) => /-Protocol (\S+)/.exec(c)![1]).sort()).toEqual(['ICMPv4', 'ICMPv6']);
  });

  test('AWS: icmpv6 for IPv6 ranges, icmp for IPv4 ones', () => {
    const s = site(icmp, answeredProfile);
    const result = renderSite(s.root, s.profile, targets.filter((t) => t.id === 'aws'));
    const egress = JSON.parse(result.files.find((f) => f.path.endsWith('pos-terminal.egress.json'))!.content);
    const perms = egress as Array<{ IpProtocol: string; IpRanges?: unknown[]; Ipv6Ranges?: unknown[] }>;
    expect(perms.map((p) => [p.IpProtocol, p.IpRanges?.length ?? 0, p.Ipv6Ranges?.length ?? 0])).toEqual([
      ['icmp', 1, 0],
      ['icmpv6', 0, 1],
    ]);
  });

  test.each([
    ['a NUL in a program path', 'programs', '\u0000', 'U+0000'],
    ['a right-to-left override in a service name', 'name', '\u202e', 'U+202E'],
    ['a zero-width space in a service name', 'name', '\u200b', 'U+200B'],
    ['an escape sequence in a service name', 'name', '\u001b[31m', 'U+001B'],
    ['a line break in a service name', 'name', '\n', 'U+000A'],
  ])('%s is refused with its location, printed escaped', async (_label, field, ch, code) => {
    const v =
      field === 'programs'
        ? minimalVendor.replace('        protocol: tcp\n        ports: [443]\n        domains: ["m{mid}.acme.example"]', `        programs: [${JSON.stringify(`C:\\acme${ch}.exe`)}]`)
        : minimalVendor.replace('    name: Acme API', `    name: ${JSON.stringify(`Acme${ch}API`)}`);
    const r = await validate(v, answeredProfile);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^vendors/acme\\.yaml:\\d+:\\d+: services\\[0\\]\\.(name|flows\\[0\\]\\.programs\\[0\\]): the value holds ${code.replace('+', '\\+')}`));
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
  });

  test('line breaks stay allowed in notes and descriptions', async () => {
    const r = await validate(minimalVendor.replace('    name: Acme API\n', '    name: Acme API\n    notes: ["first line\\nsecond line"]\n'), answeredProfile);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('6. a vendor pattern cannot hang fwgen', () => {
  test('([0-9]+)+ against a 35-character value that does not match finishes at once', async () => {
    const started = Date.now();
    const r = await validate(loose('([0-9]+)+'), withMid(`${'1'.repeat(34)}x`));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('does not match the vendor\'s pattern ([0-9]+)+');
  });

  test('other catastrophic shapes too, on longer values', async () => {
    for (const pattern of ['(a|aa)+', '(a*)*b', '([a-z0-9]+)*\\.x']) {
      const started = Date.now();
      const r = await validate(loose(pattern), withMid('a'.repeat(200) + '!'));
      expect(Date.now() - started).toBeLessThan(3000);
      expect(r.status).toBe(1);
    }
  });

  test('a pattern RE2 cannot run is refused with a message', async () => {
    const r = await validate(loose('(?=a)[0-9]+'), answeredProfile);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('variables.mid.pattern: not a valid regular expression for fwgen (RE2 syntax');
  });
});
