import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { EXIT, type Args, type Io, type Wire } from './command';
import { cryptoLib, feedsCommandLib, feedsFetchLib, feedsLayersLib, feedsReportLib, feedsUpdateLib } from './libraries';
import { checkWholeNumbers, withCatalog, withWorkspace } from './options';
import { workspaceOf } from './workspace-of';

/** `lists` only groups its subcommands. */
export function builder(y: Argv, wire: Wire) {
  return y
    .command(
      'update [lists..]',
      'fetch the feeds the list files name and rewrite the lists (and generated vendor files) whose content changed',
      (yy) => feedsCommandLib.listsUpdateOptions(withWorkspace(withCatalog(yy))),
      wire(listsUpdate),
    )
    .demandCommand(1, 'name a lists command: update');
}

async function listsUpdate(a: Args, io: Io): Promise<number> {
  checkWholeNumbers(a, [['timeout', 1], ['tries', 1]]);
  const base = a.sourceBase as string | undefined;
  if (base !== undefined && !/^https?:\/\/[^\s/]+/.test(base)) throw new UsageError(`--source-base takes an http:// or https:// URL, not '${base}'`);
  // In a workspace: its own catalog folders, checked as the workspace loads them.
  const ws = workspaceOf(a, io);
  const layers = ws ? feedsLayersLib.workspaceLayers(ws) : feedsLayersLib.singleCatalog(a.catalog as string);
  let caps;
  try {
    caps = feedsCommandLib.capsOf(a);
  } catch (err) {
    throw err instanceof feedsCommandLib.FeedUsageError ? new UsageError(err.message) : err;
  }
  const { fetcher, close } = feedsFetchLib.httpFetcher({ timeoutMs: a.timeout as number, tries: a.tries as number, sourceBase: base, caps });
  try {
    const report = await feedsUpdateLib.updateLists({
      layers,
      lists: (a.lists as string[] | undefined) ?? [],
      acceptShrink: a.acceptShrink as boolean,
      acceptWidening: a.acceptWidening as boolean,
      today: new Date().toISOString().slice(0, 10),
      requestId: cryptoLib.randomUUID(),
      fetcher,
    });
    if (report.outcomes.length === 0 && ws) {
      io.err(feedsReportLib.formatNothingInWorkspace(report, layers));
      return EXIT.ok;
    }
    if (report.outcomes.length === 0) {
      io.err('no list in the catalog names a feed (list.feed); nothing to update\n');
      return EXIT.ok;
    }
    io.err(feedsReportLib.formatUpdateReport(report));
    return report.outcomes.some((o) => o.status === 'refused') ? EXIT.error : EXIT.ok;
  } catch (err) {
    if (err instanceof feedsCommandLib.FeedUsageError) throw new UsageError(err.message);
    throw err;
  } finally {
    await close();
  }
}
