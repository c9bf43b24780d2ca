import Handlebars from 'handlebars';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors';
import { templatesDir } from '../paths';
import { WORKSPACE_FILE } from './config';

export interface InitOptions {
  /** The first site's name (its profile is sites/<site>.yaml). */
  site: string;
  /** The branch pull requests go to. */
  defaultBranch: string;
  /** Where editors find fwgen's schemas, relative to the workspace root. */
  schemaDir: string;
}

/** Which template becomes which file of a new workspace. */
const FILES: Array<{ template: string; path: (o: InitOptions) => string }> = [
  { template: 'fwgen.yaml.hbs', path: () => WORKSPACE_FILE },
  { template: 'site.yaml.hbs', path: (o) => `sites/${o.site}.yaml` },
  { template: 'catalog-vendors-README.md.hbs', path: () => 'catalog/vendors/README.md' },
  { template: 'gitignore.hbs', path: () => '.gitignore' },
  { template: 'gitattributes.hbs', path: () => '.gitattributes' },
  { template: 'github/fwgen.yml.hbs', path: () => '.github/workflows/fwgen.yml' },
  { template: 'github/fwgen-refresh.yml.hbs', path: () => '.github/workflows/fwgen-refresh.yml' },
  { template: 'gitlab/gitlab-ci.yml.hbs', path: () => '.gitlab-ci.yml' },
];

const SITE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The files of a new workspace, in memory. */
export function initFiles(o: InitOptions): Array<{ path: string; content: string }> {
  if (!SITE_NAME.test(o.site)) throw new FileError(o.site, 'a site name is lower-case letters, digits and dashes');
  if (!/^[A-Za-z0-9._/-]+$/.test(o.defaultBranch)) throw new FileError(o.defaultBranch, 'not a branch name');
  const hbs = Handlebars.create();
  return FILES.map((f) => ({
    path: f.path(o),
    content: hbs.compile(fs.readFileSync(path.join(templatesDir, 'init', f.template), 'utf8'), { noEscape: true, strict: true })(o),
  }));
}

/** Writes a new workspace into `dir`; refuses, writing nothing, when any of its files exists. */
export function writeInit(dir: string, files: Array<{ path: string; content: string }>): string[] {
  const taken = files.filter((f) => fs.existsSync(path.join(dir, f.path))).map((f) => f.path);
  if (taken.length > 0) throw new FileError(dir, `already holds ${taken.join(', ')}; fwgen init only writes into a folder without them`);
  for (const f of files) {
    const full = path.join(dir, f.path);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, f.content, { flag: 'wx' });
  }
  return files.map((f) => f.path);
}
