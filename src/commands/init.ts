import * as path from 'node:path';
import type { Argv } from 'yargs';
import { EXIT, type Args, type Io } from './command';
import { invocationIn, shellWord } from './invocation';
import { initLib } from './libraries';
import { checkWholeNumbers } from './options';

export function builder(y: Argv) {
  return y
    .positional('dir', { type: 'string', default: '.', describe: 'the folder (created when missing); it must not hold any of the files init writes' })
    .option('site', { type: 'string', default: 'store-001', describe: "the first site's name (sites/<site>.yaml)" })
    .option('default-branch', { type: 'string', default: 'main', describe: 'the branch pull requests go to' })
    .option('shards', { type: 'number', default: 2, describe: 'parallel CI jobs that check the sites (a matrix of fwgen check --shard K/N); raise it as the fleet grows' })
    .example('npx fwgen init', 'a workspace in this folder')
    .example('npx fwgen init fleet --site store-0001', 'in a new folder fleet/')
    // `npm i -D fwgen` finds nothing: the README's install (The pull-request loop) is from Git or a tarball.
    .epilogue(
      "fwgen is not on the npm registry. First make it a dev dependency of the site repository, from its Git repository " +
        '(npm i -D git+https://git.example.com/tools/fwgen.git#v0.1.0) or from a tarball npm pack made (npm i -D ./vendor/fwgen-0.1.0.tgz): ' +
        "npx fwgen then runs it, and CI's npm ci installs it.",
    );
}

export function handler(a: Args, io: Io): number {
  checkWholeNumbers(a, [['shards', 1]]);
  const dir = path.resolve(a.dir as string);
  const written = initLib.writeInit(
    dir,
    initLib.initFiles({ site: a.site as string, defaultBranch: a.defaultBranch as string, schemaDir: 'node_modules/fwgen/catalog/schema', shards: a.shards as number }),
  );
  for (const f of written) io.err(`wrote ${path.join(a.dir as string, f)}\n`);
  const { command: fwgen, dependency } = invocationIn(dir);
  const here = a.dir === '.';
  io.out(
    [
      `Workspace ready in ${here ? 'this folder' : a.dir}. Next:`,
      ...(here ? [] : [`  cd ${shellWord(a.dir as string)}`]),
      `  edit sites/${a.site}.yaml (addresses, vendors), add a file per site`,
      `  ${fwgen} resolve      # pin the vendors' host names in lock files`,
      `  ${fwgen} render       # write out/<site>/<target>/`,
      '  git add -A && git commit -m "fwgen workspace"',
      'CI (.github/workflows, .gitlab-ci.yml) runs fwgen check and posts fwgen diff on pull requests.',
      ...(dependency
        ? []
        : [
            "CI runs npm ci, then npx fwgen: fwgen is not a dependency of this folder's project yet, and it is not on the npm",
            'registry. Add it to package.json: npm i -D git+<URL of fwgen>#<tag>, or npm i -D ./vendor/fwgen-<version>.tgz.',
          ]),
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
