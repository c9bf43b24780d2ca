import * as fs from 'node:fs';
import { FileError } from '../errors';
import { describeCode } from '../fs/errors';
import { displayPath } from '../util/paths';
import { checkFileName } from './name-rule';
import { YamlSource } from './yaml-source';

/** Reads and parses a YAML file; locations name it relative to `base` (see displayPath). */
export function readYaml(file: string, base?: string): YamlSource {
  return parseYamlBytes(file, readCatalogBytes(file, base), base);
}

/** A catalog or profile file's bytes; a file that cannot be read is named as messages name it. */
export function readCatalogBytes(file: string, base?: string): Buffer {
  const shown = displayPath(file, base);
  checkFileName(shown);
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new FileError(shown, `cannot read: ${describeCode((err as NodeJS.ErrnoException).code)}`);
  }
}

/** Parses a YAML file's bytes already read; locations name it as readYaml does. */
export function parseYamlBytes(file: string, bytes: Buffer, base?: string): YamlSource {
  // The name as shown becomes every location, origin and header that cites the file.
  const shown = displayPath(file, base);
  checkFileName(shown);
  return YamlSource.parse(shown, bytes.toString('utf8'));
}

export function yamlFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !/\.lock\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);
}
