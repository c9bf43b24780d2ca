import type { Argv } from 'yargs';
import { DEFAULT_CAPS, formatSize, parseSize, type FeedCaps } from './caps';
import { formats } from './formats';
import { SHRINK_LIMIT } from './guard';
import { FeedUsageError } from './types';

export { FeedUsageError };
import { DEFAULT_WIDEST } from './widening';

/** Options of `fwgen lists update`. */
export function listsUpdateOptions<T>(y: Argv<T>) {
  return y
    .positional('lists', { type: 'string', array: true, describe: 'list ids to update (default: every list whose file names a feed)' })
    .option('source-base', {
      type: 'string',
      describe: 'fetch from this mirror: replaces scheme, host and port of every feed URL, keeping its path',
    })
    .option('accept-shrink', {
      type: 'boolean',
      default: false,
      describe: `take a feed that drops more than ${SHRINK_LIMIT * 100}% of a list's addresses (reported as a warning)`,
    })
    .option('accept-widening', {
      type: 'boolean',
      default: false,
      describe: `take a feed that widens a list: a new prefix wider than the list's list.feed.widestPrefix (default /${DEFAULT_WIDEST.ipv4} IPv4, /${DEFAULT_WIDEST.ipv6} IPv6), a wildcard on a public suffix (*.co.uk), a port range wider than the generated vendor file holds; each is printed`,
    })
    .option('max-bytes', {
      type: 'string',
      default: formatSize(DEFAULT_CAPS.maxBytes).replace(' MiB', 'M'),
      describe: 'largest document read, after gzip, deflate or br is undone (bytes, or with k, M, G); a larger one is refused while it downloads',
    })
    .option('max-entries', {
      type: 'number',
      default: DEFAULT_CAPS.maxEntries,
      describe: 'most lines of a text feed, or values of a JSON document, read; more are refused while they download',
    })
    .option('timeout', { type: 'number', default: 30000, describe: 'milliseconds per request attempt' })
    .option('tries', { type: 'number', default: 3, describe: 'attempts per request (network errors, timeouts, HTTP 5xx and 429)' })
    .example('$0 lists update', "refresh every list that names a feed (in a workspace: the lists in its own catalog folders), then review git diff")
    .example('$0 lists update --catalog ./catalog', 'outside a workspace: the lists of this catalog folder')
    .example('$0 lists update cloudflare', 'refresh one list')
    .example('$0 lists update --source-base https://mirror.internal/feeds', 'fetch https://www.cloudflare.com/ips-v4 as https://mirror.internal/feeds/ips-v4')
    .example('HTTPS_PROXY=http://proxy:3128 $0 lists update', 'through a proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)')
    .epilog(`Feed formats (list.feed.format):\n${Object.values(formats).map((f) => `  ${f.id}: ${f.describe}`).join('\n')}`);
}

/** --max-bytes and --max-entries as caps, or a usage error naming the option. */
export function capsOf(a: Record<string, unknown>): FeedCaps {
  const maxBytes = parseSize(String(a.maxBytes ?? ''));
  if (maxBytes === undefined) throw new FeedUsageError(`--max-bytes takes a size such as 16M, 512k or 33554432, not '${String(a.maxBytes)}'`);
  const maxEntries = a.maxEntries as number;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new FeedUsageError(`--max-entries takes a whole number of at least 1 (got ${String(a.maxEntries)})`);
  return { maxBytes, maxEntries };
}
