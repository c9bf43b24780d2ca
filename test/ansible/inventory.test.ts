/** The inventory as a pure function of site policies, and the inventory command's errors. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { renderSite } from '../../src/render-site';
import { fleetFiles, fleetInventory } from '../../src/workspace/inventory';
import { targets } from '../../src/targets/registry';
import { catalogRoot, examplesRoot, runInProcess, tempDir } from '../helpers';

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
    const inv = fleetInventory([shop, web]);
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
