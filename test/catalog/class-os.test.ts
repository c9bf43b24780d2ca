/**
 * A profile says what system a device class runs (deviceClasses.<class>.os); the catalog's os
 * is fwgen's noted default. The profile's value decides every host output: the Windows script,
 * the Linux host files and the Ansible inventory groups.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, type Document } from 'yaml';
import { loadCatalog } from '../../src/catalog/load-catalog';
import { renderSite } from '../../src/render/site';
import { targets } from '../../src/targets/registry';
import { collectionsPath, editExample, parseAnsible, withAnsible } from '../ansible/harness';
import { renderToTemp } from '../conformance/render-helpers';
import { parsePowerShell } from '../conformance/powershell';
import { nftCheck, withTool } from '../conformance/validators';
import { catalogRoot, examplesRoot, runInProcess, tempDir } from '../helpers';

/** Sets deviceClasses.<cls>.os (and any other edits) in a parsed example profile. */
const setOs = (cls: string, os: string, more: (doc: Document) => void = () => undefined) => (doc: Document) => {
  doc.setIn(['deviceClasses', cls, 'os'], os);
  more(doc);
};

/** A copy of an example (with its lock) edited and rendered for every target; its site folder and profile. */
function renderEdited(name: string, edit: (doc: Document) => void): { site: string; profile: string } {
  const profile = editExample(name, edit);
  return { site: renderToTemp(profile).dir, profile };
}

const files = (dir: string, sub: string): string[] => (fs.existsSync(path.join(dir, sub)) ? fs.readdirSync(path.join(dir, sub)).sort() : []);

describe('the catalog default', () => {
  test('every device class has an os and a note saying whose choice it is', () => {
    const catalog = loadCatalog(catalogRoot);
    for (const c of catalog.deviceClasses.values()) {
      const notes = c.notes.join(' ');
      expect({ id: c.id, os: c.os }).toEqual({ id: c.id, os: expect.stringMatching(/^(windows|linux|android|any)$/) });
      expect(`${c.id}: ${notes}`).toMatch(new RegExp(`os ${c.os} is fwgen's default`));
      expect(`${c.id}: ${notes}`).toContain(`deviceClasses.${c.id}.os`);
    }
    // No page names these systems: their notes say so in as many words.
    for (const id of ['ecommerce-web-server', 'caps-server', 'sunmi-device']) expect(catalog.deviceClasses.get(id)!.notes.join(' ')).toMatch(/not (a vendor's|PayXpert's word)/);
  });

  test('a profile that sets no os renders as before (the examples are unchanged)', () => {
    const result = renderSite(catalogRoot, path.join(examplesRoot, 'ecommerce-web.yaml'), targets);
    expect(result.policy.deviceClasses.map((c) => [c.id, c.os])).toEqual([
      ['dns-resolver', 'any'],
      ['ecommerce-web-server', 'linux'],
    ]);
  });
});

