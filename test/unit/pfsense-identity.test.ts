/**
 * How fwgen's items are recognised on a pfSense (pfsense-identity.ts): per site, the same in the
 * pfsense target's config.xml and the Ansible vars, free of file positions, and unique.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { aliasNamePrefix, ownerMark, siteTag } from '../../src/targets/pfsense-identity';
import { parseAnsible } from '../ansible/harness';
import { pfsenseStructure } from '../conformance/validators';
import { acmeProfile, acmeVendor, runInProcess, tempCatalog, tempDir, withAnswers } from '../helpers';

const siteName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,39}$/);

describe('site marks', () => {
  test('no site\'s description mark is the start of another site\'s', () => {
    fc.assert(
      fc.property(siteName, siteName, (a, b) => {
        fc.pre(a !== b);
        expect(`${ownerMark(b)}x`.startsWith(ownerMark(a))).toBe(false);
      }),
    );
  });

  test('alias prefixes hold the site, fit pfSense\'s names and differ between sites', () => {
    expect(aliasNamePrefix('fwgen', 'shop')).toBe('fwgen_shop_');
    expect(aliasNamePrefix('fwgen', 'shop-x')).toBe('fwgen_shop_x_');
    // Too long, or changed by "-" to "_": the start and a hash of the whole name.
    expect(siteTag('eu-restaurant-aloha')).toMatch(/^eu_r[0-9a-z]{4}$/);
    expect(siteTag('a--b')).not.toBe(siteTag('a-b'));
    expect(siteTag('eu-restaurant-aloha')).not.toBe(siteTag('eu-restaurant-aloha-annex'));
    fc.assert(
      fc.property(siteName, fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,7}$/), (site, prefix) => {
        const p = aliasNamePrefix(prefix, site);
        expect(p).toMatch(/^[A-Za-z][A-Za-z0-9_]*_$/);
        expect(p).not.toMatch(/__/);
        expect(p.length).toBeLessThanOrEqual(18); // 13 characters of every 31-character name stay the alias's own
      }),
    );
  });
});

describe('rendered identities', () => {
  // Two flows of one service with the same class, direction and protocol: two pfSense rules
  // whose description would be the same but for the catalog line it used to carry.
  const vendor = acmeVendor(`  - id: api
    name: Acme API
    requirement: required
    deviceClasses: [back-office-pc]
    flows:
      - direction: outbound
        protocol: tcp
        ports: [443]
        addresses: [192.0.2.1]
      - direction: outbound
        protocol: tcp
        ports: [8443]
        addresses: [198.51.100.0/24]
`);

  async function renderBoth(extraLines = ''): Promise<{ xml: string; vars: Record<string, any> }> {
    const catalog = tempCatalog({ 'acme.yaml': `${extraLines}${vendor}` });
    const profile = path.join(catalog, 'site.yaml');
    fs.writeFileSync(profile, withAnswers(acmeProfile('  back-office-pc:\n    addresses: [10.0.0.0/24]\n'), [['management-access', 'back-office-pc']]));
    const out = tempDir();
    const r = await runInProcess(['render', '--catalog', catalog, '-p', profile, '-o', out, '-t', 'pfsense', '-t', 'ansible']);
    expect(r.stderr).not.toMatch(/error/);
    return {
      xml: fs.readFileSync(path.join(out, 'acme-site/pfsense/config.xml'), 'utf8'),
      vars: parseAnsible(fs.readFileSync(path.join(out, 'acme-site/ansible/vars/pfsense.yml'), 'utf8')) as any,
    };
  }

  test('rules alike but for their flow are numbered, and both paths name every item the same', async () => {
    const { xml, vars } = await renderBoth();
    expect(pfsenseStructure(xml)).toEqual([]);
    const doc = new XMLParser({ isArray: (n) => ['alias', 'rule'].includes(n), parseTagValue: false }).parse(xml);
    const descrs = doc.pfsense.filter.rule.map((r: { descr: string }) => r.descr);
    // The pass rules, then the block of sources in no device class: all carry the site's mark.
    expect(descrs).toEqual(['fwgen acme-site: acme/api back-office-pc outbound tcp', 'fwgen acme-site: acme/api back-office-pc outbound tcp #2', 'fwgen acme-site: block sources on lan in no device class']);
    expect(vars.fwgen_pfsense_rules.map((r: { name: string }) => r.name)).toEqual(descrs);
    expect(vars.fwgen_pfsense_rule_prefix).toBe('fwgen acme-site: ');
    expect(vars.fwgen_pfsense_alias_prefix).toBe(`fwgen_${siteTag('acme-site')}_`);
    const aliases = doc.pfsense.aliases.alias.map((a: { name: string; descr: string }) => [a.name, a.descr]);
    expect(vars.fwgen_pfsense_aliases.map((a: { name: string; descr: string }) => [a.name, a.descr])).toEqual(aliases);
    for (const [name, descr] of aliases) {
      expect(name.startsWith(vars.fwgen_pfsense_alias_prefix)).toBe(true);
      expect(descr.startsWith(vars.fwgen_pfsense_rule_prefix)).toBe(true);
    }
  });

  test('a line shift in the catalog renames nothing', async () => {
    const before = await renderBoth();
    const after = await renderBoth('# a comment that moves every line down\n\n');
    expect(after.vars).toEqual(before.vars);
  });
});
