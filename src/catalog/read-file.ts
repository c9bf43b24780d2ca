import * as fs from 'node:fs';
import { FileError } from '../errors';
import { describeCode } from '../fs/errors';
import { displayPath } from '../paths';
import { checkFileName } from './name-rule';
import { YamlSource } from './yaml-source';

/** Reads and parses a YAML file; locations name it relative to `base` (see displayPath). */
export function readYaml(file: string, base?: string): YamlSource {
  // The name as shown becomes every location, origin and header that cites the file.
  const shown = displayPath(file, base);
  checkFileName(shown);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new FileError(shown, `cannot read: ${describeCode((err as NodeJS.ErrnoException).code)}`);
  }
  return YamlSource.parse(shown, text);
}

export function yamlFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !/\.lock\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);
}
