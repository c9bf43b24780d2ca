import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatIssue, InputError } from '../../src/errors';
import { hostNameProblem } from '../../src/net/host-names';
import { renderSite } from '../../src/render/site';
import type { RenderedFile } from '../../src/targets/render';
import { targets } from '../../src/targets/registry';
import { codePoint } from '../../src/util/unsafe-chars';
import { FWGEN_PS_COMMANDS, parsePowerShell } from '../conformance/powershell';
import { pfsenseStructure, required, tools } from '../conformance/validators';
import { catalogRoot, tempDir } from '../helpers';
import { awsAll, cfnLintAll, distinct, dnsmasqAll, findFiles, iptablesAll, nftAll, xmllintAll } from './batch';
import { deviceClassesYaml, FIELDS, hostileTexts, lockYaml, looseName, plainTexts, profileYaml, UNSAFE, vendorYaml, type Texts } from './inputs';
import { shapeOf } from './structure';

/** Generated cases per property; CI runs the default, FWGEN_HOSTILE_RUNS=5000 digs deeper. */
const RUNS = Number(process.env.FWGEN_HOSTILE_RUNS ?? 200);
/** cfn-lint takes seconds per call: it sees the control and a sample of the hostile templates. */
const CFN_SAMPLE = Math.min(RUNS, 3);

const root = tempDir('fwgen-hostile-');
let caseNo = 0;

/** Writes a catalog, profile and lock for the texts and renders every target in memory. */
function render(texts: Texts, host: string): { files: RenderedFile[]; dir: string } {
  const dir = path.join(root, String(caseNo++));
  fs.mkdirSync(path.join(dir, 'catalog', 'vendors'), { recursive: true });
  fs.cpSync(path.join(catalogRoot, 'lists'), path.join(dir, 'catalog', 'lists'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'catalog', 'device-classes.yaml'), deviceClassesYaml(texts));
  fs.writeFileSync(path.join(dir, 'catalog', 'vendors', 'acme.yaml'), vendorYaml(texts));
  fs.writeFileSync(path.join(dir, 'hostile.yaml'), profileYaml(texts, host));
  fs.writeFileSync(path.join(dir, 'hostile.lock.yaml'), lockYaml(host));
  const result = renderSite(path.join(dir, 'catalog'), path.join(dir, 'hostile.yaml'), targets);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
  return { files: result.files, dir };
}

function writeOut(r: { files: RenderedFile[]; dir: string }): void {
  for (const f of r.files) {
    const file = path.join(r.dir, 'out', f.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, f.content);
  }
}

/** Each file's shape; the case's own folder (in headers and metadata) is not the input under test. */
const shapes = (r: { files: RenderedFile[]; dir: string }) => new Map(r.files.map((f) => [f.path, shapeOf(f.path, f.content.split(r.dir).join('CASE'))]));

/** Every rendered file of every case through the tool that applies it, batched and in parallel. */
async function realTools(outDirs: string[], scratch: string): Promise<Record<string, string>> {
  const all = (re: RegExp) => distinct(outDirs.flatMap((d) => findFiles(d, re)));
  const iptablesDirs = distinct(
    outDirs.flatMap((d) => findFiles(d, /^rules\.v4$/)).map(path.dirname),
    (d) => ['ipsets', 'rules.v4', 'rules.v6'].map((f) => (fs.existsSync(path.join(d, f)) ? fs.readFileSync(path.join(d, f), 'utf8') : '')).join('\0'),
  );
  const has = (tool: keyof typeof tools): boolean => {
    if (tools[tool]) return true;
    if (required) throw new Error(`validator '${tool}' is missing but FWGEN_REQUIRE_VALIDATORS=1: .ci/run must install it`);
    return false;
  };
  const checks: Record<string, Promise<string>> = {
    nft: has('nft') ? nftAll(all(/\.nft$/), scratch) : Promise.resolve(''),
    iptables: has('iptables') ? iptablesAll(iptablesDirs) : Promise.resolve(''),
    dnsmasq: has('dnsmasq') ? dnsmasqAll(all(/dnsmasq\.conf$/), scratch) : Promise.resolve(''),
    xmllint: has('xmllint') ? xmllintAll(all(/\.xml$/)) : Promise.resolve(''),
    ingress: has('botocore') ? awsAll('ec2-ingress', all(/\.ingress\.json$/)) : Promise.resolve(''),
    egress: has('botocore') ? awsAll('ec2-egress', all(/\.egress\.json$/)) : Promise.resolve(''),
    networkFirewall: has('botocore') ? awsAll('network-firewall-rule-group', all(/network-firewall\.rule-group\.json$/)) : Promise.resolve(''),
    cfnLint: has('cfn-lint') ? cfnLintAll(all(/\.cfn\.json$/).slice(0, CFN_SAMPLE)) : Promise.resolve(''),
  };
  const ps: string[] = [];
  for (const f of all(/\.ps1$/)) {
    const parsed = await parsePowerShell(fs.readFileSync(f, 'utf8'));
    const foreign = parsed.commands.filter((c) => !FWGEN_PS_COMMANDS.has(c));
    if (parsed.errors.length + foreign.length > 0) ps.push(`${f}: ${[...parsed.errors, ...foreign].join('; ')}`);
  }
  const pf = all(/\.xml$/).flatMap((f) => pfsenseStructure(fs.readFileSync(f, 'utf8')).map((p) => `${f}: ${p}`));
  const results: Record<string, string> = { powershell: ps.join('\n'), pfsenseRules: pf.join('\n') };
  for (const [k, v] of Object.entries(checks)) results[k] = await v;
  return results;
}

