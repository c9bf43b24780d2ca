import { auditFiles, formatAuditMarkdown, formatAuditText } from '../audit';
import { buildPolicy } from '../policy/build';
import { addressBookFor } from '../resolve/address-book';
import type { Argv } from 'yargs';
import { UsageError } from '../errors';
import { loadSite } from '../site/load';
import type { Args, Io } from './command';
import { withCatalog, withWorkspace } from './options';
import { siteOf } from './workspace-of';

export interface AuditOptions {
  /** The catalog source: a folder, or a workspace file whose layers make the catalog. */
  catalog: string;
  profileFile: string;
  files: string[];
  format: 'text' | 'markdown' | 'json';
}

/** Exit codes as diff's: 0 every flow met and nothing beyond the profile, 2 findings, 1 error (thrown). */
export const AUDIT_EXIT = { clean: 0, findings: 2 } as const;

/**
 * `fwgen audit`: the site's policy (its lock file pins the names; names it lacks are reported,
 * never looked up) against rule sets read back from firewall files.
 */
export function auditCommand(o: AuditOptions, io: { out(text: string): void }): number {
  const { catalog, profile } = loadSite(o.catalog, o.profileFile);
  const policy = buildPolicy(catalog, profile, addressBookFor(o.profileFile), true);
  const report = auditFiles(policy, o.files);
  io.out(o.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : o.format === 'markdown' ? formatAuditMarkdown(report) : formatAuditText(report));
  return report.clean ? AUDIT_EXIT.clean : AUDIT_EXIT.findings;
}

export function builder(y: Argv) {
  return withWorkspace(withCatalog(y))
    .positional('site', { type: 'string', describe: 'the workspace site to audit' })
    .option('profile', { alias: 'p', type: 'string', describe: 'a site profile (outside a workspace)' })
    .option('file', {
      alias: 'f',
      type: 'string',
      array: true,
      demandOption: true,
      describe: 'a rule set to audit, [CLASS=]PATH: nft list ruleset (text or -j), iptables-save and ipset save, pfSense config.xml, describe-security-groups JSON, the Windows export (README)',
    })
    .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text', describe: 'text for a terminal, markdown for a pull-request comment, json for tools' })
    .example('$0 audit shop-1 --file ruleset.nft', 'the firewall a site runs today against its profile');
}

export function handler(a: Args, io: Io): number {
  const site = siteOf(a, io);
  if (site === undefined) throw new UsageError('name the site (inside a workspace) or its profile with -p');
  return auditCommand({ ...site, files: a.file as string[], format: a.format as 'text' | 'markdown' | 'json' }, io);
}
