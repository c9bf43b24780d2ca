/** The inventory as a pure function of site policies, and the inventory command's errors. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { renderSite } from '../../src/render/site';
import { fleetFiles } from '../../src/workspace/inventory';
import { targets } from '../../src/targets/registry';
import { catalogRoot, examplesRoot, repoRoot, runInProcess, tempDir } from '../helpers';
import { parseAnsible } from './harness';

function policyOf(name: string, ansible?: Record<string, unknown>) {
  const dir = tempDir('fwgen-inventory-');
  const text = fs.readFileSync(path.join(examplesRoot, `${name}.yaml`), 'utf8');
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, ansible ? text.replace(/^targets:\n/m, `targets:\n  ansible: ${JSON.stringify(ansible)}\n`) : text);
  fs.copyFileSync(path.join(examplesRoot, `${name}.lock.yaml`), path.join(dir, `${name}.lock.yaml`));
  return renderSite(catalogRoot, file, targets.filter((t) => t.id === 'ansible')).policy;
}

type Groups = Record<string, { hosts?: Record<string, null>; vars?: Record<string, unknown>; children?: Groups }>;

function group(inv: unknown, ...names: string[]): Groups[string] {
  let node = { children: (inv as { all: { children: Groups } }).all.children } as Groups[string];
  for (const n of names) node = node.children![n]!;
  return node;
}

describe('fleet inventory', () => {
  test('groups by site and scope; hosts default to a class\'s single addresses, the profile names others', () => {
    const shop = policyOf('shop-payxpert-sunmi', { hosts: { gateway: ['gw1.shop.example'], aws: ['aws-shop'], 'back-office-pc': ['bo1.shop.example'] } });
    const web = policyOf('ecommerce-web');
    const inv = parseAnsible(fleetFiles([shop, web]).find((f) => f.path === 'inventory.yml')!.content);
    expect(Object.keys((inv as { all: { children: object } }).all.children)).toEqual(['ecommerce_web', 'shop_payxpert_sunmi']);
    // No folder in the inventory: each play finds its files from playbook_dir, which no other site's group can set.
    expect(group(inv, 'shop_payxpert_sunmi').vars).toEqual({ fwgen_site: 'shop-payxpert-sunmi' });
    expect(group(inv, 'shop_payxpert_sunmi', 'shop_payxpert_sunmi_linux', 'shop_payxpert_sunmi_gateway')).toEqual({ hosts: { 'gw1.shop.example': null }, vars: { fwgen_scope: 'gateway' } });
    expect(group(inv, 'shop_payxpert_sunmi', 'shop_payxpert_sunmi_aws').hosts).toEqual({ 'aws-shop': null });
    expect(group(inv, 'shop_payxpert_sunmi', 'shop_payxpert_sunmi_windows', 'shop_payxpert_sunmi_back_office_pc_windows').hosts).toEqual({ 'bo1.shop.example': null });
    // Host mode: the web server's single IPv4 address is its host; a class never lands in two systems' groups.
    expect(group(inv, 'ecommerce_web', 'ecommerce_web_linux', 'ecommerce_web_ecommerce_web_server').hosts).toEqual({ '203.0.113.10': null });
    expect(group(inv, 'ecommerce_web').children!.ecommerce_web_windows).toBeUndefined();
  });

  test('the fleet files do not depend on the order the sites come in', () => {
    const a = policyOf('ecommerce-web');
    const b = policyOf('eu-restaurant-aloha');
    expect(fleetFiles([a, b])).toEqual(fleetFiles([b, a]));
    const site = parse(fleetFiles([a, b]).find((f) => f.path === 'site.yml')!.content) as Array<Record<string, string>>;
    expect(site.map((p) => p['ansible.builtin.import_playbook'])).toEqual(['ecommerce-web/ansible/site.yml', 'eu-restaurant-aloha/ansible/site.yml']);
  });
});

describe('fwgen inventory', () => {
  test('two profiles with one name: exit 1, nothing written', async () => {
    const out = tempDir('fwgen-inventory-out-');
    const p = path.join(examplesRoot, 'ecommerce-web.yaml');
    const r = await runInProcess(['inventory', '-p', p, '-p', p, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('two profiles are named ecommerce-web');
    expect(fs.readdirSync(out)).toEqual([]);
  });

  test('a bad ansible option names the profile line and writes nothing', async () => {
    const dir = tempDir('fwgen-inventory-');
    const file = path.join(dir, 'site.yaml');
    fs.writeFileSync(file, fs.readFileSync(path.join(examplesRoot, 'ecommerce-web.yaml'), 'utf8').replace(/^targets:\n/m, 'targets:\n  ansible: { linux: pf }\n'));
    const out = tempDir('fwgen-inventory-out-');
    const r = await runInProcess(['inventory', '-p', file, '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/site\.yaml:\d+:\d+: targets\.ansible\.linux/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  test('render -t ansible alone stops on what stops the files it installs (a name without addresses)', async () => {
    const dir = tempDir('fwgen-inventory-');
    const profile = path.join(dir, 'shop-payxpert-sunmi.yaml');
    fs.copyFileSync(path.join(examplesRoot, 'shop-payxpert-sunmi.yaml'), profile); // no lock beside it
    const out = path.join(dir, 'out');
    const r = await runInProcess(['render', '-p', profile, '-t', 'ansible', '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/payxpert\.yaml:\d+:\d+: error: \[ansible\] api-pos-default-v4\.payxpert\.com has no addresses.*\(the nftables files this target installs\)/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

/** A copy of an example, renamed and with targets.ansible set; returns the profile file. */
function siteCopy(dir: string, example: string, name: string, ansible?: Record<string, unknown>): string {
  let text = fs.readFileSync(path.join(examplesRoot, `${example}.yaml`), 'utf8').replace(/^( {2}name: )\S+$/m, `$1${name}`);
  if (ansible) text = text.replace(/^targets:\n/m, `targets:\n  ansible: ${JSON.stringify(ansible)}\n`);
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, text);
  fs.copyFileSync(path.join(examplesRoot, `${example}.lock.yaml`), path.join(dir, `${name}.lock.yaml`));
  return file;
}

