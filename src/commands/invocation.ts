import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../util/paths';

/** How the user runs this fwgen in a folder, and whether the folder's project has it as a dependency. */
export interface Invocation {
  /** The command line's start: `npx fwgen`, `fwgen`, or `node <path>/bin/fwgen.js`. */
  command: string;
  /** fwgen sits in node_modules of the folder or one above it: CI's `npm ci` then installs it too. */
  dependency: boolean;
}

function realpathOf(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

/**
 * What to print for the user to run this same fwgen from `dir`. fwgen is not on the npm
 * registry, so `npx fwgen` is right only where the project installed it (npx would otherwise
 * look the name up there); `fwgen` only where that name on PATH is this package's bin.
 */
export function invocationIn(dir: string, searchPath = process.env.PATH ?? ''): Invocation {
  const self = realpathOf(packageRoot);
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (self !== undefined && realpathOf(path.join(at, 'node_modules', 'fwgen')) === self) return { command: 'npx fwgen', dependency: true };
    if (path.dirname(at) === at) break;
  }
  const bin = path.join(packageRoot, 'bin', 'fwgen.js');
  const binReal = realpathOf(bin);
  for (const d of searchPath.split(path.delimiter)) {
    if (d !== '' && binReal !== undefined && realpathOf(path.join(d, 'fwgen')) === binReal) return { command: 'fwgen', dependency: false };
  }
  // Relative when fwgen sits below the folder; otherwise the absolute path reads better than a row of ../
  const rel = path.relative(path.resolve(dir), bin);
  return { command: `node ${shellWord(rel.startsWith('..') ? bin : rel)}`, dependency: false };
}

/** A path as one word for a POSIX shell: single-quoted unless it holds only plain characters. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
