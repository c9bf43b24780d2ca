import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSite } from '../../src/render/site';
import { targetById } from '../../src/targets/registry';
import { writeOutput } from '../../src/output';
import { acmeProfile, acmeVendor, lockText, tempCatalog, tempDir, withAnswers } from '../helpers';
import { required, tools } from './validators';

/**
 * What the Linux targets do in a real kernel and a real dnsmasq, in a network namespace of
 * the test's own: which names the dnsmasq companion admits, and what survives a re-apply.
 */

// dnsmasq drops privileges with setgroups, which a user namespace refuses: it needs root.
const asRoot = process.getuid?.() === 0;
const canRun = tools.nft && tools.iptables && tools.dnsmasq && asRoot;
const it_ = canRun
  ? test
  : required
    ? ((name: string) => test(name, () => { throw new Error('nft, ipset and dnsmasq as root are needed (FWGEN_REQUIRE_VALIDATORS=1)'); })) as unknown as jest.It
    : test.skip;

function vendor(ntp: string, apex: boolean): string {
  return acmeVendor(`  - id: api
    name: Acme API
    requirement: required
    deviceClasses: [back-office-pc]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [443]
        domains: [exact.acme.test, "*.wild.acme.test"${apex ? ', wild.acme.test' : ''}]
  - id: ntp
    name: Acme time
    requirement: required
    deviceClasses: [back-office-pc]
    flows:
      - direction: outbound
        protocol: udp
        ports: [123]
        addresses: [${ntp}]
`);
}

const LOCK = lockText('acme-site', {
  'exact.acme.test': { ipv4: ['192.0.2.10'] },
  'wild.acme.test': { ipv4: ['192.0.2.20'] },
});

function profile(mode: string): string {
  const profile = acmeProfile('  back-office-pc:\n    addresses: [10.0.0.0/24]\n    interface: lan0\n', `  nftables: { mode: ${mode} }\n  iptables: { mode: ${mode} }\n`);
  return withAnswers(profile, [['management-access', 'back-office-pc'], ['dns-lookup', 'back-office-pc']]);
}

/** Renders the synthetic site for one target; returns the folder and the diagnostics. */
function render(target: string, o: { ntp?: string; apex?: boolean; mode?: string } = {}): { dir: string; warnings: string[] } {
  const catalog = tempCatalog({ 'acme.yaml': vendor(o.ntp ?? '192.0.2.123', o.apex ?? false) });
  const file = path.join(catalog, 'site.yaml');
  fs.writeFileSync(file, profile(o.mode ?? 'host'));
  fs.writeFileSync(path.join(catalog, 'site.lock.yaml'), LOCK);
  const result = renderSite(catalog, file, [targetById(target)!]);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
  const out = tempDir('fwgen-ns-');
  writeOutput(out, result.files, []);
  return { dir: path.join(out, 'acme-site', target), warnings: result.diagnostics.filter((d) => d.severity === 'warning' && d.target === target).map((d) => d.message) };
}

/** Runs a bash script in a fresh network namespace; the script prints what the test reads. */
function inNamespace(script: string): string {
  const file = path.join(tempDir('fwgen-ns-'), 'run.sh');
  fs.writeFileSync(file, `set -euo pipefail\nip link set lo up\n${script}\n`);
  const r = spawnSync('unshare', ['-n', 'bash', file], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`namespace script failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

const RECORDS: Record<string, string> = {
  'exact.acme.test': '192.0.2.10',
  'sub.exact.acme.test': '192.0.2.11',
  'wild.acme.test': '192.0.2.20',
  'a.wild.acme.test': '192.0.2.21',
  'b.c.wild.acme.test': '192.0.2.22',
  'other.acme.test': '192.0.2.30',
};

/**
 * An authoritative dnsmasq answers RECORDS on port 5301; the dnsmasq under test forwards to
 * it with the companion file; every name is looked up through it with node's resolver.
 */
function lookupsThroughCompanion(companion: string): string {
  const dnsmasq = 'dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --bind-interfaces --listen-address=127.0.0.1 --pid-file= --user=root';
  const records = Object.entries(RECORDS).map(([n, a]) => `--host-record=${n},${a}`).join(' ');
  // Waits until the front dnsmasq answers, then looks every name up once.
  const query = `const { Resolver } = require('node:dns/promises'); const r = new Resolver({ timeout: 500, tries: 1 }); r.setServers(['127.0.0.1:5300']);
    const names = ${JSON.stringify(Object.keys(RECORDS))};
    (async () => {
      for (let i = 0; ; i++) { try { await r.resolve4('other.acme.test'); break; } catch (e) { if (i > 50) throw e; await new Promise((ok) => setTimeout(ok, 100)); } }
      for (const n of names) await r.resolve4(n);
    })().catch((e) => { console.error(e); process.exit(1); });`;
  return `${dnsmasq} --conf-file=/dev/null --port=5301 ${records} & UP=$!
${dnsmasq} --conf-file='${companion}' --port=5300 --server=127.0.0.1#5301 & FRONT=$!
trap 'kill $UP $FRONT' EXIT
node -e "${query.replace(/"/g, '\\"')}"`;
}

