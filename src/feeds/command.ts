import type { Argv } from 'yargs';
import { formats } from './formats';
import { SHRINK_LIMIT } from './guard';

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
    .option('timeout', { type: 'number', default: 30000, describe: 'milliseconds per request attempt' })
    .option('tries', { type: 'number', default: 3, describe: 'attempts per request (network errors, timeouts, HTTP 5xx and 429)' })
    .example('$0 lists update', "refresh every list that names a feed (in a workspace: the lists in its own catalog folders), then review git diff")
    .example('$0 lists update --catalog ./catalog', 'outside a workspace: the lists of this catalog folder')
    .example('$0 lists update cloudflare', 'refresh one list')
    .example('$0 lists update --source-base https://mirror.internal/feeds', 'fetch https://www.cloudflare.com/ips-v4 as https://mirror.internal/feeds/ips-v4')
    .example('HTTPS_PROXY=http://proxy:3128 $0 lists update', 'through a proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)')
    .epilog(`Feed formats (list.feed.format):\n${Object.values(formats).map((f) => `  ${f.id}: ${f.describe}`).join('\n')}`);
}
