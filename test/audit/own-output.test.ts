/**
 * fwgen audit of what fwgen itself writes, for every example site and every target audit
 * reads: every flow is met (or said to be uncheckable, with why) and nothing is admitted beyond
 * the profile. The AWS groups go through the EC2 API (moto on loopback) and are audited as
 * describe-security-groups returns them; the Windows scripts are read back into the shape the
 * README's export command gives.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AuditReport } from '../../src/audit';
import { runBinary } from '../helpers';
import { withTool } from '../conformance/validators';
import { audit, awsSpec, iptablesSets, nftJsonFromKernel, outDir, sites, useMoto, windowsExport, write } from './helpers';

function expectClean(r: AuditReport): void {
  const bad = r.flows.filter((f) => f.status === 'partial' || f.status === 'missing').map((f) => `${f.scope}: ${f.id} ${f.status}`);
  expect({ bad, openings: r.openings, uncertain: r.uncertain }).toEqual({ bad: [], openings: [], uncertain: [] });
  expect(r.clean).toBe(true);
  expect(r.summary.met).toBeGreaterThan(0);
  // What is not checked says why: a program rule outside Windows, or a name no address stands for.
  for (const f of r.flows.filter((x) => x.status === 'unchecked')) expect(f.notes.join(' ')).toMatch(/program rule|no address stands for/);
}

const files = (site: string, target: string, ext: string): string[] =>
  fs.readdirSync(path.join(outDir, site, target)).filter((f) => f.endsWith(ext)).sort().map((f) => path.join(outDir, site, target, f));

describe.each(sites)('audit of fwgen\'s own output for %s', (site) => {
  test('pfSense config.xml: every flow met, nothing beyond', () => {
    expectClean(audit(site, [path.join(outDir, site, 'pfsense', 'config.xml')]));
  });

  test('nftables: every flow met, nothing beyond (each host file, or the gateway file)', () => {
    const nft = files(site, 'nftables', '.nft');
    expect(nft.length).toBeGreaterThan(0);
    for (const f of nft) expectClean(audit(site, [f]));
  });

  withTool('nft')('nftables JSON, as the kernel lists the file once loaded (nft -j list ruleset)', () => {
    for (const f of files(site, 'nftables', '.nft')) expectClean(audit(site, [write(path.basename(f).replace(/\.nft$/, '.json'), nftJsonFromKernel(f))]));
  });

  test('iptables: rules.v4 and rules.v6 (with ipsets) of the gateway or of each host, as one scope', () => {
    const sets = iptablesSets(site);
    expect(sets.length).toBeGreaterThan(0);
    for (const set of sets) {
      const r = audit(site, set);
      expect(r.scopes.length).toBe(1);
      expectClean(r);
    }
  });

  test('Windows, as the export command reports the rules the scripts create', async () => {
    for (const script of files(site, 'windows', '.ps1')) {
      const exported = await windowsExport(fs.readFileSync(script, 'utf8'));
      const json = write(path.basename(script).replace(/\.ps1$/, '.json'), JSON.stringify(exported, null, 2));
      const r = audit(site, [json]);
      expectClean(r);
      expect(r.scopes.length).toBeGreaterThan(0);
    }
  });
});

describe('AWS security groups as the EC2 API returns them', () => {
  const { moto, it } = useMoto();

  it.each(sites)('%s: every group meets its class\'s flows, nothing beyond', (site) => {
    const described = moto.describe(awsSpec(site));
    expect(JSON.parse(described).SecurityGroups.length).toBe(awsSpec(site).length);
    const r = audit(site, [write('groups.json', described)]);
    expect(r.scopes.map((s) => s.deviceClass).sort()).toEqual([...new Set(awsSpec(site).map((g) => g.tags['fwgen:device-class']))].sort());
    expectClean(r);
  }, 60_000);
});

describe('the command', () => {
  test('exit 0 and the summary on a clean audit; json carries the same', () => {
    const file = path.join(outDir, 'eu-restaurant-aloha', 'nftables', 'fwgen.nft');
    const text = runBinary(['audit', 'eu-restaurant-aloha', '--file', file]);
    expect({ status: text.status, stderr: text.stderr }).toEqual({ status: 0, stderr: '' });
    expect(text.stdout).toMatch(/result: every flow met, nothing beyond the profile/);
    const json = runBinary(['audit', 'eu-restaurant-aloha', '--file', file, '--format', 'json']);
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout) as AuditReport;
    expect(report.clean).toBe(true);
    expect(report.flows.every((f) => f.status === 'met' || f.status === 'unchecked')).toBe(true);
  });

  test('exit 1 with a located error on a file it cannot read as a rule set', () => {
    const bad = write('config.xml', '<?xml version="1.0"?>\n<pfsense>\n<filter>\n<rule>\n</filter>\n</pfsense>\n');
    const r = runBinary(['audit', 'eu-restaurant-aloha', '--file', bad]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:\\d+: \\(document\\): not well-formed XML`));
  });
});
