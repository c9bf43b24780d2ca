import type { Rule } from '../../src/policy/types';
import { edges, layoutFor, planProbes, PolicyModel, type PolicyView } from './probes';

/** The probe derivation alone (no namespaces): what it samples and how it decides. */

const loc = { file: 'site.yaml', line: 1, col: 1 };

/** Only the fields the derivation reads; the rest of the IR may grow without touching this test. */
function rule(partial: Partial<Rule> & Pick<Rule, 'id' | 'deviceClass' | 'direction' | 'protocol' | 'ports'>): Rule {
  return ({
    vendor: 'site',
    vendorName: 'Site',
    service: 'svc',
    serviceName: 'Service',
    requirement: 'required',
    remote: { addresses: { ipv4: [], ipv6: [] }, names: [], lists: [], peers: [] },
    programs: [],
    origins: [{ vendor: 'site', service: 'svc', flow: 0, loc }],
    ...partial,
  }) as Rule;
}

const policy: PolicyView = {
  interfaces: [],
  deviceClasses: [
    { id: 'web', name: 'Web', os: 'linux', addresses: { ipv4: ['203.0.113.10/32'], ipv6: ['2001:db8:30::10/128'] } },
    { id: 'pos', name: 'POS', os: 'linux', addresses: { ipv4: ['10.0.0.16/28'], ipv6: [] } },
  ],
  rules: [
    rule({ id: 'site.https.web.in.tcp', deviceClass: 'web', direction: 'inbound', protocol: 'tcp', ports: [{ from: 443, to: 443 }], remote: { addresses: { ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] }, names: [], lists: [], peers: [] } }),
    rule({ id: 'site.ssh.web.in.tcp', deviceClass: 'web', direction: 'inbound', protocol: 'tcp', ports: [{ from: 22, to: 22 }], remote: { addresses: { ipv4: ['192.0.2.0/28'], ipv6: [] }, names: [], lists: [], peers: [] } }),
    rule({ id: 'v.api.pos.out.tcp', deviceClass: 'pos', direction: 'outbound', protocol: 'tcp', ports: [{ from: 8443, to: 8443 }], remote: { addresses: { ipv4: [], ipv6: [] }, names: ['api.v.example'], lists: [], peers: [] } }),
  ],
  names: new Map([['api.v.example', { name: 'api.v.example', wildcard: false, addresses: { ipv4: ['198.51.100.7/32'], ipv6: [] } }]]),
};

test('range edges: first and last inside, the neighbours outside; "anywhere" sampled in its middle', () => {
  expect(edges('192.0.2.0/28')).toEqual({ inside: ['192.0.2.0', '192.0.2.15'], outside: ['192.0.1.255', '192.0.2.16'] });
  expect(edges('0.0.0.0/0')).toEqual({ inside: ['128.0.0.0', '128.0.0.1'], outside: [] });
  expect(edges('::/0').inside).toEqual(['8000::', '8000::1']);
});

test('every flow is probed from each end it allows, and forbidden neighbours are decided by the policy', () => {
  const { probes, layout } = planProbes(policy, 'gateway', new Set());
  const allowed = probes.filter((p) => p.expect === 'pass').map((p) => `${p.proto} ${p.src}>${p.dst}:${p.port}`);
  expect(allowed).toEqual(
    expect.arrayContaining([
      'tcp 128.0.0.0>203.0.113.10:443',
      'tcp 8000::>2001:db8:30::10:443',
      'tcp 192.0.2.0>203.0.113.10:22',
      'tcp 192.0.2.15>203.0.113.10:22',
      'tcp 10.0.0.17>198.51.100.7:8443',
      'tcp 10.0.0.30>198.51.100.7:8443',
    ]),
  );
  const dropped = probes.filter((p) => p.expect === 'drop').map((p) => `${p.proto} ${p.src}>${p.dst}:${p.port} ${p.why.split(' ')[0]}`);
  expect(dropped).toEqual(
    expect.arrayContaining([
      'tcp 192.0.1.255>203.0.113.10:22 just',
      'tcp 192.0.2.16>203.0.113.10:22 just',
      'tcp 192.0.2.0>203.0.113.10:23 neighbouring',
      'udp 192.0.2.0>203.0.113.10:22 other',
      'tcp 203.0.113.10>198.51.100.7:8443 class',
      'tcp 198.51.100.7>10.0.0.17:8443 reverse',
      'udp 10.0.0.17>192.0.2.254:53 DNS',
      'tcp 128.0.0.0>10.0.0.17:443 class',
    ]),
  );
  // HTTPS from anywhere: the other end of an SSH probe is "anywhere" too, so port 443 from the
  // admin network is allowed, never expected to drop.
  expect(new PolicyModel(policy, 'gateway', new Set()).allows({ proto: 'tcp', src: '192.0.2.0', dst: '203.0.113.10', port: 443 })).toBe(true);
  expect(layout.lanOnly.size).toBe(1); // pos has no IPv6 prefix
  expect(probes.every((p) => layout.places.has(p.src) && layout.places.has(p.dst))).toBe(true);
});

test('host mode: a class without a host file enforces nothing, its peer still does', () => {
  const model = new PolicyModel(policy, 'host', new Set(['web']));
  expect(model.allows({ proto: 'tcp', src: '10.0.0.17', dst: '198.51.100.9', port: 1 })).toBe(true);
  expect(model.allows({ proto: 'tcp', src: '192.0.2.99', dst: '203.0.113.10', port: 22 })).toBe(false);
  expect(model.allows({ proto: 'tcp', src: '192.0.2.9', dst: '203.0.113.10', port: 22 })).toBe(true);
  expect(layoutFor(policy, 'host').lanOnly.size).toBe(0);
});
