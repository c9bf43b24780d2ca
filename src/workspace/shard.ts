import { createHash } from 'node:crypto';

/** Part K of N (1 ≤ K ≤ N) of a workspace's sites: what one job of a CI matrix renders or checks. */
export interface Shard {
  index: number;
  count: number;
}

/** Past this many shards a job holds too few sites to pay for its start-up; it also keeps N a sane number. */
export const MAX_SHARDS = 1000;

/** `K/N` as given to --shard; a message for the user when it is not one. */
export function parseShard(text: string): Shard | { problem: string } {
  const m = /^\s*(\d{1,4})\s*\/\s*(\d{1,4})\s*$/.exec(text);
  const said = `(got '${text.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}')`;
  if (!m) return { problem: `--shard takes K/N, part K of N, e.g. 2/4 ${said}` };
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) return { problem: `--shard K/N: N is the number of parts, 1 to ${MAX_SHARDS} ${said}` };
  if (index < 1 || index > count) return { problem: `--shard K/N: K counts the parts from 1 to N=${count} ${said}` };
  return { index, count };
}

/**
 * Which part (1..count) a site belongs to, from its name alone: the same on every machine and
 * in every job, and a site added or removed moves no other site.
 */
export function shardOf(siteName: string, count: number): number {
  const digest = createHash('sha256').update(siteName, 'utf8').digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

export function inShard(shard: Shard | undefined, siteName: string): boolean {
  return shard === undefined || shardOf(siteName, shard.count) === shard.index;
}

export function describeShard(shard: Shard): string {
  return `shard ${shard.index}/${shard.count}`;
}
