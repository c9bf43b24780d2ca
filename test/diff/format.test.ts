import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatMarkdown, formatText, type ChangeSet } from '../../src/diff';
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
    expect(md).toContain('API\\](https://evil.example)'); // the bracket is escaped: no link
    expect(md).toContain('&lt;/code&gt;&lt;script&gt;');
    expect(md).not.toMatch(/\["vendor"\]/);
    const text = formatText({ ...hostile, sites: [{ ...site, site: 'x\u001b[2Jy' }] }, false);
    expect(text).not.toContain('\u001b');
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
