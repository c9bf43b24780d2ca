/**
 * Text from a profile, a catalog layer, a file name or a feed never runs as Jinja on the
 * controller. Free text the schemas allow braces in (Windows program paths, in a site flow and
 * in a vendor flow of a catalog layer) is rendered with template payloads and the generated
 * plays are run, in --check against localhost so every argument is templated: no marker file
 * appears and the module receives the literal text. Names refuse the payloads with a located
 * error and write nothing, the Microsoft 365 feed's service area name included.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { startFeedServer } from '../feeds/server';
import { catalogRoot, runInProcess, tempDir } from '../helpers';
import { parseAnsible, playbook, unlessMissing, withAnsible } from './harness';
import { fixtureConfig, missingForBox, PfsenseBox } from './pfsense-box';

const itWithBox = unlessMissing(missingForBox());

const it = withAnsible('ansible-playbook');

const mark = tempDir('fwgen-jinja-mark-');
/** A template that leaves a file behind if Ansible ever renders it. */
const lookup = (tag: string) => `{{ lookup('pipe', 'touch ${mark}/${tag}') }}`;
const markers = () => fs.readdirSync(mark);

const SITE_PROGRAMS = [`C:\\Tools\\${lookup('site-program')}.exe`, 'C:\\Tools\\{% raw %}site.exe', 'C:\\Tools\\{# site.exe'];
const VENDOR_PROGRAMS = [`C:\\Evil\\${lookup('vendor-program')}.exe`, 'C:\\Evil\\{% raw %}.exe', 'C:\\Evil\\{# vendor.exe'];
const VENDOR_TCP_PROGRAM = `C:\\Evil\\${lookup('vendor-tcp-program')}\\agent.exe`;

function vendor(edit: (v: Record<string, any>) => void = () => undefined): string {
  const v = {
    vendor: { id: 'evil', name: 'Evil Tools', source: { title: 'Evil Tools firewall page' } },
    services: [
      {
        id: 'tools',
        name: 'Tools',
        requirement: 'required',
        deviceClasses: ['boh-server'],
        flows: [
          { direction: 'outbound', programs: VENDOR_PROGRAMS },
          { direction: 'outbound', protocol: 'tcp', ports: [443], addresses: ['198.51.100.7'], programs: [VENDOR_TCP_PROGRAM] },
        ],
      },
    ],
  };
  edit(v);
  return stringify(v);
}

function profile(edit: (p: Record<string, any>) => void = () => undefined): string {
  const p = {
    profile: { name: 'jinja-site' },
    region: 'eu',
    environment: 'production',
    vendors: { evil: {} },
    deviceClasses: { 'boh-server': { addresses: ['10.20.0.10'], interface: 'lan0' } },
    flows: [
      { id: 'admin-tools', name: 'Admin tools', deviceClasses: ['boh-server'], direction: 'outbound', protocol: 'tcp', ports: [8443], addresses: ['192.0.2.80'], programs: SITE_PROGRAMS },
    ],
    acknowledge: [{ check: 'management-access', deviceClass: 'boh-server', reason: 'a test site: managed at its console' }],
    targets: {
      windows: { group: 'fwgen jinja-site', dynamicKeywords: false },
      ansible: { hosts: { 'windows:boh-server': ['localhost'], pfsense: ['localhost'], aws: ['localhost'] } },
    },
  };
  edit(p);
  return stringify(p);
}

/** A workspace with a catalog layer holding the vendor, and one site. */
function workspace(files: { vendor?: string; profile?: string; siteFile?: string; deviceClasses?: string } = {}): string {
  const ws = tempDir('fwgen-jinja-ws-');
  fs.writeFileSync(path.join(ws, 'fwgen.yaml'), 'sites: [sites/*.yaml]\ncatalog: [local]\n');
  fs.mkdirSync(path.join(ws, 'local/vendors'), { recursive: true });
  fs.mkdirSync(path.join(ws, 'sites'));
  fs.writeFileSync(path.join(ws, 'local/vendors/evil.yaml'), files.vendor ?? vendor());
  if (files.deviceClasses) fs.writeFileSync(path.join(ws, 'local/device-classes.yaml'), files.deviceClasses);
  fs.writeFileSync(path.join(ws, 'sites', files.siteFile ?? 'jinja-site.yaml'), files.profile ?? profile());
  return ws;
}

const localhost = JSON.stringify({ ansible_connection: 'local', ansible_python_interpreter: '{{ ansible_playbook_python }}' });

/** The JSON object that starts at `start`: braces counted outside strings. */
function objectAt(text: string, start: number): string {
  let depth = 0;
  let quoted = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error(`no whole JSON object at ${start}`);
}

