/**
 * The Windows play against what community.windows' modules accept, read from their own code
 * (windows-module.ts): every value fwgen can write for each profiles and policy setting the
 * schema allows, and the arguments that reach the modules when the play runs. PowerShell does
 * not run here, so the play runs in --check against localhost with a stand-in `powershell`
 * (fixtures/windows/powershell) that records the arguments Ansible hands each module, after
 * all templating, exactly as the module would read them.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { renderSite } from '../../src/render/site';
import { ansible } from '../../src/targets/ansible';
import { catalogRoot, repoRoot, runInProcess, tempDir } from '../helpers';
import { ansibleTools, collectionsPath, parseAnsible, playbook, unlessMissing, withAnsible } from './harness';
import { moduleSource, moduleSpec, refused } from './windows-module';

const ruleSource = moduleSource('win_firewall_rule');
const firewallSource = moduleSource('win_firewall');
const missingModules = ruleSource && firewallSource ? [] : ['community.windows (win_firewall_rule.ps1, win_firewall.ps1)'];
const withModules = unlessMissing(missingModules);
const withPlay = unlessMissing([...missingModules, ...(ansibleTools['ansible-playbook'] ? [] : ['ansible-playbook'])]);
const withLint = withAnsible('ansible-lint');
const specs = () => ({ rule: moduleSpec(ruleSource!), firewall: moduleSpec(firewallSource!) });

const mark = tempDir('fwgen-windows-mark-');
const PROGRAM = `C:\\Tools\\{{ lookup('pipe', 'touch ${mark}/program') }}.exe`;

interface WindowsVars {
  fwgen_windows_group: string;
  fwgen_windows_policy: string;
  fwgen_windows_profiles: string[];
  fwgen_windows: Record<string, { script?: string; rules: Array<Record<string, unknown>> }>;
}

/** A site whose one Windows class has an inbound TCP rule, outbound UDP, ICMP to both families and a program-only rule. */
function profile(name: string, windows: Record<string, unknown>, extraFlows: Array<Record<string, unknown>> = []): Record<string, unknown> {
  const flow = (f: Record<string, unknown>) => ({ deviceClasses: ['boh-server'], ...f });
  return {
    profile: { name },
    region: 'eu',
    environment: 'production',
    // A vendor whose services reach no class here: the rules are the site's own flows below.
    vendors: { excoinz: {} },
    deviceClasses: { 'boh-server': { addresses: ['10.20.0.10', '2001:db8:20::10'], interface: 'lan0' } },
    flows: [
      flow({ id: 'admin-rdp', name: 'Admin RDP', direction: 'inbound', protocol: 'tcp', ports: [3389], addresses: ['192.0.2.0/28'] }),
      flow({ id: 'dns', name: 'DNS', direction: 'outbound', protocol: 'udp', ports: [53], addresses: ['192.0.2.53', '2001:db8:53::53'] }),
      flow({ id: 'ping', name: 'Ping', direction: 'outbound', protocol: 'icmp', addresses: ['192.0.2.1', '2001:db8::1'] }),
      flow({ id: 'agent', name: 'Agent', direction: 'outbound', programs: [PROGRAM] }),
      ...extraFlows.map(flow),
    ],
    targets: { windows, ansible: { hosts: { 'windows:boh-server': ['localhost'] } } },
  };
}

function writeProfile(doc: Record<string, unknown>): string {
  const file = path.join(tempDir('fwgen-windows-profile-'), `${(doc.profile as { name: string }).name}.yaml`);
  fs.writeFileSync(file, stringify(doc));
  return file;
}

/** Every non-empty set of the values the profile schema allows for targets.windows.profiles. */
function profileSettings(): string[][] {
  const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'catalog/schema/profile.schema.json'), 'utf8'));
  const values = (function find(node: any): string[] | undefined {
    if (node && typeof node === 'object') {
      if (node.windows?.properties?.profiles?.items?.enum) return node.windows.properties.profiles.items.enum;
      for (const v of Object.values(node)) {
        const found = find(v);
        if (found) return found;
      }
    }
    return undefined;
  })(schema)!;
  expect(values).toContain('Any');
  return Array.from({ length: 2 ** values.length - 1 }, (_, n) => values.filter((_v, i) => (n + 1) & (1 << i)));
}

