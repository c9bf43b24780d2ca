import * as fs from 'node:fs';
import * as path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { oneLine, psString } from '../../src/targets/escape';
import { tempCatalog, tempDir } from '../helpers';
import { conformanceTests } from './conform';
import { parsePowerShell } from './powershell';
import { filesOf, renderToTemp } from './render-helpers';

/** Everything that means something in shell, XML, PowerShell, JSON, nft or iptables. */
const NASTY =
  `It's "quoted" \\back\\slash\nnew line $(touch /tmp/fwgen-pwned) \`whoami\` ; rm -rf / <tag attr='1'> & ]]> -- */ ` +
  `\u2018curly\u2019 \u201alow\u201b #> ` +
  'x'.repeat(300);

/** The same for fields that reach a single line of output: line breaks are refused there. */
const NASTY_LINE = NASTY.replace(/\n/g, ' ');

const q = (s: string) => JSON.stringify(s); // YAML reads JSON strings as they are

const vendor = `vendor:
  id: acme
  name: ${q(`Acme ${NASTY_LINE}`)}
  source:
    title: ${q(NASTY_LINE)}
    seed: test.txt
  notes: [${q(NASTY)}]
services:
  - id: api
    name: ${q(`API ${NASTY_LINE}`)}
    purpose: [${q(NASTY)}]
    requirement: required
    deviceClasses: [pos-terminal]
    notes: [${q(NASTY)}]
    flows:
      - direction: both
        protocol: tcp
        ports: [443, "5000-5010"]
        addresses: [192.0.2.0/24, "2001:db8::/32"]
        notes: [${q(NASTY)}]
  - id: app
    name: ${q(`App ${NASTY_LINE}`)}
    requirement: required
    deviceClasses: [pos-terminal]
    flows:
      - direction: outbound
        programs: [${q(`C:\\Vendor's $(x) \u2019q\u2019\\app; del "y".exe`)}]
`;

const deviceClasses = `deviceClasses:
  - id: pos-terminal
    name: ${q(`Till ${NASTY_LINE}`)}
    description: ${q(NASTY)}
    os: any
`;

const profile = `profile:
  name: nasty
  description: ${q(NASTY)}
region: eu
environment: production
vendors:
  acme:
deviceClasses:
  pos-terminal:
    addresses: [10.0.0.0/24, "2001:db8:1::/64"]
targets:
  windows:
    group: fwgen nasty
acknowledge:
  - { check: management-access, deviceClass: pos-terminal, reason: ${q(NASTY_LINE)} }
`;

describe('catalog values never break out of the string they are printed in', () => {
  let dir = '';
  beforeAll(() => {
    const catalog = tempCatalog({ 'acme.yaml': vendor }, { 'device-classes.yaml': deviceClasses });
    // The profile's own path is printed in headers: give it quotes, $() and a space too.
    const siteDir = path.join(tempDir(), `site 'a' "b" $(c);d`);
    fs.mkdirSync(siteDir);
    fs.writeFileSync(path.join(siteDir, 'nasty.yaml'), profile);
    dir = renderToTemp(path.join(siteDir, 'nasty.yaml'), catalog).dir;
  });

  conformanceTests('escaping catalog', () => dir, { networkFirewall: false });

  test('PowerShell: display names and program paths are single string literals holding the whole value', async () => {
    const [file] = filesOf(dir, 'windows', /\.ps1$/);
    const parsed = await parsePowerShell(fs.readFileSync(file!, 'utf8'));
    expect(parsed.errors).toEqual([]);
    expect(parsed.strings).toContain(psString(oneLine(`fwgen Acme ${NASTY_LINE}: API ${NASTY_LINE} (outbound tcp)`)));
    expect(parsed.strings).toContain(psString(`C:\\Vendor's $(x) \u2019q\u2019\\app; del "y".exe`));
    // Every single quote and its look-alikes arrive doubled.
    expect(psString("a'b\u2018c\u2019d\u201ae\u201bf")).toBe("'a''b\u2018\u2018c\u2019\u2019d\u201a\u201ae\u201b\u201bf'");
  });

  test('pfSense: descriptions keep their text as XML character data, without backslashes', () => {
    const [file] = filesOf(dir, 'pfsense', /\.xml$/);
    const doc = new XMLParser({ isArray: (n) => ['alias', 'rule'].includes(n), parseTagValue: false }).parse(fs.readFileSync(file!, 'utf8'));
    const descrs: string[] = doc.pfsense.aliases.alias.map((a: { descr: string }) => String(a.descr));
    const acme = descrs.find((d) => d.startsWith('fwgen nasty: Acme'))!;
    expect(acme).toContain(`$(touch /tmp/fwgen-pwned) \`whoami\` ; rm -rf / <tag attr='1'> & ]]> -- */`);
    expect(acme).not.toContain('\\');
    expect(acme.length).toBeLessThanOrEqual(200);
    // Two pass rules, then the block of LAN sources in no device class.
    expect(doc.pfsense.filter.rule.map((r: { type: string }) => r.type)).toEqual(['pass', 'pass', 'block']);
  });

  test('AWS: every description is within AWS\'s character set and 255 characters', () => {
    const allowed = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;
    for (const f of filesOf(dir, 'aws', /\.json$/)) {
      const text = fs.readFileSync(f, 'utf8');
      const descriptions = [...text.matchAll(/"(?:Description|GroupDescription)": ("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!) as string);
      expect(descriptions.length).toBeGreaterThan(0);
      for (const d of descriptions.filter((x) => !x.startsWith('fwgen security groups for profile'))) expect(d).toMatch(allowed);
    }
  });

  test('nftables and iptables: comments hold no quote or backslash and stay within their limits', () => {
    for (const f of [...filesOf(dir, 'nftables', /\.nft$/), ...filesOf(dir, 'iptables', /rules\.v[46]$/)]) {
      for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
        const m = /comment "([^"]*)"/.exec(line);
        if (m) {
          expect(m[1]).not.toMatch(/["\\]/);
          expect(m[1]!.length).toBeLessThanOrEqual(f.endsWith('.nft') ? 128 : 255);
        }
        if (line.startsWith('#')) expect(line).not.toContain('\n');
      }
    }
  });
});
