/**
 * The nftables play against a host whose controller reaches it over a network (the lab in
 * guard-lab.ts). What the runs show: a failed run does not strand an installed file unapplied,
 * and the next run applies it and enables the boot unit, putting every set and chain of the rule
 * file in the kernel; a ruleset flushed by hand is restored and a boot unit disabled by hand is
 * enabled again, both reported as changed; a run with nothing moved changes nothing; a rule file
 * that does not load (a missing chain) is refused before it lands and the kernel keeps its rules,
 * and --check fails on it too; a policy that cuts the controller off is rolled back to the
 * kernel's previous rules and the play fails saying so.
 *
 * test/ansible/linux.test.ts applies the other examples with a local connection; this example
 * is applied here and in linux-guard-iptables.test.ts only, since a guarded host runs the same
 * play and checks more.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nftNames, withAnsible } from './harness';
import { CLASS, lab, reaches, render, run, wants, type Lab } from './guard-lab';

const it = withAnsible('ansible-playbook', 'netns');

describe('Linux plays with a controller across a network: nftables', () => {
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
