/**
 * A workspace renders only what each site uses: a site lists its targets (profile.targets),
 * or fwgen.yaml gives the default (targets); render, check, diff and the Ansible inventory
 * cover exactly those.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { chooseTargets, renderSite } from '../../src/render/site';
import { targets } from '../../src/targets/registry';
import { catalogRoot, runInProcess } from '../helpers';
import { listText, lockText, siteText as fixtureSite, vendorText, writeTree } from '../diff/fixture';

/** Every file under a folder, relative, sorted. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)).split(path.sep).join('/'))
    .sort();
}

/**
 * store-1 takes the workspace's targets; store-2 lists its own (a gateway on pfSense, iptables
 * on its hosts). Neither renders Windows, so the BOH server (a Windows machine) gets no host
 * firewall that could lock its admins out: the fixture's answer for it would answer nothing.
 */
function fleet(workspaceTargets = '[nftables, ansible]', store2Targets = '[iptables, pfsense, ansible]') {
  const siteText = fixtureSite.replace(/^ {2}- \{ check: management-access, deviceClass: boh-server, .*\n/m, '');
  return writeTree({
    'fwgen.yaml': `sites: [sites/*.yaml]\ncatalog: [own]\noutput: out\ntargets: ${workspaceTargets}\n`,
    'own/vendors/acme.yaml': vendorText,
    'own/lists/acme-edge.yaml': listText,
    'sites/store-1.yaml': siteText,
    'sites/store-1.lock.yaml': lockText('203.0.113.10'),
    'sites/store-2.yaml': siteText
      .replace('name: store-1', `name: store-2\n  targets: ${store2Targets}`)
      .concat('targets:\n  ansible:\n    linux: iptables\n'),
    'sites/store-2.lock.yaml': lockText('203.0.113.11'),
  });
}

describe("a site's targets", () => {
  test('render writes only the targets each site uses, and says nothing of the others', async () => {
    const root = fleet();
    const r = await runInProcess(['render'], root);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('nothing to write for');
    const out = path.join(root, 'out');
    const targetsOf = (site: string) => fs.readdirSync(path.join(out, site)).sort();
    expect(targetsOf('store-1')).toEqual(['ansible', 'inputs.json', 'nftables', 'policy.json']);
    expect(targetsOf('store-2')).toEqual(['ansible', 'inputs.json', 'iptables', 'pfsense', 'policy.json']);
    // The playbooks install what the site renders, nothing else.
    const store1 = filesUnder(path.join(out, 'store-1', 'ansible'));
    expect(store1).toEqual(['inventory.yml', 'linux.yml', 'requirements.yml', 'site.yml', 'tasks/linux-apply.yml', 'vars/linux.yml']);
    expect(fs.readFileSync(path.join(out, 'store-1', 'ansible', 'vars', 'linux.yml'), 'utf8')).toContain('fwgen_linux_target: !unsafe nftables');
    const store2 = filesUnder(path.join(out, 'store-2', 'ansible'));
    expect(store2).toEqual(expect.arrayContaining(['linux.yml', 'pfsense.yml', 'vars/pfsense.yml']));
    expect(store2.filter((f) => /aws|windows/.test(f))).toEqual([]);
    expect(fs.readFileSync(path.join(out, 'store-2', 'ansible', 'vars', 'linux.yml'), 'utf8')).toContain('fwgen_linux_target: !unsafe iptables');
    // The fleet inventory: per site only the groups of its targets.
    const inventory = parse(fs.readFileSync(path.join(out, 'inventory.yml'), 'utf8').replace(/!unsafe /g, '')) as {
      all: { children: Record<string, { children: Record<string, unknown> }> };
    };
    expect(Object.keys(inventory.all.children.store_1!.children).sort()).toEqual(['store_1_linux']);
    expect(Object.keys(inventory.all.children.store_2!.children).sort()).toEqual(['store_2_linux', 'store_2_pfsense']);
    expect(await runInProcess(['check'], root)).toMatchObject({ status: 0, stderr: '' });
  });

  test('the snapshot records the limits of the targets the site uses only', async () => {
    // An AWS quota of one rule: over it, a limit every snapshot of a site using aws records.
    const tight = (root: string) => fs.appendFileSync(path.join(root, 'sites/store-1.yaml'), 'targets:\n  aws:\n    maxRules: 1\n');
    const limitsOf = async (root: string) => {
      tight(root);
      // Rendered for nftables only: the snapshot still speaks for every target the site uses.
      expect((await runInProcess(['render', 'store-1', '-t', 'nftables'], root)).status).toBe(0);
      const doc = JSON.parse(fs.readFileSync(path.join(root, 'out/store-1/policy.json'), 'utf8')) as { limits?: Array<{ target: string }> };
      return (doc.limits ?? []).map((l) => l.target);
    };
    expect(await limitsOf(fleet('[nftables, aws]'))).toContain('aws');
    expect(await limitsOf(fleet('[nftables]'))).not.toContain('aws');
  });

  test('the limits are the same whichever target is rendered: the AWS quota and ansible saying it again', () => {
    const root = fleet('[nftables, aws, ansible]');
    fs.appendFileSync(path.join(root, 'sites/store-1.yaml'), 'targets:\n  aws:\n    maxRules: 1\n');
    const snapshotFor = (only: string[]) => renderSite(path.join(root, 'fwgen.yaml'), path.join(root, 'sites/store-1.yaml'), chooseTargets(only)).snapshot.content;
    const nft = snapshotFor(['nftables']);
    const limits = (JSON.parse(nft) as { limits: Array<{ target: string; severity: string; message: string }> }).limits;
    expect([...new Set(limits.map((l) => l.target))].sort()).toEqual(['ansible', 'aws']);
    expect(limits.every((l) => l.severity === 'error' && /over the limit of 1 /.test(l.message))).toBe(true);
    expect(limits.find((l) => l.target === 'ansible')!.message).toMatch(/\(the aws files this target installs\)$/);
    // Rendered for the targets that say it themselves (the render is refused), or for all, the snapshot is byte for byte the same.
    expect(snapshotFor(['aws'])).toBe(nft);
    expect(snapshotFor(['ansible'])).toBe(nft);
    expect(snapshotFor([])).toBe(nft);
  });

  test('render --target of one target leaves check current; a folder of a target the site dropped is stale and removed', async () => {
    const root = fleet();
    expect((await runInProcess(['render'], root)).status).toBe(0);
    expect((await runInProcess(['render', '--target', 'nftables'], root)).status).toBe(0);
    expect((await runInProcess(['check'], root)).status).toBe(0);
    // The site used pfSense once: its old folder is not what the inputs render any more.
    fs.mkdirSync(path.join(root, 'out', 'store-1', 'pfsense'));
    fs.writeFileSync(path.join(root, 'out', 'store-1', 'pfsense', 'config.xml'), '<pfsense/>\n');
    const stale = await runInProcess(['check'], root);
    expect(stale.status).toBe(2);
    expect(stale.stderr).toContain('  store-1/pfsense/config.xml (no longer produced)\n');
    const again = await runInProcess(['render'], root);
    expect(again.stderr).toContain(`removed ${path.join('out', 'store-1', 'pfsense', 'config.xml')}\n`);
    expect((await runInProcess(['check'], root)).status).toBe(0);
  });

  test('--target that the site does not use is an error naming where its targets are listed; nothing is written', async () => {
    const root = fleet();
    const one = await runInProcess(['render', 'store-1', '--target', 'pfsense'], root);
    expect(one.status).toBe(1);
    expect(one.stderr).toBe(
      "fwgen: site store-1 does not use --target pfsense: its targets are nftables, ansible (fwgen.yaml:4:10)\nRun 'fwgen --help' for the commands and their options.\n",
    );
    const own = await runInProcess(['render', 'store-2', '--target', 'nftables'], root);
    expect(own.stderr).toContain('its targets are iptables, pfsense, ansible (sites/store-2.yaml:3:12)');
    const all = await runInProcess(['render', '--target', 'windows'], root);
    expect(all.status).toBe(1);
    expect(all.stderr).toContain('no site of the workspace uses --target windows');
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });

  test('an unknown target name is a located error, in fwgen.yaml and in a profile; nothing is written', async () => {
    const ws = await runInProcess(['render'], fleet('[nftables, pfsens]'));
    expect(ws.status).toBe(1);
    expect(ws.stderr).toContain('fwgen.yaml:4:21: targets[1]: "pfsens" is not one of: iptables, nftables, pfsense, windows, aws, ansible\n');
    const root = fleet('[nftables]', '[iptable]');
    const site = await runInProcess(['render'], root);
    expect(site.status).toBe(1);
    expect(site.stderr).toContain('sites/store-2.yaml:3:13: profile.targets[0]: "iptable" is not one of: iptables, nftables, pfsense, windows, aws, ansible\n');
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
    expect((await runInProcess(['validate'], root)).stderr).toContain('profile.targets[0]: "iptable" is not one of');
  });

  test('a playbook that would install a Linux target the site does not render is a located error', async () => {
    const root = fleet('[nftables, ansible]', '[nftables, ansible]');
    const r = await runInProcess(['render'], root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'sites/store-2.yaml:3:12: error: [ansible] the playbook installs iptables (targets.ansible.linux), a target this site does not use (its targets: nftables, ansible); set targets.ansible.linux: nftables, or add iptables to the site\'s targets',
    );
  });

  test('diff lists the changed files of the targets each site uses, and a dropped target alone is no policy change', async () => {
    const before = fleet();
    expect((await runInProcess(['render'], before)).status).toBe(0);
    const after = fleet();
    fs.writeFileSync(path.join(after, 'own/vendors/acme.yaml'), vendorText.replace('ports: [443]', 'ports: [443, 8443]'));
    const d = await runInProcess(['diff', '--base-dir', before, '--format', 'json'], after);
    expect(d.status).toBe(2);
    const cs = JSON.parse(d.stdout) as { sites: Array<{ site: string; files: Array<{ path: string }> }> };
    const changed = cs.sites.flatMap((s) => s.files.map((f) => f.path));
    expect(changed.filter((f) => f.startsWith('store-1/')).length).toBeGreaterThan(0);
    expect(changed.filter((f) => !/^store-1\/(nftables|ansible)\/|^store-2\/(iptables|pfsense|ansible)\//.test(f))).toEqual([]);
    // The site stops rendering pfSense: no rule changes meaning.
    const dropped = fleet('[nftables, ansible]', '[iptables, ansible]');
    const same = await runInProcess(['diff', '--base-dir', before], dropped);
    expect(same.status).toBe(0);
  });

  test('the schemas name exactly the registered targets', () => {
    const schema = (name: string) => JSON.parse(fs.readFileSync(path.join(catalogRoot, 'schema', `${name}.schema.json`), 'utf8'));
    const ids = targets.map((t) => t.id);
    expect(schema('workspace').properties.targets.items.enum).toEqual(ids);
    expect(schema('profile').properties.profile.properties.targets.items.enum).toEqual(ids);
  });
});