function addresses(text: string): string[] {
  return [...text.matchAll(/192\.0\.2\.\d+/g)].map((m) => m[0]).sort();
}

describe('the dnsmasq companions admit what the catalog names, in a real dnsmasq', () => {
  it_('nftables: the wildcard fills its set with subdomains at any depth; exact names are pinned, never followed', () => {
    const { dir, warnings } = render('nftables');
    const nft = path.join(dir, 'back-office-pc.nft');
    const companion = path.join(dir, 'back-office-pc.dnsmasq.conf');
    const text = fs.readFileSync(companion, 'utf8');
    expect(text.split('\n').filter((l) => l.startsWith('nftset='))).toEqual(['nftset=/wild.acme.test/4#inet#fwgen#dns_acme_api_v4,6#inet#fwgen#dns_acme_api_v6']);
    expect(text).toContain('Reach wider than the catalog: /wild.acme.test/ also admits wild.acme.test itself');
    expect(warnings.some((w) => w.includes('also admits wild.acme.test itself'))).toBe(true);
    // The exact name is pinned, and the rules file and a warning say so.
    expect(fs.readFileSync(nft, 'utf8')).toMatch(/^# Names: exact host names are matched by the addresses pinned in the lock, not followed by the dnsmasq companion .*: exact\.acme\.test;/m);
    expect(warnings.some((w) => w.startsWith('exact host names are matched by the addresses pinned') && w.includes('exact.acme.test'))).toBe(true);
    const out = inNamespace(`nft -f '${nft}'\n${lookupsThroughCompanion(companion)}\necho DNS; nft list set inet fwgen dns_acme_api_v4\necho STATIC; nft list set inet fwgen acme_api_v4`);
    const [, dns, pinned] = out.split(/^(?:DNS|STATIC)$/m);
    // The apex is the documented reach of /x/; the exact name's subdomain and other names stay out.
    expect(addresses(dns!)).toEqual(['192.0.2.20', '192.0.2.21', '192.0.2.22']);
    expect(addresses(pinned!)).toEqual(['192.0.2.10']);
  });

  it_('iptables: the ipset companion follows the same names into hash:ip sets', () => {
    const { dir } = render('iptables');
    const companion = path.join(dir, 'back-office-pc.dnsmasq.conf');
    const lines = fs.readFileSync(companion, 'utf8').split('\n').filter((l) => l.startsWith('ipset='));
    expect(lines).toEqual(['ipset=/wild.acme.test/fwgen_dns_acme_api_4,fwgen_dns_acme_api_6']);
    const out = inNamespace(`ipset -exist restore < '${path.join(dir, 'back-office-pc.ipsets')}'\n${lookupsThroughCompanion(companion)}\nipset list fwgen_dns_acme_api_4`);
    expect(addresses(out)).toEqual(['192.0.2.20', '192.0.2.21', '192.0.2.22']);
    expect(fs.readFileSync(path.join(dir, 'back-office-pc.rules.v4'), 'utf8')).toMatch(/-d 192\.0\.2\.10\/32 .*-j ACCEPT|-d 192\.0\.2\.10 .*-j ACCEPT/);
  });

  test('a wildcard whose apex the catalog lists too is exact: no warning, no reach line', () => {
    const { dir, warnings } = render('nftables', { apex: true });
    expect(warnings.filter((w) => w.includes('also admits'))).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'back-office-pc.dnsmasq.conf'), 'utf8')).not.toContain('Reach wider');
  });
});

