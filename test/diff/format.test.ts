import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatMarkdown, formatText, type ChangeSet } from '../../src/diff';
import { cmarkGfm, withTool } from '../conformance/validators';
import { repoRoot } from '../helpers';

const cs: ChangeSet = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/golden/diff/widen-list.json'), 'utf8'));

describe('diff formats', () => {
  test('text has colour only when asked (a terminal without NO_COLOR)', () => {
    expect(formatText(cs, true)).toMatch(/\u001b\[32m\+198\.51\.100\.128\/25\u001b\[0m/);
    expect(formatText(cs, false)).not.toMatch(/\u001b/);
    expect(formatText(cs, false)).toContain('addresses: +10.0.0.0/8 +198.51.100.128/25');
  });

  test('values from the catalog cannot break out of markdown, HTML or the Mermaid graph', () => {
    const hostile: ChangeSet = JSON.parse(JSON.stringify(cs));
    const site = hostile.sites[0]!;
    site.site = 'a</code><script>x</script>|b';
    site.flows[0]!.serviceName = 'API](https://evil.example) `x` <img src=x>';
    site.edges[0]!.to = 'vendor"] --> evil["x';
    const md = formatMarkdown(hostile);
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('<img');
    expect(md).toContain('API\\](https\\://evil.example)'); // the bracket is escaped: no link
    expect(md).toContain('&#60;/code&#62;&#60;script&#62;');
    expect(md).not.toMatch(/\["vendor"\]/);
    const text = formatText({ ...hostile, sites: [{ ...site, site: 'x\u001b[2Jy' }] }, false);
    expect(text).not.toContain('\u001b');
  });
});

describe('the pull-request comment as GitHub renders it', () => {
  /** Text outside <code>, <pre> and <a>: where GitHub makes mentions and issue links. */
  const plainText = (html: string) => html.replace(/<(code|pre|a)\b[^>]*>[\s\S]*?<\/\1>/g, '').replace(/<[^>]+>/g, '');

  withTool('cmark-gfm')('catalog text opens no emphasis, link, mention or cell, and a vendor URL stays one link', () => {
    const hostile: ChangeSet = JSON.parse(JSON.stringify(cs));
    const site = hostile.sites[0]!;
    const flow = site.flows[0]!;
    site.site = '**bold-site** @org/team _x_';
    flow.vendor = '**Bold vendor** ~~gone~~ @acme/security-team #12 see https://evil.example and www.evil.example';
    flow.serviceName = 'API | cell\nnext line\r\u2028![img](https://evil.example/i.png)';
    flow.requirement = 'required';
    flow.origins = ['catalog/vendors/x.yaml:3:1 **o** @ops'];
    flow.page = { vendor: 'acme', title: 'Page (v2) [draft] @vendor', url: 'https://vendor.example/docs/a_(b)/c*d%20e?x=1)[evil](https://evil.example', cite: '*cited* @cite' };
    hostile.flags[0]!.message = 'widens to **any** @everyone';
    hostile.lists = [{ id: 'cdn', before: { recorded: '2026-01-01 **x** @y' }, after: { recorded: '2026-02-01' } } as ChangeSet['lists'][number]];
    const rendered = cmarkGfm(formatMarkdown(hostile));
    expect(rendered.ok).toBe(true);
    const html = rendered.output;
    // Only fwgen's own bold (flag titles and change kinds) remains.
    const strong = [...html.matchAll(/<strong>([^<]*)<\/strong>/g)].map((m) => m[1]);
    const ours = new Set(["added", "removed", "widened", "narrowed", "changed", "any address", "new inbound", "wide prefix", "wide port range", "required flow removed", "target limit", "name unresolved", "name stale", "list source moved"]);
    expect(strong.filter((t) => !ours.has(t!))).toEqual([]);
    expect(html).not.toMatch(/<(em|del|img)\b/);
    // One link: the vendor page, its whole URL inside the destination.
    const links = [...html.matchAll(/<a href="([^"]*)"/g)].map((m) => m[1]);
    expect(links).toEqual(['https://vendor.example/docs/a_%28b%29/c*d%20e?x=1%29%5Bevil%5D%28https://evil.example']);
    expect(plainText(html)).not.toMatch(/[@#][A-Za-z0-9]/);
    // The table keeps its nine columns on every row.
    const row = html.match(/<tbody>\s*<tr>([\s\S]*?)<\/tr>/)![1]!;
    expect(row.match(/<td/g)!.length).toBe(9);
    // What the reader sees is the text itself.
    expect(html).toContain('**Bold vendor**');
    expect(html).toContain('API | cell next line');
  });
});

describe('markdown for a large fleet', () => {
  test('fits a GitHub comment (65,536 characters), flagged sites first, the rest counted', () => {
    const site = cs.sites[0]!;
    const big: ChangeSet = {
      ...cs,
      sites: Array.from({ length: 1000 }, (_, i) => ({ ...site, site: `store-${String(i).padStart(4, '0')}` })),
      flags: Array.from({ length: 1000 }, (_, i) => ({ ...cs.flags[0]!, site: `store-${String(999 - i).padStart(4, '0')}` })).slice(0, 500),
    };
    const md = formatMarkdown(big);
    expect(md.length).toBeLessThan(65_536);
    expect(md).toContain('…and 900 more sites;');
    expect(md).toContain('…and 440 more flags;');
    expect(md).toMatch(/more sites with changes;/);
    // store-0999 … store-0500 carry flags: they lead the table.
    expect(md).toContain('| <code>store-0500</code> |');
    expect(md).not.toContain('<code>store-0000</code>');
  });
});
