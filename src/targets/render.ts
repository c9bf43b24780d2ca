import * as path from 'node:path';
import type { Policy } from '../policy/types';
import { optionLocation, resolveOptions } from './options';
import { template } from './templates';
import type { AnyTarget, Diagnostic } from './types';
import { append } from '../util/append';

export interface RenderedFile {
  /** Relative to the output folder: <profile>/<target>/<file>. */
  path: string;
  content: string;
}

export interface RenderResult {
  files: RenderedFile[];
  diagnostics: Diagnostic[];
}

/**
 * Renders one policy for the given targets, in memory. Diagnostics come first: when any is
 * an error, no file content is produced at all, so nothing partial can be written.
 */
export function renderPolicy(policy: Policy, chosen: AnyTarget[], profileTargets: Record<string, Record<string, unknown>>): RenderResult {
  const diagnostics: Diagnostic[] = [];
  const plans = chosen.map((target) => {
    const options = resolveOptions(target.options, profileTargets[target.id], policy);
    append(append(diagnostics, target.check(policy, options)), unrendered(policy, target, options, chosen));
    return { target, options };
  });
  if (diagnostics.some((d) => d.severity === 'error')) return { files: [], diagnostics };
  const files: RenderedFile[] = [];
  for (const { target, options } of plans) {
    for (const file of target.files(policy, options)) {
      const view = target.view(policy, options, file);
      files.push({ path: path.posix.join(policy.profile.name, target.id, file.path), content: template(target.id, file.template)(view) });
    }
  }
  return { files, diagnostics };
}

/**
 * Once per site: a target whose files read another's (the Ansible plays install the rule
 * files) names those this render leaves out, since what is under out/ for them may be
 * missing or from an older render. At the profile's options for the target.
 */
function unrendered(policy: Policy, target: AnyTarget, options: unknown, chosen: AnyTarget[]): Diagnostic[] {
  const missing = (target.reads?.(policy, options) ?? []).filter((id) => !chosen.some((t) => t.id === id));
  if (missing.length === 0) return [];
  return [
    {
      severity: 'warning',
      target: target.id,
      loc: optionLocation(policy, [target.id]),
      message: `this target's files read those of ${missing.join(', ')}, which this render leaves out: add ${missing.map((id) => `-t ${id}`).join(' ')}, or what they read under the output folder may be missing or stale`,
    },
  ];
}