const clean = (r: Record<string, string>) => Object.fromEntries(Object.keys(r).map((k) => [k, '']));

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('hostile input: nothing a catalog or profile says escapes its string or changes a file\'s structure', () => {
  const control = render(plainTexts, 'svc.acme.example');
  /** The rendered cases, for the real tools at the end (one batch for all properties). */
  const outDirs: string[] = [];
  const controlShapes = shapes(control);

  test('the control run renders every target', () => {
    expect(new Set(control.files.map((f) => f.path.split('/')[1]))).toEqual(new Set(targets.map((t) => t.id)));
  });

  test(`hostile text in every free-text and name field (${RUNS} cases): same structure as the control`, () => {
    writeOut(control);
    outDirs.push(path.join(control.dir, 'out'));
    fc.assert(
      fc.property(hostileTexts, (texts) => {
        const r = render(texts, 'svc.acme.example');
        expect(shapes(r)).toEqual(controlShapes);
        writeOut(r);
        outDirs.push(path.join(r.dir, 'out'));
      }),
      { numRuns: RUNS },
    );
  });

  test(`a loose pattern lets anything through; only host names reach a rule (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(looseName, (host) => {
        const why = hostNameProblem(host.toLowerCase());
        if (why) {
          let error: unknown;
          try {
            render(plainTexts, host);
          } catch (err) {
            error = err;
          }
          expect(error).toBeInstanceOf(InputError);
          const [issue] = (error as InputError).issues;
          expect(issue!.loc.file).toMatch(/hostile\.yaml$/);
          expect(issue!.field).toBe('vendors.acme.variables.host');
          expect(issue!.message).toMatch(/which is not a host name|a name has at most 253/);
          return;
        }
        const r = render(plainTexts, host);
        if (!host.startsWith('*.')) {
          // Same files, each with as many lines as the control: the name added or removed nothing.
          expect([...shapes(r)].map(([p, s]) => [p, s.split('\n').length])).toEqual([...controlShapes].map(([p, s]) => [p, s.split('\n').length]));
        }
        writeOut(r);
        outDirs.push(path.join(r.dir, 'out'));
      }),
      { numRuns: RUNS },
    );
  });

  // Hundreds of folders through nft, iptables-restore, xmllint, botocore and cfn-lint: about 40 s
  // on a quiet runner, past jest's default minute when the runner is shared.
  test('the real tools accept every file rendered above (batched)', async () => {
    expect(outDirs.length).toBeGreaterThan(RUNS);
    const failures = await realTools(outDirs, root);
    expect(failures).toEqual(clean(failures));
  }, 240_000);

  test(`control, bidi and zero-width characters are refused in any field, with the location, printed escaped (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), fc.constantFrom(...UNSAFE), fc.nat(), (field, ch, at) => {
        const plain = plainTexts[field];
        const i = at % (plain.length + 1);
        const texts = { ...plainTexts, [field]: plain.slice(0, i) + ch + plain.slice(i) };
        let error: unknown;
        try {
          render(texts, 'svc.acme.example');
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(InputError);
        const issues = (error as InputError).issues;
        expect(issues.some((x) => x.message.includes(codePoint(ch)))).toBe(true);
        expect(issues.every((x) => /\.ya?ml$/.test(x.loc.file) && x.loc.line > 0)).toBe(true);
        expect(issues.map(formatIssue).join('\n')).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u);
      }),
      { numRuns: RUNS },
    );
  });
});