describe('what the module code accepts', () => {
  withModules('the code paths of win_firewall_rule and win_firewall give these choices', () => {
    const { rule, firewall } = specs();
    expect(rule.choices.profiles).toEqual(['domain', 'private', 'public']);
    expect(rule.choices.direction).toEqual(['in', 'out']);
    expect(rule.choices.action).toEqual(['allow', 'block']);
    expect(rule.choices.state).toEqual(['present', 'absent']);
    expect([...rule.choices.protocol!].sort()).toEqual(['any', 'icmpv4*', 'icmpv6*', 'tcp', 'udp']);
    expect(firewall.choices.profiles).toEqual(['Domain', 'Private', 'Public']);
    expect(firewall.choices.state).toEqual(['disabled', 'enabled']);
    expect(firewall.choices.outbound_action).toEqual(['allow', 'block', 'not_configured']);
    // What the play writes before this fix is refused, as the module refuses it.
    expect(refused(rule, { profiles: ['any'], bogus: 1 })).toEqual(["profiles: \"any\" is not one of domain, private, public", 'bogus: not an option the module reads']);
  });
});

describe('every value fwgen can write', () => {
  withModules('each profiles setting and policy: the rule items and the default-action profiles are accepted', () => {
    const { rule, firewall } = specs();
    let items = 0;
    for (const policy of ['drop', 'accept']) {
      for (const profiles of profileSettings()) {
        const file = writeProfile(profile('win-values', { profiles, policy }));
        const result = renderSite(catalogRoot, file, [ansible]);
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const vars = parseAnsible(result.files.find((f) => f.path === 'win-values/ansible/vars/windows.yml')!.content) as WindowsVars;
        const where = `${policy} ${profiles.join(',')}`;
        for (const item of vars.fwgen_windows['boh-server']!.rules) {
          expect({ where, problems: refused(rule, item) }).toEqual({ where, problems: [] });
          items++;
        }
        expect({ where, problems: refused(firewall, { profiles: vars.fwgen_windows_profiles }) }).toEqual({ where, problems: [] });
        expect(vars.fwgen_windows_policy).toBe(policy);
        // Any, or all three named, is all three: both rule and default actions cover every profile.
        const all = profiles.includes('Any') || profiles.length === 3;
        if (all) expect(vars.fwgen_windows_profiles).toEqual(['Domain', 'Private', 'Public']);
      }
    }
    expect(items).toBeGreaterThan(0);
  });
});

/** Renders the site, runs its Windows play in --check with the stand-in, and returns what each module was given. */
async function runPlay(doc: Record<string, unknown>, extra: string[] = []): Promise<{ site: string; output: string; calls: Array<{ module: string; args: Record<string, any> }>; vars: WindowsVars }> {
  const file = writeProfile(doc);
  const out = path.join(path.dirname(file), 'out');
  const r = await runInProcess(['render', '-p', file, '-o', out, ...extra]);
  expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
  const site = path.join(out, (doc.profile as { name: string }).name, 'ansible');
  const log = path.join(tempDir('fwgen-windows-log-'), 'calls.jsonl');
  const localhost = JSON.stringify({ ansible_connection: 'local', ansible_python_interpreter: '{{ ansible_playbook_python }}' });
  const run = playbook(['-i', 'inventory.yml', 'windows.yml', '--check', '--limit', 'localhost', '-e', localhost], {
    cwd: site,
    env: { PATH: `${path.join(repoRoot, 'test/ansible/fixtures/windows')}:${process.env.PATH}`, FWGEN_MODULE_ARGS_LOG: log },
  });
  expect({ status: run.status, failed: run.failed, output: run.status === 0 ? '' : run.output }).toEqual({ status: 0, failed: 0, output: '' });
  const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
  return { site, output: run.output, calls, vars: parseAnsible(fs.readFileSync(path.join(site, 'vars/windows.yml'), 'utf8')) as WindowsVars };
}

