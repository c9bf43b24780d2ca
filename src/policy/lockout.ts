import type { Profile } from '../catalog/profile';
import { SITE_VENDOR } from '../catalog/site-ids';
import { usesTarget } from '../catalog/site-targets';
import { formatLocation } from '../errors';
import { isCidrError, parseCidr, type Cidr } from '../net/addresses';
import type { PortRange } from '../net/ports';
import { classesWithoutDns } from './dns-reach';
import { dropHostTargets } from './host-firewalls';
import type { BoundClass, CheckFinding, Rule } from './types';

/** What admins reach a host on when the profile does not say: SSH, RDP, WinRM (http, https). */
export const DEFAULT_MANAGEMENT_PORTS = [22, 3389, 5985, 5986];
const DNS = 53;
const WEB_PORTS = [80, 443];

function covers(ports: readonly PortRange[], wanted: number[]): boolean {
  return ports.some((p) => wanted.some((w) => p.from <= w && w <= p.to));
}

function hasOtherEnd(r: Rule): boolean {
  const e = r.remote;
  return e.names.length + e.lists.length + e.peers.length + e.addresses.ipv4.length + e.addresses.ipv6.length > 0;
}

function parsed(texts: readonly string[]): Cidr[] {
  return texts.map(parseCidr).filter((c): c is Cidr => !isCidrError(c));
}

/** The rule reaches something besides the class's own addresses (a resolver asking itself is no upstream). */
function reachesBeyond(r: Rule, own: BoundClass): boolean {
  const e = r.remote;
  if (e.names.length + e.lists.length > 0) return true;
  if (e.peers.length > 0) return e.peers.some((p) => p !== own.id);
  const mine = parsed([...own.addresses.ipv4, ...own.addresses.ipv6]);
  return parsed([...e.addresses.ipv4, ...e.addresses.ipv6]).some((net) => !mine.some((m) => m.covers(net)));
}

const answerHint = (check: string, deviceClass: string) =>
  `or answer it in the profile: acknowledge: [{ check: ${check}, deviceClass: ${deviceClass}, reason: ... }]`;

/**
 * The ways a rendered site locks itself out, found before anything is written: a host
 * firewall that drops by default with no way for the admins in, a resolver that cannot ask
 * upstream, a web shop its customers cannot reach, a class that cannot look up the names its
 * rules are for. Management and web count only the site's own flows (a vendor's inbound rule
 * lets the vendor in, not the site's admins or customers). Each is located at the class's
 * binding in the profile, where the answer goes.
 */
export function lockOutFindings(profile: Profile, rules: Rule[], classes: BoundClass[]): CheckFinding[] {
  const out: CheckFinding[] = [];
  const at = (c: Pick<BoundClass, 'id'>) => ({ deviceClass: c.id, loc: profile.deviceClasses.get(c.id)!.origin, field: `deviceClasses.${c.id}` });
  for (const c of classes) {
    const own = rules.filter((r) => r.deviceClass === c.id);
    const siteInbound = own.filter((r) => r.vendor === SITE_VENDOR && r.direction === 'inbound' && r.protocol === 'tcp' && hasOtherEnd(r));
    // Only a target the site renders puts a firewall on the device (as the snapshot counts them).
    const hosts = own.length > 0 ? dropHostTargets(c.os, profile.targets).filter((t) => usesTarget(profile, t)) : [];
    const declared = profile.deviceClasses.get(c.id)?.management;
    const management = declared ?? DEFAULT_MANAGEMENT_PORTS;
    if (hosts.length > 0 && !siteInbound.some((r) => covers(r.ports, management))) {
      const ports = declared ? `tcp ${declared.join(', ')} (its management: ports)` : 'tcp 22 SSH, 3389 RDP, 5985/5986 WinRM';
      out.push({
        check: 'management-access',
        ...at(c),
        message: `${c.id}'s host firewall (${hosts.join(', ')}) drops what it does not allow, and no flow of the site lets the admins in (${ports}): applied, it locks them out. Add a site flow (flows: inbound tcp from the admin network), declare the class's management ports (management: [...]), ${answerHint('management-access', c.id)}`,
      });
    }
    if (c.id === 'dns-resolver' && !own.some((r) => r.direction === 'outbound' && (r.protocol === 'udp' || r.protocol === 'tcp') && covers(r.ports, [DNS]) && reachesBeyond(r, c))) {
      out.push({
        check: 'upstream-dns',
        ...at(c),
        message: `the resolver may not send its upstream queries (no outbound udp or tcp 53 to anything but itself): the site's lookups fail. Add a site flow (flows: outbound tcp/udp 53 to the upstream servers, or resolvers: the upstream it forwards to), ${answerHint('upstream-dns', c.id)}`,
      });
    }
    if (c.id === 'ecommerce-web-server' && !siteInbound.some((r) => covers(r.ports, WEB_PORTS))) {
      out.push({
        check: 'inbound-web',
        ...at(c),
        message: `no flow of the site lets customers reach the web server (inbound tcp 80 or 443; a vendor's inbound flow admits only that vendor): the shop is closed. Add a site flow (flows: inbound tcp 443 from the customers, 0.0.0.0/0 and ::/0 for anyone), ${answerHint('inbound-web', c.id)}`,
      });
    }
  }
  for (const gap of classesWithoutDns(classes, rules)) {
    const shown = gap.names.length > 3 ? `${gap.names.slice(0, 3).join(', ')} and ${gap.names.length - 3} more` : gap.names.join(', ');
    out.push({
      check: 'dns-lookup',
      ...at({ id: gap.deviceClass }),
      message: `the class reaches host names (${shown}; first by rule ${gap.rule.id}, ${formatLocation(gap.rule.origins[0]!.loc)}) but no rule lets it query DNS (outbound udp 53): it cannot look them up. Add the site's resolvers (resolvers: [...]), ${answerHint('dns-lookup', gap.deviceClass)}`,
    });
  }
  return out;
}
