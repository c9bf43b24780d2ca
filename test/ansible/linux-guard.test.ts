/**
 * The Linux plays against a host whose controller reaches it over a network: two network
 * namespaces joined by a veth pair, the controller's (where ansible-playbook and its
 * delegate_to: localhost checks run) and the host's (where every module runs, through a Python
 * that enters it, and whose kernel gets the rules). A listener on the host's port 22 stands for
 * its sshd. Each run is made in a mount namespace whose /etc/systemd/system is the temporary
 * root's, so enabling the boot unit is real too.
 *
 * What the runs show: the first run that succeeds puts every set and chain of the rule files
 * in the kernel and installs the files and the boot unit, and a second run changes nothing; a
 * failed run does not strand an installed file unapplied; a ruleset flushed or chains emptied by
 * hand are restored and reported as changed; a boot unit disabled by hand is enabled again; a
 * rule file that does not load (a missing chain or set, or a jump that only --test accepts) is
 * refused before it lands and the kernel keeps its rules, and --check fails on it too; a policy
 * that cuts the controller off is rolled back to the kernel's previous rules and the play fails
 * saying so; packages are checked under --check.
 *
 * test/ansible/linux.test.ts applies the other examples with a local connection; this example
 * is applied here only, since a guarded host runs the same play and checks more.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { tempDir } from '../helpers';
import { netns, nftNames, parseAnsible, playbook, renderExample, withAnsible } from './harness';

const it = withAnsible('ansible-playbook', 'netns');

const CONTROLLER = '10.0.0.1';
const HOST = '10.0.0.2';
const CLASS = 'ecommerce-web-server';

interface Lab {
  ctl: ReturnType<typeof netns>;
  host: ReturnType<typeof netns>;
  listener: ChildProcess;
  root: string;
  python: string;
  remove: () => void;
}

function lab(tag: string): Lab {
  const ctl = netns(`${tag}c`);
  const host = netns(`${tag}h`);
  ctl.run(['ip', 'link', 'set', 'lo', 'up']);
  host.run(['ip', 'link', 'set', 'lo', 'up']);
  ctl.run(['ip', 'link', 'add', 'ctl0', 'type', 'veth', 'peer', 'name', 'host0', 'netns', host.name]);
  ctl.run(['ip', 'addr', 'add', `${CONTROLLER}/24`, 'dev', 'ctl0']);
  ctl.run(['ip', 'link', 'set', 'ctl0', 'up']);
  host.run(['ip', 'addr', 'add', `${HOST}/24`, 'dev', 'host0']);
  host.run(['ip', 'link', 'set', 'host0', 'up']);
  const listener = spawn('ip', [
    'netns', 'exec', host.name, '/usr/bin/python3', '-c',
    'import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(("0.0.0.0", 22))\ns.listen(64)\nwhile True:\n    s.accept()[0].close()',
  ], { stdio: 'ignore' });
  const root = tempDir('fwgen-ansible-root-');
  fs.mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  // The host's modules run under this Python: the same interpreter, inside the host's namespace.
  const python = path.join(tempDir('fwgen-ansible-python-'), 'python-in-host');
  fs.writeFileSync(python, `#!/bin/sh\nexec ip netns exec ${host.name} /usr/bin/python3 "$@"\n`, { mode: 0o755 });
  return { ctl, host, listener, root, python, remove: () => (listener.kill(), ctl.remove(), host.remove()) };
}

/** The example, with the controller's address allowed to SSH in (keep) or not (the example as it is). */
function render(linux: 'nftables' | 'iptables', keep: boolean): string {
  return renderExample('ecommerce-web', tempDir('fwgen-ansible-out-'), (doc) => {
    doc.setIn(['targets', 'ansible'], { linux, hosts: { [CLASS]: ['guarded'] } });
    doc.setIn(['targets', 'iptables', 'ipsetThreshold'], 1);
    if (keep) doc.setIn(['flows', 0, 'addresses'], ['192.0.2.0/28', `${CONTROLLER}/32`]);
  });
}

/** Runs the site's linux.yml against host "guarded", with the lab's settings in an inventory of their own. */
function run(l: Lab, site: string, extra: string[] = [], settings: Record<string, unknown> = {}) {
  const dir = path.join(site, 'ansible');
  fs.writeFileSync(
    path.join(dir, 'lab.yml'),
    stringify({
      all: {
        hosts: {
          guarded: {
            ansible_host: HOST,
            ansible_connection: 'local',
            ansible_python_interpreter: l.python,
            fwgen_root: l.root,
            fwgen_install_packages: false,
            fwgen_rollback_check: true,
            fwgen_rollback_timeout: 3,
            ...settings,
          },
        },
      },
    }),
  );
  const wrap = ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" /etc/systemd/system && exec "$@"', path.join(l.root, 'etc/systemd/system')];
  return playbook(['-i', 'inventory.yml', '-i', 'lab.yml', 'linux.yml', '--limit', 'guarded', ...extra], { netns: l.ctl.name, cwd: dir, wrap });
}

