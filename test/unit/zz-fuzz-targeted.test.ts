import * as fs from 'node:fs';
import { compareReaders } from './yaml-compare';
const cases: string[] = JSON.parse(fs.readFileSync('/tmp/fz/cases.json', 'utf8'));
test('targeted', () => {
  const out: string[] = [];
  for (const t of cases) {
    let r;
    try { r = compareReaders(t); } catch (e) { out.push(`THROW ${JSON.stringify(t)} ${(e as Error).message}`); continue; }
    out.push(`${r.diffs.length ? 'DIFF' : 'ok  '} ${r.reader} ${JSON.stringify(t)}${r.diffs.length ? '\n    ' + r.diffs.slice(0, 3).join('\n    ') : ''}`);
  }
  fs.writeFileSync('/tmp/fz/targeted.out', out.join('\n') + '\n');
});