/** Each task result ansible-playbook prints for localhost (with -vvv, the module's arguments too). */
function results(output: string): Array<Record<string, any>> {
  return [...output.matchAll(/^(?:fatal|failed|ok|changed): \[localhost\].*? => \{/gm)].map((m) => JSON.parse(objectAt(output, m.index! + m[0].length - 1)) as Record<string, any>);
}

describe('free text with template payloads, through the generated plays', () => {
  let site = '';
  beforeAll(async () => {
    const ws = workspace();
    const r = await runInProcess(['render'], ws);
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    site = path.join(ws, 'out/jinja-site/ansible');
  });

  test('the vars hold every payload as an !unsafe string, literally', () => {
    const text = fs.readFileSync(path.join(site, 'vars/windows.yml'), 'utf8');
    const vars = parseAnsible(text) as { fwgen_windows: Record<string, { rules: Array<{ program?: string }> }> };
    const programs = vars.fwgen_windows['boh-server']!.rules.map((r) => r.program).filter((p) => p !== undefined);
    expect([...new Set(programs)].sort()).toEqual([...SITE_PROGRAMS, ...VENDOR_PROGRAMS, VENDOR_TCP_PROGRAM].sort());
    // Every string value line is tagged; none is left for Ansible to template but fwgen's own
    // expression for the site folder, which holds no data.
    const lines = text.split('\n').filter((l) => /^\s*(- )?[a-z_]+: \S/.test(l) && !/: (true|false|\d+)$/.test(l));
    expect(lines.filter((l) => !/: !unsafe /.test(l))).toEqual(['fwgen_dir: "{{ playbook_dir }}/.."']);
  });

  it('Windows: win_firewall_rule receives each program path as written, and nothing is templated', () => {
    const r = playbook(['-i', 'inventory.yml', 'windows.yml', '--check', '-v', '--limit', 'localhost', '-e', localhost], { cwd: site });
    expect(r.output).toMatch(/PLAY RECAP/);
    expect(markers()).toEqual([]);
    // The items reached the task: each result names its item, program path and all, as the vars hold it.
    const items = results(r.output).flatMap((x) => (x.item ? [x.item as { program?: string }] : []));
    const seen = items.map((i) => i.program).filter((p) => p !== undefined);
    expect([...new Set(seen)].sort()).toEqual([...SITE_PROGRAMS, ...VENDOR_PROGRAMS, VENDOR_TCP_PROGRAM].sort());
    expect(r.output).not.toMatch(/TemplateSyntaxError|unexpected end of template|Missing end of comment tag/);
  });

  // The real pfsensible.core against a fixture config.xml in a mount namespace (pfsense-box.ts),
  // in --check: the config holds one of this site's stale rules whose description is a template.
  itWithBox('pfSense: the play templates nothing it reads or is given; a stale rule named with a template is found as text', () => {
    const box = new PfsenseBox();
    try {
      const copy = path.join(box.work, 'site');
      fs.cpSync(path.dirname(site), copy, { recursive: true });
      const vars = parseAnsible(fs.readFileSync(path.join(copy, 'ansible/vars/pfsense.yml'), 'utf8')) as Record<string, string>;
      const config = fixtureConfig(vars.fwgen_pfsense_alias_prefix!, vars.fwgen_pfsense_rule_prefix!);
      expect(config).toContain("{{ lookup('pipe', 'touch /cf/conf/templated') }}");
      fs.writeFileSync(box.configFile, config);
      fs.writeFileSync(path.join(box.work, 'hosts.yml'), 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: /usr/bin/python3\n');
      const r = box.play(['-i', path.join(copy, 'ansible/inventory.yml'), '-i', path.join(box.work, 'hosts.yml'), path.join(copy, 'ansible/pfsense.yml'), '--check', '-v']);
      expect({ status: r.status, failed: r.failed }).toEqual({ status: 0, failed: 0 });
      expect(r.output).toContain(`${vars.fwgen_pfsense_rule_prefix}stale {{ lookup('pipe', 'touch /cf/conf/templated') }} {% raw %}`);
      expect(fs.existsSync(path.join(box.work, 'conf/templated'))).toBe(false);
      expect(markers()).toEqual([]);
      expect(box.config()).toBe(config);
    } finally {
      box.remove();
    }
  }, 240_000);
});

describe('names refuse templates: one located line, exit 1, nothing written', () => {
  async function refused(ws: string, expected: RegExp): Promise<void> {
    const r = await runInProcess(['render'], ws);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(expected);
    expect(fs.existsSync(path.join(ws, 'out'))).toBe(false);
    expect(markers()).toEqual([]);
  }

  test.each([
    ['{{', lookup('name')],
    ['{%', '{% raw %}'],
    ['{#', '{# x'],
  ])('%s in a catalog layer\'s vendor, service and device-class names, and a site flow name', async (opener, payload) => {
    const named = `Tools ${payload}`;
    await refused(
      workspace({ vendor: vendor((v) => (v.vendor.name = named)) }),
      new RegExp(`^local/vendors/evil\\.yaml:\\d+:\\d+: vendor\\.name: the name .* holds '\\${opener[0]}\\${opener[1]}'`, 'm'),
    );
    await refused(workspace({ vendor: vendor((v) => (v.services[0].name = named)) }), /^local\/vendors\/evil\.yaml:\d+:\d+: services\[0\]\.name: the name .*a name takes no braces/m);
    await refused(workspace({ profile: profile((p) => (p.flows[0].name = named)) }), /^sites\/jinja-site\.yaml:\d+:\d+: flows\[0\]\.name: the name .*a name takes no braces/m);
    const classes = stringify({ deviceClasses: [{ id: 'evil-class', name: named, description: 'A class of the layer', os: 'linux' }] });
    await refused(workspace({ deviceClasses: classes }), /^local\/device-classes\.yaml:\d+:\d+: deviceClasses\[0\]\.name: the name .*a name takes no braces/m);
  });

  test('targets.aws.groupName with a quote-free payload', async () => {
    await refused(
      workspace({ profile: profile((p) => (p.targets.aws = { groupName: "sg{{lookup('pipe','id')}}" })) }),
      /^sites\/jinja-site\.yaml:\d+:\d+: targets\.aws\.groupName: .* does not match the pattern/m,
    );
    await refused(workspace({ profile: profile((p) => (p.targets.aws = { groupName: 'sg-{x}' })) }), /targets\.aws\.groupName/);
  });

  test.each([
    ['a template', "e{{ lookup('pipe','id') }}.yaml", /holds '\{\{'/],
    ['a newline', 'e\nx.yaml', /holds U\+000A/],
    ['ESC', 'e\u001b[31mx.yaml', /holds U\+001B \(a control character\)/],
    ['U+202E', 'e\u202eltsil.yaml', /holds U\+202E \(a bidirectional-text control/],
  ])('a site file name holding %s', async (_what, file, expected) => {
    const ws = workspace({ siteFile: file });
    const r = await runInProcess(['render'], ws);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^sites\/e.*: the file name /);
    expect(r.stderr).toMatch(expected);
    // The message shows the name escaped, never the raw character.
    expect(r.stderr).not.toMatch(/[\u001b\u202e]/);
    expect(fs.existsSync(path.join(ws, 'out'))).toBe(false);
    expect(markers()).toEqual([]);
  });

  test('a profile outside a workspace whose file name holds a template', async () => {
    const dir = tempDir('fwgen-jinja-profile-');
    const file = path.join(dir, "s{{ lookup('pipe','id') }}.yaml");
    fs.writeFileSync(file, profile((p) => delete p.vendors.evil));
    const r = await runInProcess(['render', '-p', file, '-o', path.join(dir, 'out')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/: the file name holds '\{\{'/);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });
});

describe('the Microsoft 365 feed', () => {
  test('a service area name holding a template is refused, naming the feed field; nothing is written', async () => {
    for (const v of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete process.env[v];
    const catalog = tempDir('fwgen-jinja-m365-');
    fs.cpSync(catalogRoot, catalog, { recursive: true });
    const before = fs.readFileSync(path.join(catalog, 'vendors/microsoft-365.yaml'), 'utf8');
    const feeds = await startFeedServer();
    try {
      for (const [name, opener] of [
        [`Exchange ${lookup('feed')}`, '{{'],
        ['Exchange {% raw %}', '{%'],
        ['Exchange {# x', '{#'],
      ] as const) {
        const route = feeds.routes['/endpoints/worldwide'] as { body: string; type?: string };
        const sets = JSON.parse(route.body) as Array<{ id: number; serviceAreaDisplayName?: string }>;
        sets[0]!.serviceAreaDisplayName = name;
        feeds.routes['/endpoints/worldwide'] = { ...route, body: JSON.stringify(sets) };
        const r = await runInProcess(['lists', 'update', 'microsoft-365', '--catalog', catalog, '--source-base', feeds.base, '--tries', '1']);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`endpoint set ${sets[0]!.id}: serviceAreaDisplayName ".*" becomes a service name, and the name holds '\\${opener[0]}\\${opener[1]}'`));
        expect(fs.readFileSync(path.join(catalog, 'vendors/microsoft-365.yaml'), 'utf8')).toBe(before);
      }
    } finally {
      await feeds.close();
    }
    expect(markers()).toEqual([]);
  });
});
