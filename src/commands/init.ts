import * as path from 'node:path';
import type { Argv } from 'yargs';
import { EXIT, type Args, type Io } from './command';
import { initLib } from './libraries';
import { checkWholeNumbers } from './options';

export function builder(y: Argv) {
  return y
    .positional('dir', { type: 'string', default: '.', describe: 'the folder (created when missing)' })
    .option('site', { type: 'string', default: 'store-001', describe: "the first site's name (sites/<site>.yaml)" })
    .option('default-branch', { type: 'string', default: 'main', describe: 'the branch pull requests go to' })
    .option('shards', { type: 'number', default: 2, describe: 'parallel CI jobs that check the sites (a matrix of fwgen check --shard K/N); raise it as the fleet grows' })
    .example('npm i -D fwgen && npx fwgen init', 'a workspace in this folder, fwgen as a dev dependency')
    .example('$0 init fleet --site store-0001', 'in a new folder');
}

export function handler(a: Args, io: Io): number {
  checkWholeNumbers(a, [['shards', 1]]);
  const dir = path.resolve(a.dir as string);
  const written = initLib.writeInit(
    dir,
    initLib.initFiles({ site: a.site as string, defaultBranch: a.defaultBranch as string, schemaDir: 'node_modules/fwgen/catalog/schema', shards: a.shards as number }),
  );
  for (const f of written) io.err(`wrote ${path.join(a.dir as string, f)}\n`);
  io.out(
    [
      `Workspace ready in ${a.dir === '.' ? 'this folder' : a.dir}. Next:`,
      `  edit sites/${a.site}.yaml (addresses, vendors), add a file per site`,
      "  npx fwgen resolve      # pin the vendors' host names in lock files",
      '  npx fwgen render       # write out/<site>/<target>/',
      '  git add -A && git commit -m "fwgen workspace"',
      'CI (.github/workflows, .gitlab-ci.yml) runs fwgen check and posts fwgen diff on pull requests.',
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
