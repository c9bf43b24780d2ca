import { auditFiles, formatAuditMarkdown, formatAuditText } from '../audit';
import { buildPolicy } from '../policy/build';
import { addressBookFor } from '../resolve/address-book';
import { loadSite } from '../workspace/sites';

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
