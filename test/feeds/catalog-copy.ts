import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { catalogRoot, runInProcess, tempDir, type RunResult } from '../helpers';
import type { FeedServer } from './server';

/** A list kept from AWS's ip-ranges.json, CloudFront's ranges: the JSON feed the tests use most. */
export const awsCloudfrontList = `list:
  id: aws-cloudfront
  name: Amazon CloudFront
  source: { url: https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html, recorded: 2026-01-01 }
  feed:
    format: aws
    urls: [https://ip-ranges.amazonaws.com/ip-ranges.json]
    filter: { service: CLOUDFRONT }
addresses: [13.32.0.0/15]
`;

/** A copy of the shipped catalog with the given extra list files: tests never touch the real one. */
export function catalogCopy(lists: Record<string, string> = {}, prefix = 'fwgen-feeds-'): string {
  const root = tempDir(prefix);
  fs.cpSync(catalogRoot, root, { recursive: true });
  for (const [f, text] of Object.entries(lists)) fs.writeFileSync(path.join(root, 'lists', f), text);
  return root;
}

/** Every list and vendor file of a catalog, by name: equal before and after means nothing was written. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of ['lists', 'vendors']) {
    for (const f of fs.readdirSync(path.join(root, dir))) out[`${dir}/${f}`] = fs.readFileSync(path.join(root, dir, f), 'utf8');
  }
  return out;
}

export function listAt(root: string, id: string): { list: Record<string, any>; addresses: string[] } {
  return parse(fs.readFileSync(path.join(root, 'lists', `${id}.yaml`), 'utf8'));
}

/** `fwgen lists update` in this process against the test server: one try, a short timeout. */
export function updaterFor(server: () => FeedServer): (root: string, ...args: string[]) => Promise<RunResult> {
  return (root, ...args) => runInProcess(['lists', 'update', '--catalog', root, '--source-base', server().base, '--tries', '1', '--timeout', '5000', ...args]);
}
