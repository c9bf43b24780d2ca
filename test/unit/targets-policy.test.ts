import * as fs from 'node:fs';
import * as path from 'node:path';
import { acmeProfile, acmeVendor, runInProcess, tempCatalog, tempDir, withAnswers } from '../helpers';

/** A vendor with one service; `requirement: optional` services are selected only when included. */
function vendor(requirement: string, flows: string): string {
  return acmeVendor(`  - id: api
    name: Acme API
    requirement: ${requirement}
    deviceClasses: [back-office-pc]
    flows:
${flows}`);
}

const WEB = `      - direction: outbound\n        protocol: tcp\n        ports: [443]\n        addresses: [192.0.2.1, "2001:db8::1"]\n`;

/** The back-office PC gets a default-drop Windows script; the fixture is managed at its desk. */
const AT_THE_DESK: Array<[string, string]> = [['management-access', 'back-office-pc']];

function site(o: { requirement?: string; flows?: string; classes?: string; targets?: string; answers?: Array<[string, string]> } = {}): { profile: string; out: string } {
  const catalog = tempCatalog({ 'acme.yaml': vendor(o.requirement ?? 'required', o.flows ?? WEB) });
  const profile = path.join(catalog, 'site.yaml');
  fs.writeFileSync(profile, withAnswers(acmeProfile(o.classes ?? '  back-office-pc:\n    addresses: [10.0.0.0/24]\n', o.targets), o.answers ?? AT_THE_DESK));
  return { profile, out: path.join(tempDir(), 'out') };
}

async function render(s: { profile: string; out: string }, ...args: string[]) {
  return runInProcess(['render', '--catalog', path.dirname(s.profile), '-p', s.profile, '-o', s.out, ...args]);
}

describe('an output that allows nothing is refused', () => {
  test('a selection with no rule: every target is an error, exit 1, nothing written', async () => {
    const s = site({ requirement: 'optional', answers: [] });
    const r = await render(s);
    expect(r.status).toBe(1);
    for (const t of ['iptables', 'nftables', 'pfsense', 'windows', 'aws']) {
      expect(r.stderr).toMatch(new RegExp(`error: \\[${t}\\] .*holds no allow rule.*targets\\.${t}\\.allowEmpty: true`));
    }
    expect(fs.existsSync(s.out)).toBe(false);
  });

  test('rules all left out (unresolved names with --allow-unresolved) count as none', async () => {
    const s = site({
      flows: `      - direction: outbound\n        protocol: tcp\n        ports: [443]\n        domains: [api.acme.example]\n`,
      answers: [...AT_THE_DESK, ['dns-lookup', 'back-office-pc']],
    });
    const r = await render(s, '-t', 'nftables', '--allow-unresolved');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error: \[nftables\] nftables back-office-pc\.nft holds no allow rule/);
    expect(fs.existsSync(s.out)).toBe(false);
  });

  test('allowEmpty says it on purpose; pfSense then writes no empty section for a restore to wipe the firewall with', async () => {
    const opts = ['iptables', 'nftables', 'pfsense', 'windows', 'aws'].map((t) => `  ${t}:\n    allowEmpty: true\n`).join('');
    const s = site({ requirement: 'optional', targets: opts, answers: [] });
    const r = await render(s, '-t', 'pfsense');
    expect(r.status).toBe(0);
    const xml = fs.readFileSync(path.join(s.out, 'acme-site', 'pfsense', 'config.xml'), 'utf8');
    expect(xml).not.toContain('<filter>');
    expect(xml).not.toContain('<aliases>');
    // pfSense finds a section by its tag anywhere in the file: not even a comment may hold it.
    expect(xml).toContain('This file has no aliases and no filter section');
  });
});

describe('Windows enforces the policy it claims', () => {
  test('policy drop (the default) blocks by default for the profiles it targets, last, with -WhatIf, and says how to undo it', async () => {
    const s = site({ targets: '  windows:\n    profiles: [Domain, Private]\n' });
    const r = await render(s, '-t', 'windows');
    expect(r.status).toBe(0);
    const ps = fs.readFileSync(path.join(s.out, 'acme-site', 'windows', 'back-office-pc.ps1'), 'utf8');
    const lines = ps.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe(
      "Set-NetFirewallProfile -Profile @('Domain','Private') -Enabled True -DefaultInboundAction Block -DefaultOutboundAction Block -WhatIf:$WhatIfPreference",
    );
    expect(ps).toContain('# Undo (back to Windows\' defaults): Set-NetFirewallProfile -Profile Domain,Private -DefaultInboundAction Block -DefaultOutboundAction Allow');
    expect(ps).toContain('[CmdletBinding(SupportsShouldProcess = $true)]');
    expect(r.stderr).not.toMatch(/restrict nothing/);
  });

  test("profile 'Any' blocks in all three profiles", async () => {
    const s = site();
    await render(s, '-t', 'windows');
    expect(fs.readFileSync(path.join(s.out, 'acme-site', 'windows', 'back-office-pc.ps1'), 'utf8')).toContain("Set-NetFirewallProfile -Profile @('Domain','Private','Public') ");
  });

  test('policy accept leaves the defaults and says, in the header and on stderr, that outbound rules restrict nothing', async () => {
    const s = site({ targets: '  windows:\n    policy: accept\n' });
    const r = await render(s, '-t', 'windows');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: \[windows\] back-office-pc\.ps1: policy accept .*outbound Allow rules restrict nothing/);
    const ps = fs.readFileSync(path.join(s.out, 'acme-site', 'windows', 'back-office-pc.ps1'), 'utf8');
    expect(ps).toMatch(/^# WARNING: .*outbound Allow rules below restrict nothing/m);
    expect(ps).not.toContain('Set-NetFirewallProfile -Profile');
  });
});

