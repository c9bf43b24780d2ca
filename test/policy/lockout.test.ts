import * as fs from 'node:fs';
import * as path from 'node:path';
import { SITE_CHECKS } from '../../src/catalog/acknowledge';
import { loadCatalog } from '../../src/catalog/load-catalog';
import { loadProfile } from '../../src/catalog/profile';
import { buildPolicy } from '../../src/policy/build';
import { HOST_DEFAULTS, HOST_FIREWALLS } from '../../src/policy/host-firewalls';
import { targetById } from '../../src/targets/registry';
import { acmeProfile, acmeVendor, runInProcess, tempCatalog, tempDir } from '../helpers';

/**
 * Renders that would lock a site out are refused, located at the class's binding, until the
 * profile answers them: with the flow that was missing, or with an acknowledge: entry whose
 * reason explain prints and the Policy carries.
 */

/** Acme: one outbound https flow to an address for the given classes (no names, so no DNS needed). */
const vendor = (classes: string) =>
  acmeVendor(`  - id: api
    name: Acme API
    requirement: required
    deviceClasses: [${classes}]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [443]
        addresses: [192.0.2.1]
`);

const ADMIN_SSH = (classes: string, port = 22) => `  - id: admin-ssh
    deviceClasses: [${classes}]
    direction: inbound
    protocol: tcp
    ports: [${port}]
    addresses: [198.51.100.0/28]
`;

interface Site {
  classes: string;
  bindings: string;
  flows?: string;
  rest?: string;
}

function write(s: Site): { catalog: string; file: string; out: string } {
  const catalog = tempCatalog({ 'acme.yaml': vendor(s.classes) });
  const file = path.join(catalog, 'site.yaml');
  fs.writeFileSync(file, `${acmeProfile(s.bindings)}${s.flows ? `flows:\n${s.flows}` : ''}${s.rest ?? ''}`);
  return { catalog, file, out: path.join(tempDir(), 'out') };
}

const render = (w: { catalog: string; file: string; out: string }, ...args: string[]) =>
  runInProcess(['render', '--catalog', w.catalog, '-p', w.file, '-o', w.out, ...args]);
const explain = (w: { catalog: string; file: string }) => runInProcess(['explain', '--catalog', w.catalog, '-p', w.file]);

function policyOf(w: { catalog: string; file: string }) {
  const catalog = loadCatalog(w.catalog);
  return buildPolicy(catalog, loadProfile(w.file, catalog));
}

/** The refusal: exit 1, nothing on stdout, nothing written, the given located lines on stderr. */
async function expectRefused(w: { catalog: string; file: string; out: string }, lines: RegExp[]) {
  const r = await render(w);
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(fs.existsSync(w.out)).toBe(false);
  const got = r.stderr.trimEnd().split('\n');
  expect(got.slice(0, -1)).toEqual(lines.map((l) => expect.stringMatching(l)));
  expect(got[got.length - 1]).toBe(`fwgen: ${lines.length} problem${lines.length === 1 ? '' : 's'}; nothing was written`);
}

/** The answer: it renders, says nothing about it, and explain prints the reason. */
async function expectAnswered(w: { catalog: string; file: string; out: string }, check: string, deviceClass: string, reason: string) {
  const r = await render(w);
  expect(r.stderr).not.toMatch(/\[policy\]|error/);
  expect(r.status).toBe(0);
  const e = await explain(w);
  expect(e.status).toBe(0);
  expect(e.stdout).toMatch(new RegExp(`^Acknowledged by the profile \\(1\\):\\n  ${check} on ${deviceClass}: ${reason} \\(\\S*site\\.yaml:\\d+:5\\)\\n    answers: `, 'm'));
  const acks = policyOf(w).acknowledgements;
  expect(acks).toEqual([expect.objectContaining({ check, deviceClass, reason, loc: expect.objectContaining({ line: expect.any(Number) }) })]);
  expect(acks[0]!.answers.length).toBeGreaterThan(0);
}

const ack = (check: string, deviceClass: string, reason: string, service = '') =>
  `acknowledge:\n  - check: ${check}\n    deviceClass: ${deviceClass}\n${service ? `    service: ${service}\n` : ''}    reason: ${reason}\n`;

