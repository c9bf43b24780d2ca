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