describe('gateway mode never forwards IPv6 unfiltered', () => {
  const gateway = '  iptables:\n    mode: gateway\n  nftables:\n    mode: gateway\n';

  test('a class without IPv6 prefixes has its IPv6 dropped on its interface: no IPv6 address there is in a class', async () => {
    const s = site({ classes: '  back-office-pc:\n    addresses: [10.0.0.0/24]\n    interface: lan1\n', targets: gateway });
    const r = await render(s, '-t', 'nftables');
    expect(r.status).toBe(0);
    // Said at render too, at the class's binding, not only in the file's header.
    expect(r.stderr).toMatch(/site\.yaml:\d+:3: warning: \[nftables\] device class back-office-pc has no IPv6 prefixes, so the gateway drops its forwarded IPv6 on lan1/);
    const nft = fs.readFileSync(path.join(s.out, 'acme-site', 'nftables', 'fwgen.nft'), 'utf8');
    const fwd = nft.slice(nft.indexOf('chain forward'));
    expect(fwd).toMatch(/^\t\tiifname "lan1" meta nfproto ipv6 drop comment/m);
    expect(fwd).toMatch(/^\t\toifname "lan1" meta nfproto ipv6 drop comment/m);
    // The same drop after the accepts would add nothing.
    expect(fwd).not.toContain('meta nfproto ipv6 iifname');
    const s2 = { ...s, out: path.join(tempDir(), 'out') };
    await render(s2, '-t', 'iptables');
    const v6 = fs.readFileSync(path.join(s2.out, 'acme-site', 'iptables', 'rules.v6'), 'utf8');
    expect(v6).toMatch(/^-A FWGEN-SRC -i lan1 .*-j DROP$/m);
    expect(v6).toMatch(/^-A FWGEN-DST -o lan1 .*-j DROP$/m);
    expect(v6).not.toMatch(/^-A FWGEN-(SRC|DST) .*RETURN$/m);
  });

  test('with unclassified traffic accepted on the interface, that IPv6 is still dropped there, after the accepts', async () => {
    const s = site({ classes: '  back-office-pc:\n    addresses: [10.0.0.0/24]\n    interface: lan1\n', targets: gateway });
    fs.appendFileSync(s.profile, 'interfaces:\n  lan1: { unclassified: accept }\n');
    const r = await render(s, '-t', 'nftables');
    expect(r.status).toBe(0);
    const fwd = fs.readFileSync(path.join(s.out, 'acme-site', 'nftables', 'fwgen.nft'), 'utf8').split('chain forward')[1]!;
    expect(fwd).toContain('meta nfproto ipv6 iifname "lan1" drop');
    expect(fwd).toContain('meta nfproto ipv6 oifname "lan1" drop');
    expect(fwd.indexOf('iifname "lan1" drop')).toBeGreaterThan(fwd.lastIndexOf(' accept'));
    expect(fwd).not.toContain('in no device class"');
  });

  test('without an interface it is an error; unfilteredIpv6 turns the drop off, loudly', async () => {
    const s = site({ targets: gateway });
    const r = await render(s, '-t', 'nftables');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/site\.yaml:\d+:3: error: \[nftables\] device class back-office-pc has no IPv6 prefixes and no interface.*unfilteredIpv6: true/);
    const loud = site({ targets: `${gateway}    unfilteredIpv6: true\n` });
    const r2 = await render(loud, '-t', 'nftables');
    expect(r2.status).toBe(0);
    expect(r2.stderr).toMatch(/warning: \[nftables\] IPv6 of device classes without IPv6 prefixes \(back-office-pc\) is forwarded UNFILTERED/);
    expect(fs.readFileSync(path.join(loud.out, 'acme-site', 'nftables', 'fwgen.nft'), 'utf8')).toMatch(/^# WARNING: IPv6 .* UNFILTERED/m);
  });

  test('a class with IPv6 prefixes is filtered by address: no interface drop', async () => {
    const s = site({ classes: '  back-office-pc:\n    addresses: [10.0.0.0/24, "2001:db8:10::/64"]\n', targets: gateway });
    const r = await render(s, '-t', 'nftables');
    expect(r.status).toBe(0);
    const nft = fs.readFileSync(path.join(s.out, 'acme-site', 'nftables', 'fwgen.nft'), 'utf8');
    expect(nft).not.toContain('nfproto ipv6');
    expect(nft).toMatch(/ip6 saddr @class_back_office_pc_v6 ip6 daddr @acme_api_v6 tcp dport 443 accept/);
    expect(nft).toMatch(/ip6 saddr @\w+_v6 drop comment "fwgen: not allowed for the site device classes"/);
  });
});
