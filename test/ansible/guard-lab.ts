/**
 * The lab the guarded-host Linux plays run in: two network namespaces joined by a veth pair,
 * the controller's (where ansible-playbook and its delegate_to: localhost checks run) and the
 * host's (where every module runs, through a Python that enters it, and whose kernel gets the
 * rules). A listener on the host's port 22 stands for its sshd. Each run is made in a mount
 * namespace whose /etc/systemd/system is the temporary root's, so enabling the boot unit is real too.
 *
 * The nftables and iptables checks share nothing but this module, so they are two test files
 * that jest runs on its two workers at once (linux-guard-nftables, linux-guard-iptables).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { tempDir } from '../helpers';
import { netns, playbook, renderExample } from './harness';

export const CONTROLLER = '10.0.0.1';
export const HOST = '10.0.0.2';
export const CLASS = 'ecommerce-web-server';

export interface Lab {
  ctl: ReturnType<typeof netns>;
  host: ReturnType<typeof netns>;
  listener: ChildProcess;
  root: string;
  python: string;
  remove: () => void;
}

export function lab(tag: string): Lab {
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
export function render(linux: 'nftables' | 'iptables', keep: boolean): string {
  return renderExample('ecommerce-web', tempDir('fwgen-ansible-out-'), (doc) => {
    doc.setIn(['targets', 'ansible'], { linux, hosts: { [CLASS]: ['guarded'] } });
    doc.setIn(['targets', 'iptables', 'ipsetThreshold'], 1);
    if (keep) doc.setIn(['flows', 0, 'addresses'], ['192.0.2.0/28', `${CONTROLLER}/32`]);
  });
}

/** Runs the site's linux.yml against host "guarded", with the lab's settings in an inventory of their own. */
export function run(l: Lab, site: string, extra: string[] = [], settings: Record<string, unknown> = {}) {
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

export function reaches(l: Lab): boolean {
  return spawnSync('ip', ['netns', 'exec', l.ctl.name, '/usr/bin/python3', '-c', `import socket; socket.create_connection(("${HOST}", 22), 2)`]).status === 0;
}

export const wants = (l: Lab) => path.join(l.root, 'etc/systemd/system/multi-user.target.wants/fwgen-firewall.service');