describe('re-applying keeps what dnsmasq learned and replaces the rest', () => {
  it_('nftables: same file, changed file and another mode keep the dns_ set; static sets hold exactly the new elements', () => {
    const first = path.join(render('nftables').dir, 'back-office-pc.nft');
    const changed = path.join(render('nftables', { ntp: '192.0.2.124, 192.0.2.126' }).dir, 'back-office-pc.nft');
    const gateway = path.join(render('nftables', { mode: 'gateway' }).dir, 'fwgen.nft');
    const out = inNamespace(`nft -f '${first}'
nft add element inet fwgen dns_acme_api_v4 '{ 198.51.100.7 }'
nft -f '${first}'
echo SAME; nft list set inet fwgen dns_acme_api_v4
nft -f '${changed}'
echo CHANGED; nft list set inet fwgen dns_acme_api_v4
echo NTP; nft list set inet fwgen acme_ntp_v4
echo RULES; nft list chain inet fwgen output
nft -f '${gateway}'
echo GATEWAY; nft list set inet fwgen dns_acme_api_v4
echo CHAINS; nft list table inet fwgen | grep -E '^\\s*chain ' || true`);
    const part = (name: string) => out.split(new RegExp(`^${name}$`, 'm'))[1]!.split(/^[A-Z]+$/m)[0]!;
    expect(part('SAME')).toContain('198.51.100.7');
    expect(part('CHANGED')).toContain('198.51.100.7');
    expect(part('NTP').match(/192\.0\.2\.\d+|198\.51\.100\.\d+/g)).toEqual(['192.0.2.124', '192.0.2.126']);
    const rules = part('RULES').split('\n').filter((l) => /accept comment "acme/.test(l)).map((l) => l.trim().replace(/ comment .*/, ''));
    expect(rules).toEqual([
      'ip daddr @acme_api_v4 tcp dport 443 accept', // the exact name, pinned from the lock
      'ip daddr @acme_ntp_v4 udp dport 123 accept',
      'ip daddr @dns_acme_api_v4 tcp dport 443 accept', // the wildcard, followed by dnsmasq
      'ip6 daddr @dns_acme_api_v6 tcp dport 443 accept',
    ]);
    expect(part('RULES')).not.toContain('192.0.2.123');
    expect(part('GATEWAY')).toContain('198.51.100.7');
    expect(part('CHAINS').trim().split(/\s+/).filter((w) => w !== 'chain' && w !== '{')).toEqual(['forward']);
  });

  it_('iptables: ipset -exist restore keeps the hash:ip sets dnsmasq fills and replaces the static ones', () => {
    const first = render('iptables', { ntp: Array.from({ length: 10 }, (_v, i) => `192.0.2.${100 + 2 * i}`).join(', ') }).dir;
    const changed = render('iptables', { ntp: Array.from({ length: 10 }, (_v, i) => `192.0.2.${200 + 2 * i}`).join(', ') }).dir;
    const out = inNamespace(`ipset -exist restore < '${path.join(first, 'back-office-pc.ipsets')}'
ipset add fwgen_dns_acme_api_4 198.51.100.7
ipset -exist restore < '${path.join(changed, 'back-office-pc.ipsets')}'
echo DNS; ipset list fwgen_dns_acme_api_4
echo STATIC; ipset list fwgen_acme_ntp_4`);
    const [, dns, st] = out.split(/^(?:DNS|STATIC)$/m);
    expect(dns).toContain('198.51.100.7');
    expect(addresses(st!)).toEqual(Array.from({ length: 10 }, (_v, i) => `192.0.2.${200 + 2 * i}`).sort());
  });
});
