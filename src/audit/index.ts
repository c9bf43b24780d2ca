import type { Policy } from '../policy/types';
import { auditScope } from './compare';
import { parseFileArg, scopesFor } from './files';
import type { AuditReport } from './types';
import { append } from '../util/append';

export { formatAuditMarkdown, formatAuditText } from './format';
export type { AuditReport } from './types';

/** The site's policy against the rule sets in `files` (each `[CLASS=]PATH`). */
export function auditFiles(policy: Policy, files: string[]): AuditReport {
  const args = files.map((f) => parseFileArg(f, policy));
  const { scopes, rulesets } = scopesFor(policy, args);
  const report: AuditReport = {
    version: 1,
    site: policy.profile.name,
    profile: policy.profile.file,
    files: args.map((a) => a.path),
    scopes: [],
    flows: [],
    openings: [],
    uncertain: [],
    summary: { met: 0, partial: 0, missing: 0, unchecked: 0, openings: 0, uncertain: 0 },
    clean: true,
  };
  for (const scope of scopes) {
    const r = auditScope(policy, scope, rulesets);
    report.scopes.push({ scope: scope.label, format: scope.ruleset.format, ...(scope.deviceClass ? { deviceClass: scope.deviceClass } : {}), hooks: r.hooks, notes: r.notes });
    append(report.flows, r.flows);
    append(report.openings, r.openings);
    append(report.uncertain, r.uncertain);
  }
  for (const f of report.flows) report.summary[f.status]++;
  report.summary.openings = report.openings.length;
  report.summary.uncertain = report.uncertain.length;
  report.clean = report.summary.partial + report.summary.missing + report.summary.openings + report.summary.uncertain === 0;
  return report;
}
