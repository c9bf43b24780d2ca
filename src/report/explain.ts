import type { Profile } from '../catalog/profile';
import { citeSource } from '../catalog/cite';
import { SITE_VENDOR } from '../catalog/site-ids';
import { formatLocation } from '../errors';
import { hostOrCidr, toAddressSet } from '../net/addresses';
import { formatPorts } from '../net/ports';
import { buildReviewed } from '../policy/build';
import { select, type Selection } from '../policy/select';
import { emptyAddressBook, type CheckFinding, type PolicyAcknowledgement } from '../policy/types';
import type { Catalog } from '../catalog/types';

/**
 * explain for a site: the selection, then what the site checks found and how the profile
 * answered them. Lock-outs left unanswered are listed, not thrown: explain is where a user
 * looks to understand them. Names are not looked up in the lock here (the checks need none).
 */
export function explainSite(catalog: Catalog, profile: Profile): string {
  const selection = select(catalog, profile);
  const { policy, lockOuts } = buildReviewed(catalog, profile, selection, emptyAddressBook);
  return explainSelection(profile, selection) + explainChecks(policy.acknowledgements, lockOuts);
}

function explainChecks(acks: readonly PolicyAcknowledgement[], lockOuts: CheckFinding[]): string {
  const out: string[] = [''];
  out.push(`Acknowledged by the profile (${acks.length}):`);
  for (const a of acks) {
    out.push(`  ${a.check} on ${a.deviceClass}${a.service ? ` (${a.service})` : ''}: ${a.reason} (${formatLocation(a.loc)})`);
    for (const f of a.answers) out.push(`    answers: ${f.message} (${formatLocation(f.loc)})`);
  }
  if (lockOuts.length > 0) {
    out.push('');
    out.push(`Lock-outs the profile does not answer (${lockOuts.length}; render refuses the site):`);
    for (const f of lockOuts) out.push(`  ${f.check} on ${f.deviceClass}: ${f.message} (${formatLocation(f.loc)})`);
  }
  return out.join('\n') + '\n';
}

/** What a profile selects, what it leaves out and why, in words. */
export function explainSelection(profile: Profile, selection: Selection): string {
  const out: string[] = [];
  out.push(`Profile ${profile.name} (${profile.file})`);
  if (profile.description) out.push(`  ${profile.description}`);
  out.push(`  region ${profile.region}, environment ${profile.environments.join(' + ')}`);
  out.push('');
  out.push('Device classes at this site:');
  for (const b of [...profile.deviceClasses.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const set = toAddressSet(b.cidrs);
    const addrs = [...set.ipv4, ...set.ipv6].map(hostOrCidr).join(' ');
    // The system decides which host files a class gets; say whose choice it is.
    const os = `os ${b.os}, ${b.osFromProfile ? 'set by the profile' : "fwgen's default for the class"}`;
    out.push(`  ${b.id}: ${addrs}${b.interface ? ` (interface ${b.interface})` : ''} [${os}]`);
  }
  out.push('');
  out.push(`Selected (${selection.services.length} services, ${selection.flows.length} flows):`);
  for (const { vendor, service, classes } of selection.services) {
    const why =
      vendor.id === SITE_VENDOR
        ? `the site's own, ${formatLocation(service.origin)}`
        : service.requirement === 'required'
          ? 'required'
          : `${service.requirement}, included by the profile${service.condition ? ` (${service.condition})` : ''}`;
    out.push(`  ${vendor.id}/${service.id}: ${service.name} [${why}] on ${classes.join(', ')}`);
    if (service.cite) out.push(`    from ${citeSource(vendor.source)}: ${service.cite}`);
    for (const f of selection.flows.filter((s) => s.service === service && s.vendor === vendor)) {
      const ends = [
        ...f.domains,
        ...f.addresses.map((c) => hostOrCidr(c.text)),
        ...f.flow.lists.map((l) => `list ${l}`),
        ...f.flow.peers.map((p) => `class ${p}`),
        ...f.flow.programs.map((p) => `program ${p}`),
      ];
      const what = f.flow.protocol ? `${f.flow.protocol} ${formatPorts(f.ports)}` : 'application';
      const direction = f.directions.length === 1 && f.flow.direction === 'both' ? `${f.directions[0]} (of both)` : f.flow.direction;
      // The flow's number within its service is how excludeFlows names it.
      out.push(`    flow ${f.flow.index + 1}: ${direction} ${what} ${f.localClasses.join(',')} <-> ${ends.join(' ')}`);
      if (f.flow.cite) out.push(`      flow cite: ${f.flow.cite}`);
    }
  }
  out.push('');
  out.push(`Left out (${selection.omitted.length}):`);
  for (const o of selection.omitted) {
    const which = o.flow === undefined ? `${o.vendor}/${o.service}` : `${o.vendor}/${o.service} flow ${o.flow + 1}${o.direction ? ` (${o.direction})` : ''}`;
    out.push(`  ${which}: ${o.reason} (${formatLocation(o.loc)})`);
  }
  return out.join('\n') + '\n';
}
