/**
 * Options under `targets:` in a profile: for a target the site does not render they change
 * nothing, and validate and render say so at the options; a target fwgen does not know is an
 * error at its name. Run with the real binary on files in a temporary folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { catalogRoot, repoRoot, runBinary } from '../helpers';
import { listText, lockText, siteText, vendorText, writeTree } from '../diff/fixture';
import { storesWorkspace } from '../fleet/stores';

/** 1-based line of the first line of `text` that is exactly `line`. */
function lineOf(text: string, line: string): number {
  const at = text.split('\n').indexOf(line);
  if (at < 0) throw new Error(`no line '${line}'`);
  return at + 1;
}

const ownOptions = 'targets:\n  nftables:\n    table: store\n  pfsense:\n    interface: lan\n  windows:\n    group: fwgen store\n';

/** A workspace whose fwgen.yaml gives the sites' targets; store-1 sets options for pfSense and Windows too. */
const workspace = (site = siteText.concat(ownOptions)) => storesWorkspace({ 'store-1': site });

const warningFor = (file: string, text: string, target: string, list: string, listAt: string) =>
  `${file}:${lineOf(text, `  ${target}:`)}:3: warning: [policy] targets.${target}: options for ${target}, a target this site does not use ` +
  `(its targets: ${list}, at ${listAt}); they are ignored. Add ${target} to that list, or remove these options\n`;

describe('options of a target the site does not use', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build`');
  });

  test("a workspace site: validate and render warn at each ignored target's options, naming fwgen.yaml's list; the used target's options pass", () => {
    const text = siteText.concat(ownOptions);
    const root = workspace(text);
    const expected = ['pfsense', 'windows'].map((t) => warningFor('sites/store-1.yaml', text, t, 'nftables, ansible', 'fwgen.yaml:4:10'));

    const validate = runBinary(['validate'], root);
    expect(validate.status).toBe(0);
    expect(validate.stdout).toMatch(/^ok: /);
    expect(validate.stderr.split('\n').filter((l) => l.includes('targets.')).map((l) => `${l}\n`)).toEqual(expected);

    const render = runBinary(['render'], root);
    expect(render.status).toBe(0);
    for (const w of expected) expect(render.stderr).toContain(`store-1: ${w}`);
    expect(render.stderr).not.toContain('targets.nftables');
    expect(fs.readdirSync(path.join(root, 'out', 'store-1')).sort()).toEqual(['ansible', 'inputs.json', 'nftables', 'policy.json']);
    // The used target's option took effect.
    expect(fs.readFileSync(path.join(root, 'out', 'store-1', 'nftables', 'pos-terminal.nft'), 'utf8')).toMatch(/^table inet store \{\}$/m);
  });

  test("a profile's own list, outside a workspace: the warning names where profile.targets is", () => {
    const text = siteText.replace('  name: store-1\n', '  name: store-1\n  targets: [pfsense]\n').concat('targets:\n  iptables:\n    mode: gateway\n  pfsense:\n    interface: lan\n');
    const root = writeTree({ 'catalog/vendors/acme.yaml': vendorText, 'catalog/lists/acme-edge.yaml': listText, 'site.yaml': text, 'site.lock.yaml': lockText('203.0.113.10') });
    fs.copyFileSync(path.join(catalogRoot, 'device-classes.yaml'), path.join(root, 'catalog', 'device-classes.yaml'));
    const expected = warningFor('site.yaml', text, 'iptables', 'pfsense', 'site.yaml:3:12');
    for (const args of [['validate', '--catalog', 'catalog', 'site.yaml'], ['render', '--catalog', 'catalog', '-p', 'site.yaml']]) {
      const r = runBinary(args, root);
      expect({ args, status: r.status }).toEqual({ args, status: 0 });
      expect(r.stderr).toContain(expected);
      expect(r.stderr).not.toContain('targets.pfsense');
    }
    expect(fs.readdirSync(path.join(root, 'out', 'store-1')).sort()).toEqual(['pfsense', 'policy.json']);
  });

  test('no list of targets: every target is used, no option is ignored', () => {
    const root = workspace();
    fs.writeFileSync(path.join(root, 'fwgen.yaml'), 'sites: [sites/*.yaml]\ncatalog: [own]\noutput: out\n');
    const r = runBinary(['validate'], root);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('targets.');
  });

  test('an unknown target under targets: is an error at its name, for validate and render; nothing is written', () => {
    const text = siteText.concat('targets:\n  nftables:\n    table: store\n  pfsens:\n    interface: lan\n');
    const root = workspace(text);
    const error = `sites/store-1.yaml:${lineOf(text, '  pfsens:')}:3: targets.pfsens: unknown field 'pfsens'\n`;
    for (const args of [['validate'], ['render']]) {
      const r = runBinary(args, root);
      expect({ args, status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, status: 1, stdout: '', stderr: `${error}fwgen: 1 problem; nothing was written\n` });
    }
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });

  test("a host firewall target the site does not render cannot lock its admins out", () => {
    // The shipped shop example without its answer for the back-office PC's Windows firewall:
    // refused while the site renders Windows, rendered once it uses pfSense only.
    const example = fs.readFileSync(path.join(repoRoot, 'examples', 'shop-payxpert-sunmi.yaml'), 'utf8');
    const unanswered = example.replace(/^acknowledge:\n(?: .*\n)+/m, '');
    expect(unanswered).not.toContain('acknowledge:');
    const root = writeTree({ 'shop.yaml': unanswered, 'shop.lock.yaml': fs.readFileSync(path.join(repoRoot, 'examples', 'shop-payxpert-sunmi.lock.yaml'), 'utf8') });
    const withWindows = runBinary(['render', '-p', 'shop.yaml', '-t', 'pfsense'], root);
    expect(withWindows.status).toBe(1);
    expect(withWindows.stderr).toContain("management-access: back-office-pc's host firewall (windows) drops what it does not allow");

    fs.writeFileSync(path.join(root, 'shop.yaml'), unanswered.replace('  name: shop-payxpert-sunmi\n', '  name: shop-payxpert-sunmi\n  targets: [pfsense]\n'));
    const pfsenseOnly = runBinary(['render', '-p', 'shop.yaml'], root);
    expect(pfsenseOnly.status).toBe(0);
    expect(pfsenseOnly.stderr).not.toContain('management-access');
    expect(fs.readdirSync(path.join(root, 'out', 'shop-payxpert-sunmi')).sort()).toEqual(['pfsense', 'policy.json']);
  });
});