describe('management-access: a default-drop host firewall with no way in for the admins', () => {
  const pos = { classes: 'pos-terminal', bindings: '  pos-terminal:\n    addresses: [10.0.0.0/24]\n' };

  test('is refused at the class binding, naming the targets that would drop', async () => {
    await expectRefused(write(pos), [
      /^\S*site\.yaml:8:3: deviceClasses\.pos-terminal: management-access: pos-terminal's host firewall \(iptables, nftables, windows\) drops what it does not allow, and no flow of the site lets the admins in \(tcp 22 SSH, 3389 RDP, 5985\/5986 WinRM\).*acknowledge:/,
    ]);
  });

  test('an admin flow of the site answers it: SSH, RDP or WinRM', async () => {
    for (const port of [22, 3389, 5986]) {
      const r = await render(write({ ...pos, flows: ADMIN_SSH('pos-terminal', port) }));
      expect(r.status).toBe(0);
    }
  });

  test('the class may declare its own management ports; then only those count', async () => {
    const declared = { ...pos, bindings: '  pos-terminal:\n    addresses: [10.0.0.0/24]\n    management: [2222]\n' };
    await expectRefused(write({ ...declared, flows: ADMIN_SSH('pos-terminal') }), [/deviceClasses\.pos-terminal: management-access: .*\(tcp 2222 \(its management: ports\)\)/]);
    expect((await render(write({ ...declared, flows: ADMIN_SSH('pos-terminal', 2222) }))).status).toBe(0);
  });

  test("a vendor's inbound flow lets the vendor in, not the admins", async () => {
    const w = write(pos);
    fs.writeFileSync(
      path.join(w.catalog, 'vendors', 'acme.yaml'),
      vendor('pos-terminal') + `      - direction: inbound\n        protocol: tcp\n        ports: [3389]\n        addresses: [203.0.113.0/24]\n`,
    );
    await expectRefused(w, [/management-access/]);
  });

  test('only targets that drop on the host count: gateway mode and policy accept do not lock the device', async () => {
    const targets = 'targets:\n  nftables: { mode: gateway }\n  iptables: { policy: accept }\n  windows: { policy: accept }\n';
    const bound = { ...pos, bindings: '  pos-terminal:\n    addresses: [10.0.0.0/24, "2001:db8::/64"]\n' };
    expect((await render(write({ ...bound, rest: targets }))).status).toBe(0);
    // A Windows-only class: only the Windows script is a host firewall for it.
    await expectRefused(write({ classes: 'boh-server', bindings: '  boh-server:\n    addresses: [10.0.0.10]\n' }), [/boh-server's host firewall \(windows\) drops/]);
  });

  test('acknowledge: answers it with a reason explain prints and the policy carries', async () => {
    await expectAnswered(write({ ...pos, rest: ack('management-access', 'pos-terminal', 'Managed at the till only') }), 'management-access', 'pos-terminal', 'Managed at the till only');
  });
});

describe('upstream-dns: a resolver that may not ask upstream', () => {
  const resolver = { classes: 'dns-resolver', bindings: '  dns-resolver:\n    addresses: [10.0.9.53]\n', flows: ADMIN_SSH('dns-resolver') };
  const upstream = (addresses: string) => `  - id: upstream\n    deviceClasses: [dns-resolver]\n    direction: outbound\n    protocol: udp\n    ports: [53]\n    addresses: [${addresses}]\n`;

  test('is refused at the class binding', async () => {
    await expectRefused(write(resolver), [/^\S*site\.yaml:8:3: deviceClasses\.dns-resolver: upstream-dns: the resolver may not send its upstream queries/]);
  });

  test('asking only itself is no upstream; asking anything else is', async () => {
    await expectRefused(write({ ...resolver, flows: resolver.flows + upstream('10.0.9.53') }), [/upstream-dns/]);
    expect((await render(write({ ...resolver, flows: resolver.flows + upstream('192.0.2.53') }))).status).toBe(0);
    // Forwarding to resolvers outside the class counts too: resolvers: gives every class udp and tcp 53 to them.
    expect((await render(write({ ...resolver, rest: 'resolvers: [192.0.2.53]\n' }))).status).toBe(0);
  });

  test('acknowledge: answers it', async () => {
    await expectAnswered(write({ ...resolver, rest: ack('upstream-dns', 'dns-resolver', 'Authoritative only, it asks nobody') }), 'upstream-dns', 'dns-resolver', 'Authoritative only, it asks nobody');
  });
});

describe('inbound-web: a web shop its customers cannot reach', () => {
  const shop = { classes: 'ecommerce-web-server', bindings: '  ecommerce-web-server:\n    addresses: [203.0.113.10]\n', flows: ADMIN_SSH('ecommerce-web-server') };
  const customers = `  - id: customers\n    deviceClasses: [ecommerce-web-server]\n    direction: inbound\n    protocol: tcp\n    ports: [443]\n    addresses: [0.0.0.0/0]\n`;

  test('is refused at the class binding', async () => {
    await expectRefused(write(shop), [/^\S*site\.yaml:8:3: deviceClasses\.ecommerce-web-server: inbound-web: no flow of the site lets customers reach the web server/]);
  });

  test("customers' https as a site flow answers it (its any is a warning of its own)", async () => {
    const r = await render(write({ ...shop, flows: shop.flows + customers }));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: \[policy\] allows any address \(0\.0\.0\.0\/0\): ecommerce-web-server inbound tcp 443/);
  });

  test('acknowledge: answers it', async () => {
    await expectAnswered(write({ ...shop, rest: ack('inbound-web', 'ecommerce-web-server', 'An API host; the shop front is elsewhere') }), 'inbound-web', 'ecommerce-web-server', 'An API host; the shop front is elsewhere');
  });
});

describe('dns-lookup: a class that reaches names it cannot look up', () => {
  const named = {
    classes: 'pos-terminal',
    bindings: '  pos-terminal:\n    addresses: [10.0.0.0/24]\n',
    flows: ADMIN_SSH('pos-terminal') + `  - id: updates\n    deviceClasses: [pos-terminal]\n    direction: outbound\n    protocol: tcp\n    ports: [443]\n    domains: [updates.acme.example]\n`,
  };

  test('is refused (it was a warning), naming the rule that needs a name', async () => {
    await expectRefused(write(named), [/^\S*site\.yaml:8:3: deviceClasses\.pos-terminal: dns-lookup: the class reaches host names \(updates\.acme\.example; first by rule site\.updates\.pos-terminal\.out\.tcp, \S*site\.yaml:\d+:5\)/]);
  });

  test('resolvers: answer it; so does acknowledge:', async () => {
    expect((await render(write({ ...named, rest: 'resolvers: [192.0.2.53]\n' }), '--allow-unresolved')).status).toBe(0);
    const w = write({ ...named, rest: ack('dns-lookup', 'pos-terminal', 'Names are pinned in /etc/hosts') });
    const r = await render(w, '--allow-unresolved');
    expect(r.status).toBe(0);
    expect((await explain(w)).stdout).toContain('  dns-lookup on pos-terminal: Names are pinned in /etc/hosts (');
  });
});

describe('explicit any, acknowledged', () => {
  const flows =
    ADMIN_SSH('ecommerce-web-server') +
    `  - id: customers\n    deviceClasses: [ecommerce-web-server]\n    direction: inbound\n    protocol: tcp\n    ports: [80, 443]\n    addresses: [0.0.0.0/0, "::/0"]\n` +
    `  - id: backups\n    deviceClasses: [ecommerce-web-server]\n    direction: outbound\n    protocol: tcp\n    ports: [873]\n    addresses: [0.0.0.0/0]\n`;
  const shop = { classes: 'ecommerce-web-server', bindings: '  ecommerce-web-server:\n    addresses: [203.0.113.10, "2001:db8:30::10"]\n', flows };

  test('each place that gives a class any warns once, both families and every rule in one line', async () => {
    const r = await render(write(shop));
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.includes('[policy]'))).toEqual([
      expect.stringMatching(/site\.yaml:\d+:5: warning: \[policy\] allows any address \(0\.0\.0\.0\/0, ::\/0\): ecommerce-web-server inbound tcp 80,443 \(rule site\.customers\.ecommerce-web-server\.in\.tcp\)$/),
      expect.stringMatching(/site\.yaml:\d+:5: warning: \[policy\] allows any address \(0\.0\.0\.0\/0\): ecommerce-web-server outbound tcp 873 \(rule site\.backups\.ecommerce-web-server\.out\.tcp\)$/),
    ]);
  });

  test('an acknowledged any stops warning and is recorded; one for another service still warns', async () => {
    const w = write({ ...shop, rest: ack('any-address', 'ecommerce-web-server', 'Customers come from anywhere', 'site/customers') });
    const r = await render(w);
    expect(r.status).toBe(0);
    const policyLines = r.stderr.split('\n').filter((l) => l.includes('[policy]'));
    expect(policyLines).toEqual([expect.stringMatching(/allows any address \(0\.0\.0\.0\/0\): ecommerce-web-server outbound tcp 873/)]);
    const [a] = policyOf(w).acknowledgements;
    expect(a).toMatchObject({ check: 'any-address', deviceClass: 'ecommerce-web-server', service: 'site/customers', reason: 'Customers come from anywhere' });
    expect(a!.answers).toEqual([expect.objectContaining({ message: expect.stringMatching(/^allows any address \(0\.0\.0\.0\/0, ::\/0\)/) })]);
    expect((await explain(w)).stdout).toContain('  any-address on ecommerce-web-server (site/customers): Customers come from anywhere (');
  });

  test('without a service it answers every any of the class', async () => {
    const r = await render(write({ ...shop, rest: ack('any-address', 'ecommerce-web-server', 'A public host') }));
    expect(r.stderr).not.toContain('[policy]');
  });

  test('an acknowledgement that answers nothing is said, at its line, so it does not outlive its reason', async () => {
    const r = await render(write({ ...shop, rest: ack('upstream-dns', 'ecommerce-web-server', 'Left over') + '  - { check: any-address, deviceClass: ecommerce-web-server, reason: Public }\n' }));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/site\.yaml:\d+:5: warning: \[policy\] acknowledge: upstream-dns for ecommerce-web-server answers nothing at this site .*remove it/);
  });
});