describe('the play, run with the arguments reaching the modules', () => {
  withPlay('policy drop, profiles Any: each rule as the vars hold it, then Block on all three profiles', async () => {
    const { rule, firewall } = specs();
    const { output, calls, vars } = await runPlay(profile('win-drop', { profiles: ['Any'], policy: 'drop' }));
    // Options listed one by one: no "Using a variable for a task's 'args' is unsafe" warning.
    expect(output).not.toMatch(/is unsafe/);
    expect(output).not.toMatch(/\[WARNING\]/);
    expect(fs.readdirSync(mark)).toEqual([]);
    const modules = calls.map((c) => c.module);
    expect(modules).toEqual([
      ...vars.fwgen_windows['boh-server']!.rules.map(() => 'community.windows.win_firewall_rule'),
      'ansible.windows.win_powershell',
      'community.windows.win_firewall',
    ]);
    const ruleCalls = calls.filter((c) => c.module === 'community.windows.win_firewall_rule').map((c) => c.args);
    expect(ruleCalls).toEqual(vars.fwgen_windows['boh-server']!.rules.map((item) => ({ ...item, group: 'fwgen win-drop', action: 'allow', enabled: true, state: 'present' })));
    for (const args of ruleCalls) expect({ name: args.name, problems: refused(rule, args) }).toEqual({ name: args.name, problems: [] });
    expect(ruleCalls.map((a) => a.profiles)).toEqual(ruleCalls.map(() => ['domain', 'private', 'public']));
    // The program path reached the module as written; nothing was templated.
    expect(ruleCalls.filter((a) => a.program !== undefined).map((a) => a.program)).toEqual([PROGRAM]);
    // ICMP is matched per family, as the .ps1 does: an ICMPv4 rule holds no IPv6 remote.
    expect(ruleCalls.filter((a) => /icmp/.test(a.protocol)).map((a) => [a.name, a.protocol, a.remoteip])).toEqual([
      ['fwgen-win-drop-site.ping.boh-server.out.icmp.icmpv4', 'icmpv4', '192.0.2.1'],
      ['fwgen-win-drop-site.ping.boh-server.out.icmp.icmpv6', 'icmpv6', '2001:db8::1'],
    ]);
    const block = calls.at(-1)!.args;
    expect(block).toEqual({ profiles: ['Domain', 'Private', 'Public'], state: 'enabled', inbound_action: 'block', outbound_action: 'block' });
    expect(refused(firewall, block)).toEqual([]);
  }, 180_000);

  withPlay('policy accept, dynamic keywords: the class runs its .ps1 (found from the play itself) and the default actions are left alone', async () => {
    const { calls, site } = await runPlay(
      profile('win-accept', { profiles: ['Domain', 'Public'], policy: 'accept', dynamicKeywords: true }, [
        { id: 'portal', name: 'Portal', direction: 'outbound', protocol: 'tcp', ports: [443], domains: ['portal.example.com'] },
      ]),
      ['--allow-unresolved'],
    );
    expect(calls.map((c) => c.module)).toEqual(['ansible.windows.win_powershell']);
    expect(calls[0]!.args.script).toBe(fs.readFileSync(path.join(site, '../windows/boh-server.ps1'), 'utf8').trimEnd());
  }, 180_000);

  withLint('the rendered Windows play passes ansible-lint (production profile)', async () => {
    const file = writeProfile(profile('win-lint', { profiles: ['Any'] }));
    const out = path.join(path.dirname(file), 'out');
    expect((await runInProcess(['render', '-p', file, '-o', out])).status).toBe(0);
    const r = spawnSync('ansible-lint', ['--offline', '--nocolor', '--profile', 'production', 'windows.yml', 'vars/windows.yml'], {
      cwd: path.join(out, 'win-lint/ansible'),
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, ANSIBLE_COLLECTIONS_PATH: collectionsPath },
    });
    expect({ status: r.status, output: r.status === 0 ? '' : `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: '' });
  }, 300_000);
});
