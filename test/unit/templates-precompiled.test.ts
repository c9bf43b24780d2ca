/**
 * The build compiles each target template ahead (dist/targets/compiled-templates). A run uses
 * it only while its digest matches the template text, and it must print exactly what the
 * template compiled at run time prints.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSite } from '../../src/render/site';
import { resolveOptions } from '../../src/targets/options';
import { targets } from '../../src/targets/registry';
import { compileTemplate, precompiledTemplate, targetTemplates, template } from '../../src/targets/templates';
import { catalogRoot, examplesRoot, repoRoot, tempDir } from '../helpers';

const built = path.join(repoRoot, 'dist', 'targets', 'compiled-templates');
const templateText = (rel: string) => fs.readFileSync(path.join(repoRoot, 'templates', rel), 'utf8');
const examples = fs.readdirSync(examplesRoot).filter((f) => f.endsWith('.yaml') && !f.endsWith('.lock.yaml'));

describe('templates compiled by the build', () => {
  test('every target has its templates compiled', () => {
    const rels = targetTemplates();
    for (const t of targets) expect(rels.some((r) => r.startsWith(`${t.id}/`))).toBe(true);
    for (const rel of rels) expect(fs.existsSync(path.join(built, `${rel}.js`))).toBe(true);
  });

  test.each(targetTemplates())('%s: used for the current text, never for a changed one', (rel) => {
    const text = templateText(rel);
    expect(precompiledTemplate(rel, text, built)).toBeInstanceOf(Function);
    expect(precompiledTemplate(rel, `${text}{{! changed }}`, built)).toBeUndefined();
    expect(precompiledTemplate(rel, text, tempDir())).toBeUndefined();
  });

  test('code compiled by another Handlebars (another compiler revision) is not used', () => {
    const rel = 'nftables/ruleset.nft.hbs';
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'nftables'));
    const compiled = fs.readFileSync(path.join(built, `${rel}.js`), 'utf8');
    expect(compiled).toMatch(/revision: \d+,/);
    fs.writeFileSync(path.join(dir, `${rel}.js`), compiled.replace(/revision: \d+,/, 'revision: 1,'));
    expect(precompiledTemplate(rel, templateText(rel), dir)).toBeUndefined();
    fs.writeFileSync(path.join(dir, `${rel}.js`), compiled.replace(/revision: \d+,/, ''));
    expect(precompiledTemplate(rel, templateText(rel), dir)).toBeUndefined();
  });

  test('a template changed since the build is compiled from its new text', () => {
    const rel = 'nftables/ruleset.nft.hbs';
    const changed = `# changed\n${templateText(rel)}`;
    expect(precompiledTemplate(rel, changed, built)).toBeUndefined();
    const view = { never: 'read' };
    expect(() => compileTemplate(changed)(view)).toThrow(/not defined in/);
    expect(compileTemplate('{{#each xs}}<{{this}}>\n{{/each}}')({ xs: ['a&b', '"c"'] })).toBe('<a&b>\n<"c">\n');
  });

  test.each(examples)('%s: every file prints the same bytes from either', (file) => {
    const { policy } = renderSite(catalogRoot, path.join(examplesRoot, file), []);
    let files = 0;
    for (const target of targets) {
      const o = resolveOptions(target.options, policy.profile.targets?.[target.id], policy);
      for (const f of target.files(policy, o)) {
        const rel = `${target.id}/${f.template}`;
        const view = target.view(policy, o, f);
        const ahead = precompiledTemplate(rel, templateText(rel), built)!;
        expect(ahead(view)).toBe(compileTemplate(templateText(rel))(view));
        expect(template(target.id, f.template)(view)).toBe(ahead(view));
        files++;
      }
    }
    expect(files).toBeGreaterThan(0);
  });
});
