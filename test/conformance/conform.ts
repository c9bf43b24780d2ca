import * as fs from 'node:fs';
import * as path from 'node:path';
import { FWGEN_PS_COMMANDS, parsePowerShell, psCommands } from './powershell';
import { filesOf } from './render-helpers';
import type { Check } from './validators';
import { awsValidate, networkFirewallProblems, cfnLintAll, dnsmasqTest, iptablesLoad, nftCheck, pfsenseStructure, withTool, xmllint } from './validators';

type SlowCheck = 'ec2-ingress' | 'ec2-egress' | 'network-firewall-rule-group' | 'cfn-lint';

/** The files of one render that each slow check reads (cfn-lint: the one template). */
const SLOW_FILES: Record<SlowCheck, (dir: string) => string[]> = {
  'ec2-ingress': (dir) => filesOf(dir, 'aws', /\.ingress\.json$/),
  'ec2-egress': (dir) => filesOf(dir, 'aws', /\.egress\.json$/),
  'network-firewall-rule-group': (dir) => filesOf(dir, 'aws', /network-firewall\.rule-group\.json$/),
  'cfn-lint': (dir) => filesOf(dir, 'aws', /\.cfn\.json$/).slice(0, 1),
};

/**
 * The validators that take seconds to start (Python with botocore's models, cfn-lint), run
 * once per check over the files of every render added, when a test first asks. Each test
 * sees its own files' result: clean when the run was, or when the run's output names other
 * files and not these; otherwise failed, with the whole output.
 */
export class SlowValidators {
  private readonly dirs: Array<() => string> = [];
  private readonly runs = new Map<SlowCheck, { files: string[]; result: Check }>();

  add(dir: () => string): void {
    this.dirs.push(dir);
  }

  check(kind: SlowCheck, files: string[]): Check {
    let run = this.runs.get(kind);
    if (!run) {
      const all = this.dirs.flatMap((d) => SLOW_FILES[kind](d()));
      run = { files: all, result: kind === 'cfn-lint' ? cfnLintAll(all) : awsValidate(kind, all) };
      this.runs.set(kind, run);
    }
    const unseen = files.filter((f) => !run!.files.includes(f));
    if (unseen.length > 0) return { ok: false, output: `not in the run over the added renders: ${unseen.join(', ')}` };
    const { result } = run;
    if (result.ok && result.output === '') return result;
    const named = (f: string) => result.output.includes(`${f}:`);
    const mine = files.some(named) || !run.files.some(named);
    return mine ? { ok: false, output: result.output } : { ok: true, output: '' };
  }
}

/**
 * Declares the tests that put every file of one rendered profile through the real tool
 * that applies it. `dir` is read when the tests run, so it may be filled in a beforeAll.
 * Renders declared with the same `slow` share its runs of botocore and cfn-lint.
 */
