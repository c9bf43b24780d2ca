/**
 * The iptables play against a host whose controller reaches it over a network (the lab in
 * guard-lab.ts). What the runs show: the first run puts every ipset and fwgen's chains in the
 * kernel and a second changes nothing; chains and sets emptied by hand are restored and reported
 * as changed; a rule file that does not load (a missing set, or a jump that only --test accepts)
 * is refused before it lands and the kernel keeps its rules; a policy that cuts the controller
 * off is rolled back to the kernel's previous rules and the play fails saying so; packages are
 * checked under --check.
 *
 * The nftables half of these checks is linux-guard-nftables.test.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAnsible, withAnsible } from './harness';
import { CLASS, lab, reaches, render, run, type Lab } from './guard-lab';

const it = withAnsible('ansible-playbook', 'netns');

describe('Linux plays with a controller across a network: iptables', () => {
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