describe('a Windows web server (ecommerce-web-server os: windows)', () => {
  let site = '';
  let profile = '';
  beforeAll(() => {
    ({ site, profile } = renderEdited('ecommerce-web', setOs('ecommerce-web-server', 'windows')));
  });

  test('gets a Windows script that parses, and no Linux host files', async () => {
    expect(files(site, 'windows')).toEqual(['dns-resolver.ps1', 'ecommerce-web-server.ps1']);
    const ps = fs.readFileSync(path.join(site, 'windows', 'ecommerce-web-server.ps1'), 'utf8');
    const parsed = await parsePowerShell(ps);
    expect(parsed.errors).toEqual([]);
    expect(parsed.commands).toContain('New-NetFirewallRule');
    expect(ps).toContain('secure-trading.web-services.ecommerce-web-server.out.tcp');
    expect(files(site, 'iptables')).toEqual(['dns-resolver.rules.v4', 'dns-resolver.rules.v6']);
    expect(files(site, 'nftables')).toEqual(['dns-resolver.nft']);
    const ansibleVars = (f: string) => parseAnsible(fs.readFileSync(path.join(site, 'ansible', 'vars', f), 'utf8')) as any;
    expect(Object.keys(ansibleVars('windows.yml').fwgen_windows).sort()).toEqual(['dns-resolver', 'ecommerce-web-server']);
    expect(Object.keys(ansibleVars('linux.yml').fwgen_linux)).toEqual(['dns-resolver']);
  });

  withAnsible('ansible-playbook')('Ansible places its host in the site\'s Windows group, over WinRM', () => {
    const inv = path.join(site, 'ansible', 'inventory.yml');
    const env = { ...process.env, ANSIBLE_COLLECTIONS_PATH: collectionsPath };
    const host = spawnSync('ansible-inventory', ['-i', inv, '--host', '203.0.113.10'], { encoding: 'utf8', env });
    expect(host.status).toBe(0);
    // fwgen writes its values as !unsafe: ansible-inventory shows them wrapped, never templated.
    expect(JSON.parse(host.stdout)).toMatchObject({ fwgen_scope: { __ansible_unsafe: 'ecommerce-web-server' }, ansible_connection: { __ansible_unsafe: 'winrm' } });
    const graph = spawnSync('ansible-inventory', ['-i', inv, '--graph', 'ecommerce_web_windows'], { encoding: 'utf8', env });
    expect(graph.status).toBe(0);
    expect(graph.stdout).toMatch(/ecommerce_web_ecommerce_web_server_windows:\n\s*\|\s*\|--203\.0\.113\.10/);
    const linux = spawnSync('ansible-inventory', ['-i', inv, '--graph', 'ecommerce_web_linux'], { encoding: 'utf8', env });
    expect(linux.stdout).not.toContain('203.0.113.10');
  });

  test('explain says the profile chose it; the catalog default says whose it is', async () => {
    const r = await runInProcess(['explain', '-p', profile], path.dirname(profile));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ecommerce-web-server: .* \[os windows, set by the profile\]/);
    expect(r.stdout).toMatch(/dns-resolver: .* \[os any, fwgen's default for the class\]/);
  });
});

describe('a Linux BOH server (boh-server os: linux, nftables in host mode)', () => {
  let site = '';
  let profile = '';
  beforeAll(() => {
    ({ site, profile } = renderEdited('eu-restaurant-aloha', setOs('boh-server', 'linux', (doc) => doc.setIn(['targets', 'nftables', 'mode'], 'host'))));
  });

  test('gets no Windows script and a Linux host file', () => {
    expect(files(site, 'windows')).toEqual(['order-entry-terminal.ps1']);
    expect(files(site, 'nftables')).toEqual(['boh-server.nft']);
  });

  withTool('nft')('its host file loads (nft -c)', () => {
    const check = nftCheck(path.join(site, 'nftables', 'boh-server.nft'));
    expect({ ok: check.ok, output: check.ok ? '' : check.output }).toEqual({ ok: true, output: '' });
  });

  test('the Paytronix program rules are said to be rendered nowhere, not "rendered for Windows"', () => {
    const result = renderSite(catalogRoot, profile, targets);
    const about = result.diagnostics.filter((d) => d.message.startsWith('paytronix/controller-applications:'));
    expect(about.length).toBeGreaterThan(0);
    for (const d of about) {
      expect(d.message).toMatch(/no Windows script holds them either: boh-server runs linux \(deviceClasses\.boh-server\.os\)/);
      expect(d.message).not.toMatch(/rendered for Windows/);
    }
    // The order-entry terminals still run Windows: their program rule is in their script.
    expect(result.diagnostics.filter((d) => d.message.startsWith('paytronix/aloha: ') && /programs/.test(d.message)).every((d) => /rendered for Windows/.test(d.message))).toBe(true);
  });
});

describe('a bad os', () => {
  test.each([['solaris'], ['Windows'], ['']])('%j is refused at its line and column, nothing written', async (os) => {
    const dir = tempDir('fwgen-os-bad-');
    const file = path.join(dir, 'ecommerce-web.yaml');
    const text = fs.readFileSync(path.join(examplesRoot, 'ecommerce-web.yaml'), 'utf8');
    fs.writeFileSync(file, text.replace('    addresses: [203.0.113.10, 2001:db8:30::10]\n', `    addresses: [203.0.113.10, 2001:db8:30::10]\n    os: ${JSON.stringify(os)}\n`));
    fs.copyFileSync(path.join(examplesRoot, 'ecommerce-web.lock.yaml'), path.join(dir, 'ecommerce-web.lock.yaml'));
    const line = text.split('\n').indexOf('    addresses: [203.0.113.10, 2001:db8:30::10]') + 2;
    const r = await runInProcess(['render', '-p', file, '-o', path.join(dir, 'out')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`ecommerce-web.yaml:${line}:9: deviceClasses.ecommerce-web-server.os: ${JSON.stringify(os)} is not one of: windows, linux, android, any`);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });
});