export function conformanceTests(label: string, dir: () => string, expect_: { networkFirewall: boolean }, slow = new SlowValidators()): void {
  slow.add(dir);
  describe(`${label}: files pass the tools that apply them`, () => {
    withTool('nft')('nftables: nft -c -f accepts every file', () => {
      const files = filesOf(dir(), 'nftables', /\.nft$/);
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const r = nftCheck(f);
        expect({ file: f, ...r }).toEqual({ file: f, ok: true, output: '' });
      }
    });

    withTool('iptables')('iptables: ipsets and both restore files load for real in a new namespace', () => {
      const files = filesOf(dir(), 'iptables', /rules\.v4$/);
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const prefix = path.basename(f).replace(/rules\.v4$/, '');
        const r = iptablesLoad(path.dirname(f), prefix);
        expect({ file: f, ok: r.ok, output: r.ok ? '' : r.output }).toEqual({ file: f, ok: true, output: '' });
        // The chains the file declares are in the kernel, with the ACCEPT rules in them.
        const declared = fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]!);
        for (const chain of declared) expect(r.output).toContain(`-N ${chain}`);
        const accepts = fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('-A ') && l.endsWith('-j ACCEPT')).length;
        expect(r.output.split('\n').filter((l) => l.startsWith('-A ') && l.endsWith('-j ACCEPT')).length).toBeGreaterThanOrEqual(accepts);
      }
    });

    withTool('xmllint')('pfSense: xmllint parses it and pfSense\'s rules hold', () => {
      const [file] = filesOf(dir(), 'pfsense', /\.xml$/);
      expect(file).toBeDefined();
      expect(xmllint(file!)).toEqual({ ok: true, output: '' });
      expect(pfsenseStructure(fs.readFileSync(file!, 'utf8'))).toEqual([]);
    });

    test('Windows: the PowerShell grammar parses every script without ERROR or MISSING nodes', async () => {
      const scripts = filesOf(dir(), 'windows', /\.ps1$/);
      expect(scripts.length).toBeGreaterThan(0);
      for (const f of scripts) {
        const parsed = await parsePowerShell(fs.readFileSync(f, 'utf8'));
        expect({ file: f, errors: parsed.errors }).toEqual({ file: f, errors: [] });
        // Only fwgen's own commands run: nothing a catalog value could have smuggled in.
        expect(parsed.commands.filter((c) => !FWGEN_PS_COMMANDS.has(c))).toEqual([]);
        expect(parsed.commands.slice(0, 2)).toEqual(['Get-NetFirewallRule', 'Remove-NetFirewallRule']);
        // -WhatIf reaches every command that changes something, so a dry run changes nothing.
        const text = fs.readFileSync(f, 'utf8');
        for (const c of await psCommands(text)) {
          if (c.name === 'Get-NetFirewallRule' || c.name === 'Out-Null') continue;
          expect({ command: c.name, whatIf: c.params.WhatIf }).toEqual({ command: c.name, whatIf: ['$WhatIfPreference'] });
        }
        // With policy drop (the default) the default actions become Block, after every allow rule exists.
        if (/^# Policy drop:/m.test(text)) {
          expect(parsed.commands[parsed.commands.length - 1]).toBe('Set-NetFirewallProfile');
          expect(text).toMatch(/^Set-NetFirewallProfile -Profile @\([^)]+\) -Enabled True -DefaultInboundAction Block -DefaultOutboundAction Block -WhatIf:\$WhatIfPreference$/m);
        }
      }
    });

    withTool('botocore')('AWS: botocore validates the IpPermissions against the EC2 model', () => {
      for (const dirn of ['ingress', 'egress'] as const) {
        const files = filesOf(dir(), 'aws', new RegExp(`\\.${dirn}\\.json$`));
        expect(files.length).toBeGreaterThan(0);
        expect(slow.check(`ec2-${dirn}`, files)).toEqual({ ok: true, output: '' });
      }
    });

    withTool('dnsmasq')('dnsmasq companions: dnsmasq --test accepts them, and every set they fill is declared', () => {
      for (const f of [...filesOf(dir(), 'nftables', /\.dnsmasq\.conf$/), ...filesOf(dir(), 'iptables', /dnsmasq\.conf$/)]) {
        expect({ file: f, ...dnsmasqTest(f) }).toEqual({ file: f, ok: true, output: 'dnsmasq: syntax check OK.\n' });
        const text = fs.readFileSync(f, 'utf8');
        const declaredIn = f.includes('/nftables/') ? f.replace(/\.dnsmasq\.conf$/, '.nft') : f.replace(/dnsmasq\.conf$/, 'ipsets');
        const declared = fs.readFileSync(declaredIn, 'utf8');
        for (const m of text.matchAll(/#(dns_[a-z0-9_]+)/g)) expect(declared).toContain(`set ${m[1]} {`);
        for (const line of text.split('\n').filter((l) => l.startsWith('ipset='))) {
          for (const set of line.split('/')[2]!.split(',')) expect(declared).toContain(`create ${set} hash:ip`);
        }
      }
    });

    withTool('botocore')('AWS: botocore validates the Network Firewall rule group against its model', () => {
      const files = filesOf(dir(), 'aws', /network-firewall\.rule-group\.json$/);
      expect(files.length).toBe(expect_.networkFirewall ? 1 : 0);
      if (files.length > 0) {
        expect(slow.check('network-firewall-rule-group', files)).toEqual({ ok: true, output: '' });
        expect(networkFirewallProblems(JSON.parse(fs.readFileSync(files[0]!, 'utf8')))).toEqual([]);
      }
    });

    withTool('cfn-lint')('AWS: cfn-lint accepts the CloudFormation template', () => {
      const [file] = filesOf(dir(), 'aws', /\.cfn\.json$/);
      expect(file).toBeDefined();
      expect(slow.check('cfn-lint', [file!])).toEqual({ ok: true, output: '' });
    });
  });
}