function lineOf(file: string, pattern: RegExp): number {
  return fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => pattern.test(l)) + 1;
}

describe('a host serves one site', () => {
  test('one controller named by two sites: one error naming both sites, at the later profile\'s hosts; nothing written', async () => {
    const dir = tempDir('fwgen-inventory-');
    const a = siteCopy(dir, 'ecommerce-web', 'shop-a', { hosts: { aws: ['controller'] } });
    const b = siteCopy(dir, 'eu-restaurant-aloha', 'shop-b', { hosts: { aws: ['controller'] } });
    const out = tempDir('fwgen-inventory-out-');
    const r = await runInProcess(['inventory', '-p', b, '-p', a, '-o', out]);
    expect(r.status).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.includes('host controller'));
    expect(errors).toEqual([
      expect.stringMatching(new RegExp(`shop-b\\.yaml:${lineOf(b, /^ {2}ansible: /)}:\\d+: targets\\.ansible\\.hosts\\.aws\\[0\\]: host controller is in site shop-a \\(group shop_a_aws\\) and in site shop-b \\(group shop_b_aws\\)`)),
    ]);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  test('two sites whose class has the same single address (stores with one LAN layout): rendered, and the fleet inventory lists the shared address', async () => {
    const dir = tempDir('fwgen-inventory-');
    const a = siteCopy(dir, 'ecommerce-web', 'web-a');
    const b = siteCopy(dir, 'ecommerce-web', 'web-b');
    const out = tempDir('fwgen-inventory-out-');
    const r = await runInProcess(['inventory', '-p', a, '-p', b, '-o', out]);
    expect(r.status).toBe(0);
    const inventory = fs.readFileSync(path.join(out, 'inventory.yml'), 'utf8');
    expect(inventory).toContain('# Addresses that are a host in several sites (the same LAN layout): name the hosts per site in targets.ansible.hosts');
    expect(inventory).toContain('# - 203.0.113.10: web-a, web-b');
  });

  test('a workspace render refuses it too, and writes nothing', async () => {
    const root = tempDir('fwgen-ws-');
    fs.mkdirSync(path.join(root, 'sites'));
    fs.writeFileSync(path.join(root, 'fwgen.yaml'), 'sites: [sites/*.yaml]\noutput: out\n');
    siteCopy(path.join(root, 'sites'), 'ecommerce-web', 'shop-a', { hosts: { pfsense: ['fw.example'] } });
    siteCopy(path.join(root, 'sites'), 'eu-restaurant-aloha', 'shop-b', { hosts: { pfsense: ['fw.example'] } });
    const r = await runInProcess(['render'], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/host fw\.example is in site shop-a \(group shop_a_pfsense\) and in site shop-b \(group shop_b_pfsense\)/);
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });
});

describe('what a site has', () => {
  test('plays: [linux]: site.yml imports the Linux play only, and the inventory and requirements.yml hold nothing else', async () => {
    const dir = tempDir('fwgen-inventory-');
    const profile = siteCopy(dir, 'ecommerce-web', 'web-linux', { plays: ['linux'] });
    const out = path.join(dir, 'out');
    const r = await runInProcess(['render', '-p', profile, '-o', out]);
    expect(r.status).toBe(0);
    const site = path.join(out, 'web-linux/ansible');
    expect(fs.readdirSync(site).sort()).toEqual(['inventory.yml', 'linux.yml', 'requirements.yml', 'site.yml', 'tasks', 'vars']);
    expect((parse(fs.readFileSync(path.join(site, 'site.yml'), 'utf8')) as Array<Record<string, unknown>>).map((p) => p['ansible.builtin.import_playbook'])).toEqual(['linux.yml']);
    expect(parse(fs.readFileSync(path.join(site, 'requirements.yml'), 'utf8'))).toEqual({ collections: [] });
    const inv = parseAnsible(fs.readFileSync(path.join(site, 'inventory.yml'), 'utf8'));
    expect(Object.keys(group(inv, 'web_linux').children!)).toEqual(['web_linux_linux']);
  });

  test('requirements.yml lists the collections of the plays a site has; the fleet\'s lists them for every site', async () => {
    const out = tempDir('fwgen-inventory-out-');
    const dir = tempDir('fwgen-inventory-');
    const web = siteCopy(dir, 'ecommerce-web', 'web', { plays: ['linux', 'aws'] });
    const aloha = siteCopy(dir, 'eu-restaurant-aloha', 'aloha', { plays: ['windows'] });
    expect((await runInProcess(['inventory', '-p', web, '-p', aloha, '-o', out])).status).toBe(0);
    const collections = (f: string) => (parse(fs.readFileSync(path.join(out, f), 'utf8')) as { collections: Array<{ name: string }> }).collections.map((c) => c.name);
    expect(collections('web/ansible/requirements.yml')).toEqual(['amazon.aws']);
    expect(collections('aloha/ansible/requirements.yml')).toEqual(['ansible.windows', 'community.windows']);
    expect(collections('requirements.yml')).toEqual(['amazon.aws', 'ansible.windows', 'community.windows']);
  });

  test('a play is written only with its inventory group: no play names a group the inventory lacks', () => {
    for (const site of ['ecommerce-web', 'eu-restaurant-aloha', 'shop-payxpert-sunmi']) {
      const dir = path.join(repoRoot, 'out', site, 'ansible');
      const inv = fs.readFileSync(path.join(dir, 'inventory.yml'), 'utf8');
      for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.yml') && !['inventory.yml', 'site.yml', 'requirements.yml'].includes(x))) {
        const hosts = (parseAnsible(fs.readFileSync(path.join(dir, f), 'utf8')) as Array<{ hosts: string }>)[0]!.hosts;
        expect({ f, found: inv.includes(`    ${hosts}:\n`) || inv.includes(`        ${hosts}:\n`) }).toEqual({ f, found: true });
      }
    }
  });

  test('every play header says what the playbook does as a sentence', () => {
    let plays = 0;
    for (const site of ['ecommerce-web', 'eu-restaurant-aloha', 'shop-payxpert-sunmi']) {
      const dir = path.join(repoRoot, 'out', site, 'ansible');
      for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.yml'))) {
        const holds = fs.readFileSync(path.join(dir, f), 'utf8').match(/^# Holds: (.*)$/m)![1]!;
        if (!holds.startsWith('a playbook')) continue;
        plays++;
        expect(holds).toMatch(/^a playbook that (installs|creates|deploys|applies)[ ,][^;]+\.$/);
      }
    }
    expect(plays).toBe(14);
  });
});