describe('acknowledge: entries are checked where they are written', () => {
  const pos = { classes: 'pos-terminal', bindings: '  pos-terminal:\n    addresses: [10.0.0.0/24]\n' };
  test.each([
    ['an unbound class', ack('management-access', 'boh-server', 'x'), /acknowledge\[0\]\.deviceClass: device class 'boh-server' is not bound at this site/],
    ['an unknown check', ack('lockout', 'pos-terminal', 'x'), /acknowledge\[0\]\.check: "lockout" is not one of: management-access, upstream-dns, inbound-web, dns-lookup, any-address, all-ports/],
    ['a service on a class-wide check', ack('management-access', 'pos-terminal', 'x', 'acme/api'), /acknowledge\[0\]\.service: check 'management-access' is about the device class as a whole/],
    ['an unknown service', ack('any-address', 'pos-terminal', 'x', 'acme/web'), /acknowledge\[0\]\.service: vendor 'acme' has no service 'web' \(it has: api\)/],
    ['a vendor the site does not use', ack('any-address', 'pos-terminal', 'x', 'globex/api'), /acknowledge\[0\]\.service: 'globex\/api' is not vendor\/service of a vendor this profile uses \(acme, site;/],
    ['a blank reason', ack('management-access', 'pos-terminal', "' '"), /acknowledge\[0\]\.reason: /],
    ['no reason', 'acknowledge:\n  - { check: management-access, deviceClass: pos-terminal }\n', /acknowledge\[0\]: missing required field 'reason'/],
    ['the same answer twice', ack('management-access', 'pos-terminal', 'a') + '  - { check: management-access, deviceClass: pos-terminal, reason: b }\n', /acknowledge\[1\]: the same check, device class and service are acknowledged on line \d+ already/],
  ])('%s', async (_name, rest, expected) => {
    const w = write({ ...pos, rest });
    const r = await runInProcess(['validate', '--catalog', w.catalog, w.file]);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^\\S*site\\.yaml:\\d+:\\d+: ${expected.source}`));
  });
});

test('validate refuses a lock-out too, so CI catches it before a render', async () => {
  const w = write({ classes: 'pos-terminal', bindings: '  pos-terminal:\n    addresses: [10.0.0.0/24]\n' });
  const r = await runInProcess(['validate', '--catalog', w.catalog, w.file]);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/deviceClasses\.pos-terminal: management-access: /);
});

test('resolve is not held up by a lock-out the profile has yet to answer (it only pins names)', async () => {
  const w = write({ classes: 'pos-terminal', bindings: '  pos-terminal:\n    addresses: [10.0.0.0/24]\n' });
  // No names selected: nothing to look up, but the policy is built without refusing.
  const r = await runInProcess(['resolve', '--catalog', w.catalog, '-p', w.file, '--server', '127.0.0.1:9', '--timeout', '100', '--tries', '1']);
  expect(r.stderr).not.toMatch(/management-access/);
  expect(r.status).toBe(0);
});

test('explain lists unanswered lock-outs instead of failing', async () => {
  const w = write({ classes: 'pos-terminal', bindings: '  pos-terminal:\n    addresses: [10.0.0.0/24]\n' });
  const r = await explain(w);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^Lock-outs the profile does not answer \(1; render refuses the site\):\n  management-access on pos-terminal: /m);
});

test('every check is documented in the schema and the README', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../catalog/schema/profile.schema.json'), 'utf8'));
  expect(schema.properties.acknowledge.items.properties.check.enum).toEqual(Object.keys(SITE_CHECKS));
  const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  for (const id of Object.keys(SITE_CHECKS)) expect(readme).toContain(`\`${id}\``);
});

test("the host firewalls' defaults are the targets' own", () => {
  for (const h of HOST_FIREWALLS) {
    const options = targetById(h.target)!.options as Record<string, { default: unknown }>;
    expect(options.policy!.default).toBe(HOST_DEFAULTS.policy);
    if (h.modes) expect(options.mode!.default).toBe(HOST_DEFAULTS.mode);
    else expect(options.mode).toBeUndefined();
  }
});
