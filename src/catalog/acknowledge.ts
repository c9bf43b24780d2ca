import type { LocatedIssue, SourceLocation } from '../errors';
import { SITE_VENDOR } from './site-ids';
import type { Vendor } from './types';
import type { YamlSource } from './yaml-source';

/**
 * The checks a profile answers, by the id it names them with under `acknowledge:`. The first
 * four are lock-outs (render refuses the site until the profile answers them); the last two
 * are explicit "any" (a warning until answered).
 */
export const SITE_CHECKS = {
  'management-access': 'a default-drop host firewall with no inbound management flow of the site (tcp 22 SSH, 3389 RDP, 5985/5986 WinRM, or the class\'s management: ports)',
  'upstream-dns': 'a dns-resolver that may not send its upstream queries (outbound udp or tcp 53 to something other than itself)',
  'inbound-web': 'an ecommerce-web-server no flow of the site lets customers reach (inbound tcp 80 or 443)',
  'dns-lookup': 'a device class that reaches host names but may not query DNS (outbound udp 53)',
  'any-address': 'a rule that allows any address (0.0.0.0/0 or ::/0)',
  'all-ports': 'a rule that allows every port (1-65535)',
} as const;

export type CheckId = keyof typeof SITE_CHECKS;

/** Checks whose finding names a rule's vendor/service, so an acknowledgement may narrow to one. */
export const PER_SERVICE_CHECKS: ReadonlySet<CheckId> = new Set<CheckId>(['any-address', 'all-ports']);

/** One `acknowledge:` entry: the profile's answer to a check on one device class, with its reason. */
export interface Acknowledgement {
  check: CheckId;
  deviceClass: string;
  /** vendor/service (site/<flow id> for the site's own flows): only that service's findings. */
  service?: string;
  reason: string;
  origin: SourceLocation;
}

type Raw = Record<string, any>; // shape already checked by the JSON Schema

/** Whether a `vendor/service` reference names a service the profile can select. */
function serviceProblem(ref: string, vendors: ReadonlyMap<string, Vendor>): string | undefined {
  const slash = ref.indexOf('/');
  const vendorId = slash < 0 ? ref : ref.slice(0, slash);
  const vendor = vendors.get(vendorId);
  if (slash < 0 || !vendor) {
    const known = [...vendors.keys()].sort().join(', ');
    return `'${ref}' is not vendor/service of a vendor this profile uses (${known}; site/<flow id> for the profile's own flows)`;
  }
  const sid = ref.slice(slash + 1);
  if (!vendor.services.some((s) => s.id === sid)) {
    const known = vendor.services.map((s) => s.id).join(', ');
    return `vendor '${vendorId}' has no ${vendorId === SITE_VENDOR ? 'flow' : 'service'} '${sid}'${known ? ` (it has: ${known})` : ''}`;
  }
  return undefined;
}

/**
 * The profile's `acknowledge:` list, checked against the device classes it binds and the
 * vendors (the site's own included) it uses. A repeated entry is an error: two reasons for
 * one answer leave a reviewer guessing which holds.
 */
export function loadAcknowledgements(
  raw: Raw[] | undefined,
  bound: ReadonlySet<string>,
  vendors: ReadonlyMap<string, Vendor>,
  src: YamlSource,
  found: LocatedIssue[],
): Acknowledgement[] {
  const out: Acknowledgement[] = [];
  const first = new Map<string, number>();
  (raw ?? []).forEach((a, i) => {
    const at = ['acknowledge', i];
    let ok = true;
    if (!bound.has(a.deviceClass)) {
      found.push(src.issue([...at, 'deviceClass'], `device class '${a.deviceClass}' is not bound at this site (bound: ${[...bound].sort().join(', ')})`));
      ok = false;
    }
    if (a.service !== undefined) {
      const check = a.check as CheckId;
      const why = PER_SERVICE_CHECKS.has(check)
        ? serviceProblem(a.service, vendors)
        : `check '${check}' is about the device class as a whole; only ${[...PER_SERVICE_CHECKS].join(' and ')} take a service`;
      if (why) {
        found.push(src.issue([...at, 'service'], why));
        ok = false;
      }
    }
    const key = `${a.check}|${a.deviceClass}|${a.service ?? ''}`;
    const earlier = first.get(key);
    if (earlier !== undefined) {
      found.push(src.issue(at, `the same check, device class and service are acknowledged on line ${src.locate(['acknowledge', earlier]).line} already`));
      ok = false;
    }
    first.set(key, i);
    if (ok) {
      // The schema holds the reason to some words (not blank); explain and the diff print it trimmed.
      out.push({ check: a.check, deviceClass: a.deviceClass, ...(a.service !== undefined ? { service: a.service } : {}), reason: a.reason.trim(), origin: src.locate(at) });
    }
  });
  return out;
}