function reaches(l: Lab): boolean {
  return spawnSync('ip', ['netns', 'exec', l.ctl.name, '/usr/bin/python3', '-c', `import socket; socket.create_connection(("${HOST}", 22), 2)`]).status === 0;
}

const wants = (l: Lab) => path.join(l.root, 'etc/systemd/system/multi-user.target.wants/fwgen-firewall.service');

describe('Linux plays with a controller across a network', () => {
  describe('nftables', () => {
    let l: Lab;
    beforeAll(() => (l = lab('gn')));
    afterAll(() => l?.remove());

    it('applies on every run, repairs drift, re-enables the unit and rolls back a policy that cuts the controller off', () => {
      const keep = render('nftables', true);
      const file = path.join(l.root, 'etc/fwgen', `${CLASS}.nft`);

      // A task after the copy fails (where the unit goes is a directory): the file is in place, the kernel has nothing yet.
      const unit = path.join(l.root, 'etc/systemd/system/fwgen-firewall.service');
      fs.mkdirSync(unit);
      const stranded = run(l, keep);
      expect(stranded.status).not.toBe(0);
      expect(stranded.output).toMatch(/Install fwgen-firewall.service \(loads the rules at boot\)\] \*+\nfatal/);
      expect(fs.existsSync(file)).toBe(true);
      expect(l.host.run(['nft', 'list', 'ruleset'])).not.toContain('table inet fwgen');

      // The next run applies the file it did not copy, and enables the unit.
      fs.rmdirSync(unit);
      const repaired = run(l, keep);
      expect(repaired.output).toMatch(/PLAY RECAP/);
      expect(repaired.status).toBe(0);
      expect(repaired.output).toMatch(/TASK \[Apply the rules \(changed only when the kernel's rules differed\)\] \*+\nchanged/);
      const rules = path.join(keep, 'nftables', `${CLASS}.nft`);
      const table = fs.readFileSync(rules, 'utf8').match(/^table inet (\w+)/m)![1]!;
      const listing = l.host.run(['nft', 'list', 'table', 'inet', table]);
      expect(listing).toContain('chain input {');
      for (const set of nftNames(rules, 'set')) expect(listing).toContain(`set ${set} {`);
      for (const chain of nftNames(rules, 'chain')) expect(listing).toContain(`chain ${chain} {`);
      expect(fs.readFileSync(file, 'utf8')).toBe(fs.readFileSync(rules, 'utf8'));
      expect(fs.readFileSync(unit, 'utf8')).toContain(`ExecStart=/usr/sbin/nft -f /etc/fwgen/${CLASS}.nft`);
      expect(fs.readlinkSync(wants(l))).toBe('/etc/systemd/system/fwgen-firewall.service');
      expect(reaches(l)).toBe(true);

      // Drift: the ruleset flushed and the unit disabled by hand; the next run puts both back and says so.
      const applied = l.host.run(['nft', 'list', 'ruleset']);
      l.host.run(['nft', 'flush', 'ruleset']);
      fs.rmSync(wants(l));
      const drift = run(l, keep);
      expect(drift.status).toBe(0);
      expect(drift.output).toMatch(/TASK \[Apply the rules \(changed only when the kernel's rules differed\)\] \*+\nchanged/);
      expect(drift.output).toMatch(/TASK \[Enable fwgen-firewall.service\] \*+\nchanged/);
      expect(l.host.run(['nft', 'list', 'ruleset'])).toBe(applied);
      expect(fs.readlinkSync(wants(l))).toBe('/etc/systemd/system/fwgen-firewall.service');

      // Nothing moved: nothing changed.
      const again = run(l, keep);
      expect(again.status).toBe(0);
      expect(again.changed).toBe(0);

      // A broken rule file: validate: refuses it, the kernel keeps what it had, --check fails too.
      const good = fs.readFileSync(rules, 'utf8');
      fs.appendFileSync(rules, '\nadd rule inet fwgen no_such_chain tcp dport 22 accept\n');
      const broken = run(l, keep);
      expect(broken.status).not.toBe(0);
      expect(broken.output).toMatch(/failed to validate/);
      expect(l.host.run(['nft', 'list', 'ruleset'])).toBe(applied);
      expect(fs.readFileSync(file, 'utf8')).toBe(good);
      const dry = run(l, keep, ['--check', '--diff']);
      expect(dry.status).not.toBe(0);
      expect(dry.output).toMatch(/Load the rule file in a throwaway network namespace[\s\S]*fatal/);
      expect(l.host.run(['nft', 'list', 'ruleset'])).toBe(applied);
      fs.writeFileSync(rules, good);

      // The example as it is allows SSH from 192.0.2.0/28 only: the controller is cut off, the rules come back.
      const drop = render('nftables', false);
      const dropped = run(l, drop);
      expect(dropped.status).not.toBe(0);
      expect(dropped.output).toMatch(
        /fwgen rolled back the firewall of guarded: \\?"Check that the controller still reaches the host on a new TCP connection\\?" failed \(Timeout when waiting for 10\.0\.0\.2:22\)\. The rules the kernel had before this run are back\./,
      );
      expect(dropped.output).toMatch(/Does the policy let the controller reach 10\.0\.0\.2:22\? The wait is fwgen_rollback_timeout \(3 seconds\)/);
      expect(l.host.run(['nft', 'list', 'ruleset'])).toBe(applied);
      expect(reaches(l)).toBe(true);
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.readFileSync(`${file}.refused`, 'utf8')).toBe(fs.readFileSync(path.join(drop, 'nftables', `${CLASS}.nft`), 'utf8'));
    }, 900_000);
  });

  describe('iptables', () => {
    let l: Lab;
    beforeAll(() => (l = lab('gi')));
    afterAll(() => l?.remove());

    it('repairs emptied chains, refuses a jump that only --test accepts, and rolls back a policy that cuts the controller off', () => {
      const keep = render('iptables', true);
      const vars = parseAnsible(fs.readFileSync(path.join(keep, 'ansible/vars/linux.yml'), 'utf8')) as { fwgen_linux: Record<string, { rules: string[]; ipsets: string }> };
      expect(vars.fwgen_linux[CLASS]!.ipsets).toBeDefined();
      const first = run(l, keep);
      expect(first.output).toMatch(/PLAY RECAP/);
      expect(first.status).toBe(0);
      const created = [...fs.readFileSync(path.join(keep, 'iptables', vars.fwgen_linux[CLASS]!.ipsets), 'utf8').matchAll(/^create (\S+)/gm)].map((m) => m[1]);
      expect(l.host.run(['ipset', 'list', '-n']).trim().split('\n').sort()).toEqual(created.sort());
      for (const tool of ['iptables', 'ip6tables']) {
        const chains = l.host.run([tool, '-S']);
        expect(chains).toContain('-N FWGEN-IN');
        expect(chains).toContain('-N FWGEN-OUT');
      }
      const second = run(l, keep);
      expect(second.status).toBe(0);
      expect(second.changed).toBe(0);
      // The jump into fwgen's chain is the admin's; with it the chain decides.
      l.host.run(['iptables', '-I', 'INPUT', '-j', 'FWGEN-IN']);
      expect(reaches(l)).toBe(true);
      const applied = { v4: l.host.run(['iptables', '-S']), sets: l.host.run(['ipset', 'list']) };

      l.host.run(['iptables', '-F', 'FWGEN-IN']);
      l.host.run(['ipset', 'flush']);
      const drift = run(l, keep);
      expect(drift.status).toBe(0);
      expect(drift.output).toMatch(/TASK \[Apply the rules \(changed only when the kernel's rules differed\)\] \*+\nchanged/);
      expect(l.host.run(['iptables', '-S'])).toBe(applied.v4);
      expect(l.host.run(['ipset', 'list'])).toBe(applied.sets);

      const name = vars.fwgen_linux[CLASS]!.rules.find((f) => f.endsWith('v4'))!;
      const sets = path.join(keep, 'iptables', vars.fwgen_linux[CLASS]!.ipsets);
      const source = path.join(keep, 'iptables', name);
      const good = fs.readFileSync(source, 'utf8');

      // A rule file whose set is missing: validate: refuses it and the kernel keeps what it had.
      fs.writeFileSync(source, good.replace('COMMIT', '-A FWGEN-OUT -m set --match-set no_such_set dst -j ACCEPT\nCOMMIT'));
      const unset = run(l, keep);
      expect(unset.status).not.toBe(0);
      expect(unset.output).toMatch(/Install the IPv4 rules[\s\S]*failed to validate/);
      expect(l.host.run(['iptables', '-S'])).toBe(applied.v4);

      // iptables-restore --test accepts a jump to a target that does not exist; loading it does not.
      fs.writeFileSync(source, good.replace('-m comment --comment "fwgen: not allowed" -j DROP', '-j ACCEPTT'));
      expect(spawnSync('unshare', ['-n', 'sh', '-c', 'ipset -exist -file "$0" restore && iptables-restore --test "$1"', sets, source]).status).toBe(0);
      const tampered = run(l, keep);
      expect(tampered.status).not.toBe(0);
      expect(tampered.output).toMatch(/Install the IPv4 rules[\s\S]*failed to validate/);
      expect(fs.readFileSync(path.join(l.root, 'etc/fwgen', name), 'utf8')).toBe(good);
      expect(l.host.run(['iptables', '-S'])).toBe(applied.v4);
      fs.writeFileSync(source, good);

      const dropped = run(l, render('iptables', false));
      expect(dropped.status).not.toBe(0);
      expect(dropped.output).toMatch(/fwgen rolled back the firewall of guarded: .*Timeout when waiting for 10\.0\.0\.2:22.*The rules the kernel had before this run are back\./);
      expect(l.host.run(['iptables', '-S'])).toBe(applied.v4);
      expect(reaches(l)).toBe(true);
      expect(fs.existsSync(path.join(l.root, 'etc/fwgen', `${name}.refused`))).toBe(true);

      // Under --check the package task asks the package manager (python3-apt) whether the packages are there.
      const dry = run(l, keep, ['--check'], { fwgen_install_packages: true });
      expect(dry.output).toMatch(/TASK \[Install the packages the rules need\] \*+\nok: \[guarded\]/);
      expect(dry.status).toBe(0);
    }, 900_000);
  });
});
