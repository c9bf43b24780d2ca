import { SITE_CHECKS, type Acknowledgement } from '../catalog/acknowledge';
import { byLocation } from './checks';
import type { CheckFinding, Writable, PolicyAcknowledgement, PolicyWarning } from './types';

export interface Answered {
  /** Each acknowledgement that answered something, with what it answered. */
  acknowledgements: PolicyAcknowledgement[];
  /** Findings no acknowledgement answers. */
  unanswered: CheckFinding[];
  /** Acknowledgements that answer nothing at this site: said, so they do not outlive their reason unseen. */
  unused: PolicyWarning[];
}

/** The acknowledgement for a finding: the one naming its service first, else the one for the whole class. */
function answerFor(f: CheckFinding, acks: Acknowledgement[]): Acknowledgement | undefined {
  const fits = acks.filter((a) => a.check === f.check && a.deviceClass === f.deviceClass && (a.service === undefined || a.service === f.service));
  return fits.find((a) => a.service !== undefined) ?? fits[0];
}

/** Matches the checks' findings with the profile's acknowledge: entries. */
export function answerFindings(findings: CheckFinding[], acks: Acknowledgement[]): Answered {
  const used = new Map<Acknowledgement, Writable<PolicyAcknowledgement>>();
  const unanswered: CheckFinding[] = [];
  for (const f of findings) {
    const a = answerFor(f, acks);
    if (!a) {
      unanswered.push(f);
      continue;
    }
    let entry = used.get(a);
    if (!entry) {
      entry = { check: a.check, deviceClass: a.deviceClass, ...(a.service ? { service: a.service } : {}), reason: a.reason, loc: a.origin, answers: [] };
      used.set(a, entry);
    }
    entry.answers.push({ message: f.message, loc: f.loc });
  }
  const unused = acks
    .filter((a) => !used.has(a))
    .map((a) => ({
      loc: a.origin,
      message: `acknowledge: ${a.check} for ${a.deviceClass}${a.service ? ` (${a.service})` : ''} answers nothing at this site (the check looks for ${SITE_CHECKS[a.check]}, and there is none); remove it, so its reason does not stand for a later change`,
    }));
  return {
    acknowledgements: [...used.values()].sort((a, b) => byLocation({ loc: a.loc, message: a.check }, { loc: b.loc, message: b.check })),
    unanswered,
    unused,
  };
}
