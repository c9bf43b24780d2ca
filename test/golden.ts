import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Compares text with a committed golden file. A missing or different golden fails and
 * leaves the actual text beside it as <file>.actual; UPDATE_GOLDEN=1 rewrites goldens.
 */
export function expectGolden(file: string, actual: string): void {
  const actualFile = `${file}.actual`;
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    fs.rmSync(actualFile, { force: true });
    return;
  }
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(actualFile, actual);
    throw new Error(`golden file ${file} is missing; the actual output is in ${actualFile} (review it, then run with UPDATE_GOLDEN=1)`);
  }
  const expected = fs.readFileSync(file, 'utf8');
  if (expected !== actual) fs.writeFileSync(actualFile, actual);
  else fs.rmSync(actualFile, { force: true });
  expect(actual).toBe(expected);
}
