import Handlebars from 'handlebars';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors';
import { createNew, fileSystemError, LinkGuard, makeFolder, makeFoldersBelow } from '../fs';
import { displayPath, templatesDir } from '../util/paths';
import { WORKSPACE_FILE } from '../site/workspace-file';

export interface InitOptions {
  /** The first site's name (its profile is sites/<site>.yaml). */
  site: string;
  /** The branch pull requests go to. */
  defaultBranch: string;
  /** Where editors find fwgen's schemas, relative to the workspace root. */
  schemaDir: string;
  /** How many parallel jobs the CI recipes check the sites in (fwgen check --shard K/N); 2 when not said. */
  shards?: number;
}

/** GitLab's parallel: takes 1 to 200 jobs (before GitLab 16, 2 to 200: hence the default of 2). */
export const MAX_INIT_SHARDS = 200;
const DEFAULT_SHARDS = 2;

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
  const shards = o.shards ?? DEFAULT_SHARDS;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_INIT_SHARDS) throw new FileError(String(shards), `the CI recipes take 1 to ${MAX_INIT_SHARDS} shards`);
  const view = { ...o, shards, shardList: Array.from({ length: shards }, (_, i) => i + 1).join(', ') };
  const hbs = Handlebars.create();
  return FILES.map((f) => ({
    path: f.path(o),
    content: hbs.compile(fs.readFileSync(path.join(templatesDir, 'init', f.template), 'utf8'), { noEscape: true, strict: true })(view),
  }));
}

/**
 * Writes a new workspace into `dir` (created when missing); refuses, writing nothing, when
 * any of its files is there (a link counts, even one that leads nowhere). Every folder is
 * made and every file created new, never through a link.
 */
export function writeInit(dir: string, files: Array<{ path: string; content: string }>): string[] {
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new FileError(displayPath(dir), 'not a folder; fwgen init makes a workspace in a folder (created when missing)');
  const guard = new LinkGuard(path.resolve(dir));
  const present = (rel: string) => {
    if (path.posix.dirname(rel) !== '.') guard.check(path.posix.dirname(rel)); // a linked folder on the way is refused
    return fs.lstatSync(path.join(guard.top, rel), { throwIfNoEntry: false }) !== undefined;
  };
  const taken = files.filter((f) => present(f.path)).map((f) => f.path);
  if (taken.length > 0) throw new FileError(displayPath(dir), `already holds ${taken.join(', ')}; fwgen init only writes into a folder without them`);
  try {
    makeFolder(guard.top);
    for (const f of files) {
      makeFoldersBelow(guard, path.posix.dirname(f.path));
      createNew(path.join(guard.top, f.path), f.content);
    }
  } catch (err) {
    throw fileSystemError(err, 'the workspace is not complete: remove what was written and run fwgen init again', dir);
  }
  return files.map((f) => f.path);
}
