/**
 * The Linux playbooks applied for real: each example's playbook runs with a local connection
 * inside a network namespace of its own, writing under a temporary root. The kernel must then
 * hold fwgen's table, chains and sets; a second run changes nothing; a broken rule file is
 * refused by copy's validate: and leaves the kernel as it was; --check catches it too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers';
import { exampleNames, netns, parseAnsible, playbook, renderExample, withAnsible } from './harness';

const it = withAnsible('ansible-playbook', 'netns');

interface Site {
  dir: string;
  scope: string;
  files: { rules: string[]; ipsets?: string; dnsmasq?: string };
}

/** Renders an example with the Linux target chosen and localhost as the host of its first Linux scope. */
function site(name: string, linux: 'nftables' | 'iptables'): Site {
  const out = tempDir('fwgen-ansible-out-');
  // Every address set in ipsets, however small, so the play has sets to install and validate against.
  const ipsets = (doc: Parameters<Parameters<typeof renderExample>[2] & object>[0]) => linux === 'iptables' && doc.setIn(['targets', 'iptables', 'ipsetThreshold'], 1);
  const first = renderExample(name, out, (doc) => {
    ipsets(doc);
    doc.setIn(['targets', 'ansible'], { linux });
  });
  const vars = parseAnsible(fs.readFileSync(path.join(first, 'ansible/vars/linux.yml'), 'utf8')) as { fwgen_linux: Record<string, Site['files']> };
  // The scope with the most to install (ipsets, a dnsmasq companion) exercises the most.
  const scope = Object.keys(vars.fwgen_linux).sort((a, b) => Object.keys(vars.fwgen_linux[b]!).length - Object.keys(vars.fwgen_linux[a]!).length)[0]!;
  const dir = renderExample(name, out, (doc) => {
    ipsets(doc);
    doc.setIn(['targets', 'ansible'], { linux, hosts: { [scope]: ['localhost'] } });
  });
  return { dir, scope, files: vars.fwgen_linux[scope]! };
}

function run(s: Site, ns: string, root: string, extra: string[] = []) {
  const vars = JSON.stringify({
    fwgen_root: root,
    fwgen_manage_services: false,
    // The play would install packages on the machine running the tests: never from a test.
    fwgen_install_packages: false,
    ansible_connection: 'local',
    ansible_python_interpreter: '{{ ansible_playbook_python }}',
  });
  return playbook(['-i', 'inventory.yml', 'linux.yml', '--limit', 'localhost', '-e', vars, ...extra], { netns: ns, cwd: path.join(s.dir, 'ansible') });
}

function nftNames(file: string, kind: 'set' | 'chain'): string[] {
  return [...fs.readFileSync(file, 'utf8').matchAll(new RegExp(`^\\s*${kind} (\\w+) \\{`, 'gm'))].map((m) => m[1]!);
}

describe('Linux playbooks applied in a network namespace', () => {
  describe.each(exampleNames)('%s with nftables', (name) => {
    let ns: ReturnType<typeof netns>;
    beforeAll(() => (ns = netns(name.slice(0, 4))));
    afterAll(() => ns?.remove());

    it('applies the rule file, then changes nothing on a second run', () => {
      const s = site(name, 'nftables');
      const root = tempDir('fwgen-ansible-root-');
      const first = run(s, ns.name, root);
      expect(first.output).toMatch(/PLAY RECAP/);
      expect(first.status).toBe(0);
      expect(first.changed).toBeGreaterThan(0);

      const rules = path.join(s.dir, 'nftables', s.files.rules[0]!);
      const table = fs.readFileSync(rules, 'utf8').match(/^table inet (\w+)/m)![1]!;
      const listing = ns.run(['nft', 'list', 'table', 'inet', table]);
      for (const set of nftNames(rules, 'set')) expect(listing).toContain(`set ${set} {`);
      for (const chain of nftNames(rules, 'chain')) expect(listing).toContain(`chain ${chain} {`);
      expect(fs.readFileSync(path.join(root, 'etc/fwgen', s.files.rules[0]!), 'utf8')).toBe(fs.readFileSync(rules, 'utf8'));
      expect(fs.readFileSync(path.join(root, 'etc/systemd/system/fwgen-firewall.service'), 'utf8')).toContain(`ExecStart=/usr/sbin/nft -f /etc/fwgen/${s.files.rules[0]}`);
      if (s.files.dnsmasq) expect(fs.readdirSync(path.join(root, 'etc/dnsmasq.d'))).toEqual([`fwgen-${name}.conf`]);

      const second = run(s, ns.name, root);
      expect(second.status).toBe(0);
      expect(second.changed).toBe(0);

      if (name !== exampleNames[0]) return;
      // A broken rule file: validate: refuses it, the kernel keeps what it had, --check fails too.
      const before = ns.run(['nft', 'list', 'ruleset']);
      fs.appendFileSync(rules, '\nadd rule inet fwgen no_such_chain tcp dport 22 accept\n');
      const broken = run(s, ns.name, root);
      expect(broken.status).not.toBe(0);
      expect(broken.output).toMatch(/failed to validate/);
      expect(ns.run(['nft', 'list', 'ruleset'])).toBe(before);
      const dry = run(s, ns.name, root, ['--check', '--diff']);
      expect(dry.status).not.toBe(0);
      expect(dry.output).toMatch(/Load the rule file in a throwaway network namespace[\s\S]*fatal/);
    }, 300_000);
  });

  describe('ecommerce-web with iptables (ipsets, dnsmasq companion)', () => {
    let ns: ReturnType<typeof netns>;
    beforeAll(() => (ns = netns('ipt')));
    afterAll(() => ns?.remove());

    it('applies sets and chains, changes nothing twice, and refuses a rule file whose set is missing', () => {
      const s = site('ecommerce-web', 'iptables');
      expect(s.files.ipsets).toBeDefined();
      const root = tempDir('fwgen-ansible-root-');
      const first = run(s, ns.name, root);
      expect(first.output).toMatch(/PLAY RECAP/);
      expect(first.status).toBe(0);
      const sets = [...fs.readFileSync(path.join(s.dir, 'iptables', s.files.ipsets!), 'utf8').matchAll(/^create (\S+)/gm)].map((m) => m[1]);
      expect(ns.run(['ipset', 'list', '-n']).trim().split('\n').sort()).toEqual(sets.sort());
      for (const tool of ['iptables', 'ip6tables']) {
        const chains = ns.run([tool, '-S']);
        expect(chains).toContain('-N FWGEN-IN');
        expect(chains).toContain('-N FWGEN-OUT');
      }
      const second = run(s, ns.name, root);
      expect(second.status).toBe(0);
      expect(second.changed).toBe(0);

      const before = ns.run(['iptables', '-S']);
      const v4 = path.join(s.dir, 'iptables', s.files.rules.find((f) => f.endsWith('v4'))!);
      fs.writeFileSync(v4, fs.readFileSync(v4, 'utf8').replace('COMMIT', '-A FWGEN-OUT -m set --match-set no_such_set dst -j ACCEPT\nCOMMIT'));
      const broken = run(s, ns.name, root);
      expect(broken.status).not.toBe(0);
      expect(broken.output).toMatch(/failed to validate/);
      expect(ns.run(['iptables', '-S'])).toBe(before);
    }, 300_000);
  });
});
