import * as fs from 'node:fs';
import * as path from 'node:path';
import { answeredProfile, minimalProfile, minimalVendor, runInProcess, tempCatalog } from '../helpers';

/** Each case breaks one thing and names the exact location and message the user must see. */
interface Case {
  name: string;
  vendor?: string;
  profile?: string;
  expected: string;
}

const cases: Case[] = [
  {
    name: 'malformed YAML',
    vendor: minimalVendor.replace('    title: Acme firewall page', '    title: [Acme firewall page'),
    expected: 'vendors/acme.yaml:6:5: (document): YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
  },
  {
    name: 'unknown field',
    vendor: minimalVendor.replace('        protocol: tcp', '        protocol: tcp\n        colour: red'),
    expected: "vendors/acme.yaml:19:9: services[0].flows[0].colour: unknown field 'colour'",
  },
  {
    name: 'port 70000',
    vendor: minimalVendor.replace('ports: [443]', 'ports: [443, 70000]'),
    expected: 'vendors/acme.yaml:19:22: services[0].flows[0].ports[1]: 70000 is above the maximum 65535',
  },
  {
    name: 'inverted range',
    vendor: minimalVendor.replace('ports: [443]', 'ports: ["5024-5022"]'),
    expected: 'vendors/acme.yaml:19:17: services[0].flows[0].ports[0]: range 5024-5022 is inverted (5024 > 5022)',
  },
  {
    name: 'port out of range inside a range',
    vendor: minimalVendor.replace('ports: [443]', 'ports: ["1-70000"]'),
    expected: 'vendors/acme.yaml:19:17: services[0].flows[0].ports[0]: port 70000 is out of range 1-65535',
  },
  {
    name: 'bad CIDR',
    vendor: minimalVendor.replace('domains: ["m{mid}.acme.example"]', 'addresses: [10.0.0.0/33]'),
    expected: "vendors/acme.yaml:20:21: services[0].flows[0].addresses[0]: '10.0.0.0/33' is not a valid CIDR: the prefix length must be a number from 0 to 32",
  },
  {
    name: 'CIDR with host bits',
    vendor: minimalVendor.replace('domains: ["m{mid}.acme.example"]', 'addresses: [10.0.0.1/24]'),
    expected: "vendors/acme.yaml:20:21: services[0].flows[0].addresses[0]: '10.0.0.1/24' has host bits set; the network is 10.0.0.0/24",
  },
  {
    name: 'unknown device class',
    vendor: minimalVendor.replace('deviceClasses: [pos-terminal]', 'deviceClasses: [till]'),
    expected:
      "vendors/acme.yaml:15:21: services[0].deviceClasses[0]: unknown device class 'till' (known: back-office-pc, boh-server, caps-server, dns-resolver, ecommerce-web-server, mail-server, order-entry-terminal, pos-terminal, sunmi-device)",
  },
  {
    name: 'undefined variable',
    vendor: minimalVendor.replace('m{mid}.acme.example', 'm{merchant}.acme.example'),
    expected: "vendors/acme.yaml:20:19: services[0].flows[0].domains[0]: undefined variable 'merchant' (declare it under variables)",
  },
  {
    name: 'duplicate service id',
    vendor: minimalVendor + minimalVendor.slice(minimalVendor.indexOf('  - id: api')),
    expected: "vendors/acme.yaml:21:9: services[1].id: duplicate service id 'api' (first defined on line 12)",
  },
  {
    name: 'tcp flow without ports',
    vendor: minimalVendor.replace('        ports: [443]\n', ''),
    expected: 'vendors/acme.yaml:18:19: services[0].flows[0].protocol: a tcp flow needs ports (fwgen never opens every port)',
  },
  {
    name: 'profile naming a missing vendor',
    profile: minimalProfile.replace('  acme:\n', '  acme:\n    variables: {mid: "1"}\n  globex:\n').replace('    variables:\n      mid: "42"\n', ''),
    expected: "profile.yaml:8:3: vendors.globex: no vendor 'globex' in the catalog (known: acme)",
  },
  {
    name: 'profile missing a variable',
    profile: minimalProfile.replace('    variables:\n      mid: "42"\n', '    include: []\n'),
    expected:
      "profile.yaml:6:3: vendors.acme: variable 'mid' is not set; acme/api (vendors/acme.yaml:17:9) needs it: merchant id; set it under variables, or exclude the service (exclude: [api])",
  },
  {
    name: 'profile variable not matching the pattern',
    profile: minimalProfile.replace('mid: "42"', 'mid: "4x2"'),
    expected: 'profile.yaml:8:12: vendors.acme.variables.mid: "4x2" does not match the vendor\'s pattern [0-9]+',
  },
  {
    name: 'profile binding an unknown device class',
    profile: minimalProfile + '  till:\n    addresses: [10.0.1.0/24]\n',
    expected:
      "profile.yaml:12:3: deviceClasses.till: unknown device class 'till' (known: back-office-pc, boh-server, caps-server, dns-resolver, ecommerce-web-server, mail-server, order-entry-terminal, pos-terminal, sunmi-device)",
  },
  {
    name: 'profile with a bad address',
    profile: minimalProfile.replace('10.0.0.0/24', '10.0.0.300'),
    expected: "profile.yaml:11:17: deviceClasses.pos-terminal.addresses[0]: '10.0.0.300' is not a valid IP address: '300' is more than 255",
  },
];

describe('broken inputs name file, line, column and field', () => {
  test.each(cases)('$name', async ({ vendor, profile, expected }) => {
    const root = tempCatalog({ 'acme.yaml': vendor ?? minimalVendor });
    fs.writeFileSync(path.join(root, 'profile.yaml'), profile ?? minimalProfile);
    const r = await runInProcess(['validate', '--catalog', root, path.join(root, 'profile.yaml')], root);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(expected);
    expect(lines[lines.length - 1]).toMatch(/^fwgen: \d+ problems?; nothing was written$/);
  });

  test('a valid vendor and profile pass', async () => {
    const root = tempCatalog({ 'acme.yaml': minimalVendor });
    fs.writeFileSync(path.join(root, 'profile.yaml'), answeredProfile);
    const r = await runInProcess(['validate', '--catalog', root, path.join(root, 'profile.yaml')], root);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok: 1 vendors, 2 address lists, 9 device classes, 1 profiles\n');
    expect(r.status).toBe(0);
  });
});
