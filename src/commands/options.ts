import * as path from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { bundledCatalog } from '../util/paths';
import type { Shard } from '../workspace/shard';
import type { Args } from './command';

/** Options several commands share, and the checks yargs does not make. */

export function withCatalog<T>(y: Argv<T>) {
  return y.option('catalog', {
    type: 'string',
    default: bundledCatalog,
    defaultDescription: "the catalog shipped with fwgen (in a workspace: its catalog layers)",
    describe: 'catalog folder (device-classes.yaml, vendors/, lists/) to read instead of the shipped one; outside a workspace only (a workspace names its catalog layers in fwgen.yaml)',
  });
}

/** --catalog named another catalog than the shipped one (its default). */
export function catalogGiven(a: Args): boolean {
  return a.catalog !== undefined && path.resolve(a.catalog as string) !== bundledCatalog;
}

export function catalogOf(a: Args): string {
  return (a.catalog as string | undefined) ?? bundledCatalog;
}

export function withWorkspace<T>(y: Argv<T>) {
  return y.option('workspace', {
    alias: 'w',
    type: 'string',
    defaultDescription: 'the fwgen.yaml in this folder or the nearest above it',
    describe: 'workspace file (fwgen.yaml) or the folder holding it',
  });
}

/** Options that take a whole number: NaN (from yargs) or a fraction is a usage error. */
export function checkWholeNumbers(a: Args, limits: ReadonlyArray<readonly [string, number]>): void {
  for (const [opt, min] of limits) {
    const v = a[opt] as number;
    if (!Number.isInteger(v) || v < min) {
      throw new UsageError(`--${opt} takes a whole number of at least ${min}${Number.isFinite(v) ? ` (got ${v})` : ''}`);
    }
  }
}

/** A line in the lock's header and a YAML value: printable text only. */
export function checkNote(note: unknown): void {
  if (note === undefined) return;
  if (typeof note !== 'string' || /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(note)) {
    throw new UsageError('--note takes one line of text, without newlines or other control characters');
  }
}

/** --shard K/N and --merge-shards: a workspace's sites over the jobs of a CI matrix. */
export function withShards<T>(y: Argv<T>, merge: string) {
  return y
    .option('shard', { type: 'string', describe: 'only part K of N of the sites (K/N, e.g. 2/4): the part of a site is fixed by its name; no fleet inventory' })
    .option('merge-shards', { type: 'boolean', describe: merge })
    .conflicts('shard', 'merge-shards');
}

/** The part of the sites named with --shard, if any. */
export function shardOf(a: Args, sites: string[] = []): Shard | undefined {
  if (a.shard === undefined) return undefined;
  const { parseShard } = require('../workspace/shard') as typeof import('../workspace/shard');
  const parsed = parseShard(String(a.shard));
  if ('problem' in parsed) throw new UsageError(parsed.problem);
  if (sites.length > 0) throw new UsageError('--shard picks its sites by their names; name no sites with it');
  return parsed;
}
