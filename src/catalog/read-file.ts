import * as fs from 'node:fs';
import { FileError } from '../errors';
import { describeCode } from '../fs/errors';
import { displayPath } from '../paths';
import { YamlSource } from './yaml-source';

/** Reads and parses a YAML file; locations name it relative to `base` (see displayPath). */
export function readYaml(file: string, base?: string): YamlSource {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new FileError(displayPath(file, base), `cannot read: ${describeCode((err as NodeJS.ErrnoException).code)}`);
  }
  return YamlSource.parse(displayPath(file, base), text);
}

export function yamlFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !/\.lock\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);
}
