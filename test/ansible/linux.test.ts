/**
 * The Linux playbooks applied for real: each example's playbook runs with a local connection
 * inside a network namespace of its own, writing under a temporary root. The kernel must then
 * hold fwgen's table, chains and sets, and a second run changes nothing.
 *
 * ecommerce-web is applied in test/ansible/linux-guard-{nftables,iptables}.test.ts instead, with both Linux targets,
 * against a host across a network: the same checks of its first and second runs, plus the rule
 * files that validate: refuses (a missing chain, a missing set) and --check failing on them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers';
import { exampleNames, netns, nftNames, parseAnsible, playbook, renderExample, withAnsible } from './harness';

/** The example the linux-guard-*.test.ts files apply, one target each. */
const GUARDED = 'ecommerce-web';

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

describe('Linux playbooks applied in a network namespace', () => {
  describe.each(exampleNames.filter((n) => n !== GUARDED))('%s with nftables', (name) => {
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
    }, 300_000);
  });
});