describe('render warns where the plays would do nothing or read files it leaves out', () => {
  test('groups without hosts: one warning per site at render, located, and a comment in the inventory', async () => {
    const out = path.join(tempDir('fwgen-inventory-'), 'out');
    const profile = path.join(examplesRoot, 'eu-restaurant-aloha.yaml');
    const r = await runInProcess(['render', '-p', profile, '-o', out]);
    expect(r.status).toBe(0);
    const said = r.stderr.split('\n').filter((l) => l.includes('without hosts'));
    expect(said).toEqual([
      `examples/eu-restaurant-aloha.yaml:${lineOf(profile, /^targets:/)}:1: warning: [ansible] inventory groups without hosts: eu_restaurant_aloha_gateway (linux.yml), ` +
        'eu_restaurant_aloha_order_entry_terminal_windows (windows.yml); their plays do nothing there until hosts are named in targets.ansible.hosts or an inventory of your own',
    ]);
    const inv = fs.readFileSync(path.join(out, 'eu-restaurant-aloha/ansible/inventory.yml'), 'utf8');
    expect(inv).toContain('# - eu_restaurant_aloha_gateway (linux.yml)\n');
    // Named hosts: no warning, no comment line for the group.
    const named = siteCopy(tempDir('fwgen-inventory-'), 'eu-restaurant-aloha', 'aloha', { hosts: { gateway: ['gw1'], 'windows:order-entry-terminal': ['oet1'] } });
    const again = await runInProcess(['render', '-p', named, '-o', out]);
    expect(again.stderr).not.toContain('without hosts');
    expect(fs.readFileSync(path.join(out, 'aloha/ansible/inventory.yml'), 'utf8')).not.toContain('(linux.yml)');
  });

  test('render -t ansible alone names, once, the targets whose files its playbooks read; with them rendered too it is quiet', async () => {
    const out = path.join(tempDir('fwgen-inventory-'), 'out');
    const profile = path.join(examplesRoot, 'eu-restaurant-aloha.yaml');
    const alone = await runInProcess(['render', '-p', profile, '-t', 'ansible', '-o', out]);
    expect(alone.status).toBe(0);
    expect(alone.stderr.split('\n').filter((l) => l.includes('leaves out'))).toEqual([
      `examples/eu-restaurant-aloha.yaml:${lineOf(profile, /^targets:/)}:1: warning: [ansible] this target's files read those of nftables, aws, windows, which this render leaves out: ` +
        'add -t nftables -t aws -t windows, or what they read under the output folder may be missing or stale',
    ]);
    const all = await runInProcess(['render', '-p', profile, '-t', 'ansible', '-t', 'nftables', '-t', 'aws', '-t', 'windows', '-o', out]);
    expect(all.status).toBe(0);
    expect(all.stderr).not.toContain('leaves out');
  });
});
