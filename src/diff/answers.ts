import type { SnapshotAcknowledgement, SnapshotClass, SnapshotExclusion } from '../policy/snapshot';
import type { AnswerChange, ClassChange } from './types';
import { append } from '../util/append';

/**
 * What changes a site's policy without changing a flow: the profile's answers to the site
 * checks, the vendor flows it leaves out, and the class settings its rules depend on. A base
 * snapshot from before these were recorded holds none of them: nothing is compared then.
 */

const NONE = '(none)';

/** os, management ports and default drop of each class on both sides; a class added or removed shows in its flows. */
export function compareClasses(base: SnapshotClass[], head: SnapshotClass[]): ClassChange[] {
  const out: ClassChange[] = [];
  for (const after of head) {
    const before = base.find((c) => c.id === after.id);
    if (!before) continue;
    const add = (setting: ClassChange['setting'], b: string, a: string) => {
      if (a !== b) out.push({ deviceClass: after.id, setting, before: b, after: a });
    };
    add('os', before.os, after.os);
    // Recorded together: a base without defaultDrop said nothing of either.
    if (before.defaultDrop === undefined) continue;
    add('management', list(before.management?.map(String)), list(after.management?.map(String)));
    add('defaultDrop', list(before.defaultDrop), list(after.defaultDrop));
  }
  return out;
}

function list(xs: string[] | undefined): string {
  return xs && xs.length > 0 ? xs.join(', ') : NONE;
}

interface Keyed {
  key: string;
  what: string;
  /** Compared between the sides: the reason, and for an exclusion which part is left out. */
  detail: string;
  reason: string;
  at: string;
}

function acknowledgement(a: SnapshotAcknowledgement): Keyed {
  const what = `${a.check} for ${a.deviceClass}${a.service ? ` (${a.service})` : ''}`;
  return { key: what, what, detail: a.reason, reason: a.reason, at: a.at };
}

function exclusion(x: SnapshotExclusion): Keyed {
  const flow = `${x.vendor}/${x.service} flow ${x.flow + 1} (${x.flowAt}${x.cite ? `, ${x.cite}` : ''})`;
  const what = x.excluded === 'flow' ? flow : `${x.excluded} half of ${flow}`;
  return { key: `${x.vendor}/${x.service}/${x.flow}`, what, detail: `${x.excluded}\u0000${x.reason}`, reason: x.reason, at: x.at };
}

function compareKeyed(kind: AnswerChange['kind'], base: Keyed[], head: Keyed[]): AnswerChange[] {
  const out: AnswerChange[] = [];
  for (const h of head) {
    const b = base.find((x) => x.key === h.key);
    if (!b) out.push({ kind, change: 'added', what: h.what, reason: h.reason, at: h.at });
    else if (b.detail !== h.detail) {
      out.push({ kind, change: 'changed', what: h.what, reason: h.reason, reasonBefore: b.what === h.what ? b.reason : `${b.what}: ${b.reason}`, at: h.at });
    }
  }
  for (const b of base) {
    if (!head.some((x) => x.key === b.key)) out.push({ kind, change: 'removed', what: b.what, reason: b.reason, at: b.at });
  }
  return out;
}

/** Acknowledgements and exclusions added, removed or given another reason (or, for an exclusion, another part). */
export function compareAnswers(
  base: { acknowledgements?: SnapshotAcknowledgement[]; exclusions?: SnapshotExclusion[] },
  head: { acknowledgements?: SnapshotAcknowledgement[]; exclusions?: SnapshotExclusion[] },
): AnswerChange[] {
  const out: AnswerChange[] = [];
  if (base.acknowledgements && head.acknowledgements) {
    append(out, compareKeyed('acknowledgement', base.acknowledgements.map(acknowledgement), head.acknowledgements.map(acknowledgement)));
  }
  if (base.exclusions && head.exclusions) append(out, compareKeyed('exclusion', base.exclusions.map(exclusion), head.exclusions.map(exclusion)));
  return out;
}
