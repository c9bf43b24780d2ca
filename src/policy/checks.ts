import type { Profile } from '../catalog/profile';
import type { CheckId } from '../catalog/acknowledge';
import type { Catalog } from '../catalog/types';
import { formatLocation, InputError, sortIssues, type LocatedIssue, type SourceLocation } from '../errors';
import { Cidr, isAggregated, isAnyNetwork, isCidrError, parseCidr } from '../net/addresses';
import { hostNameProblem } from '../net/host-names';
import { formatPorts } from '../net/ports';
import type { CheckFinding, NameInfo, Rule } from './types';

function ruleIssue(rule: Rule, message: string): LocatedIssue {
  return { loc: rule.origins[0]!.loc, field: `rule ${rule.id}`, message };
}

/**
 * The last gate before any target sees a rule, whatever built it (catalog flows, a site's
 * own flows, a lock): every name is a host name, every network a plain address, every
 * port a port, and a rule without a protocol (a program rule) has no other end it would
 * silently drop. Nothing here trusts a vendor's pattern or an earlier check; only a list
 * aggregate made (canonical by construction, frozen since) is not read again.
 */
export function checkRules(rules: Rule[]): void {
  const issues: LocatedIssue[] = [];
  for (const rule of rules) {
    for (const name of rule.remote.names) {
      const why = hostNameProblem(name);
      if (why) issues.push(ruleIssue(rule, `'${name}' is not a host name: ${why}`));
    }
    for (const text of [rule.remote.addresses.ipv4, rule.remote.addresses.ipv6].filter((l) => !isAggregated(l)).flat()) {
      const c = parseCidr(text);
      if (isCidrError(c)) issues.push(ruleIssue(rule, c.error));
      else if (c.text !== text) issues.push(ruleIssue(rule, `'${text}' is not written canonically (${c.text})`));
    }
    for (const p of rule.ports) {
      if (!Number.isInteger(p.from) || !Number.isInteger(p.to) || p.from < 1 || p.to > 65535 || p.from > p.to) {
        issues.push(ruleIssue(rule, `${JSON.stringify(p)} is not a port or port range within 1-65535`));
      }
    }
    if (rule.protocol === undefined) {
      const r = rule.remote;
      if (r.names.length + r.addresses.ipv4.length + r.addresses.ipv6.length + r.lists.length + r.peers.length > 0 || rule.ports.length > 0) {
        issues.push(ruleIssue(rule, `no protocol, but an other end or ports: as a program rule it would allow any address and port; give the protocol`));
      } else if (rule.programs.length === 0) {
        issues.push(ruleIssue(rule, `no protocol and no program: the rule would match everything`));
      }
    }
  }
  if (issues.length > 0) throw new InputError(sortIssues(issues));
}

function describeRule(rule: Rule): string {
  const ports = rule.protocol && rule.protocol !== 'icmp' ? ` ${formatPorts(rule.ports)}` : '';
  return `${rule.deviceClass} ${rule.direction} ${rule.protocol ?? 'program'}${ports} (rule ${rule.id})`;
}

/** One finding in the making: the networks and rules it names grow as more of them are met. */
interface Gathered {
  finding: Omit<CheckFinding, 'message'>;
  text: (nets: string) => string;
  nets: Set<string>;
  rules: Set<string>;
}

/**
 * Findings for every explicit "any" that reaches a rule: 0.0.0.0/0, ::/0 or all ports. Each
 * names where the value was written: the catalog flow or list, the profile's variable or
 * device class, or the lock file that pinned a name to it; a rule built elsewhere (a site's
 * own flow) is named by its own origin. What one place gives one device class through one
 * service is one finding, naming every network and rule it reaches, so a reviewer reads it
 * once and the profile answers it once (acknowledge: any-address or all-ports).
 */
export function explicitAnyFindings(rules: Rule[], catalog: Catalog, profile: Profile, names: Map<string, NameInfo>, lockFile = 'the lock file'): CheckFinding[] {
  const out = new Map<string, Gathered>();
  /** `text` gets the networks joined; the rule, when given, is listed after it. */
  const note = (loc: SourceLocation, check: CheckId, deviceClass: string, service: string | undefined, text: (nets: string) => string, net?: string, rule?: Rule): void => {
    const key = [formatLocation(loc), check, deviceClass, service ?? '', text('\u0000')].join('|');
    let g = out.get(key);
    if (!g) out.set(key, (g = { finding: { check, deviceClass, ...(service ? { service } : {}), loc }, text, nets: new Set(), rules: new Set() }));
    if (net) g.nets.add(net);
    if (rule) g.rules.add(describeRule(rule));
  };
  for (const rule of rules) {
    const service = `${rule.vendor}/${rule.service}`;
    const anyAt = (loc: SourceLocation, text: (nets: string) => string, net: string) => note(loc, 'any-address', rule.deviceClass, service, text, net, rule);
    const anyNets = [...rule.remote.addresses.ipv4, ...rule.remote.addresses.ipv6].filter(isAnyNetwork);
    const allPorts = rule.protocol !== undefined && rule.protocol !== 'icmp' && rule.ports.length === 1 && rule.ports[0]!.from === 1 && rule.ports[0]!.to === 65535;
    for (const net of anyNets) {
      let located = false;
      for (const o of rule.origins) {
        const vendor = catalog.vendors.get(o.vendor);
        const flow = vendor?.services.find((s) => s.id === o.service)?.flows[o.flow];
        if (!vendor || !flow) continue;
        for (const item of flow.addresses) {
          if (item instanceof Cidr && item.text === net) {
            anyAt(flow.origin, (n) => `the catalog flow ${o.vendor}/${o.service} allows any address (${n})`, net);
            located = true;
          } else if (!(item instanceof Cidr)) {
            const v = profile.vendors.get(o.vendor)?.variables.get(item.variable);
            if (v?.kind === 'addresses' && v.value.some((c) => c.text === net)) {
              anyAt(v.origin, (n) => `variable '${item.variable}' gives ${o.vendor}/${o.service} (${formatLocation(flow.origin)}) any address (${n})`, net);
              located = true;
            }
          }
        }
        for (const id of flow.lists) {
          const list = catalog.lists.get(id);
          if (list?.addresses.some((c) => c.text === net)) {
            anyAt(list.origin, (n) => `address list '${id}' holds any address (${n}), used by ${o.vendor}/${o.service} (${formatLocation(flow.origin)})`, net);
            located = true;
          }
        }
      }
      for (const peer of rule.remote.peers) {
        const b = profile.deviceClasses.get(peer);
        if (b?.cidrs.some((c) => c.text === net)) {
          anyAt(b.origin, (n) => `device class '${peer}' is bound to any address (${n}) at the other end`, net);
          located = true;
        }
      }
      if (!located) for (const o of rule.origins) anyAt(o.loc, (n) => `allows any address (${n})`, net);
    }
    for (const name of rule.remote.names) {
      const pinned = names.get(name)?.addresses;
      for (const net of [...(pinned?.ipv4 ?? []), ...(pinned?.ipv6 ?? [])].filter(isAnyNetwork)) {
        anyAt(rule.origins[0]!.loc, (n) => `${lockFile} pins ${name} to any address (${n})`, net);
      }
    }
    if (allPorts) {
      const portVariables = rule.origins.flatMap((o) => {
        const flow = catalog.vendors.get(o.vendor)?.services.find((s) => s.id === o.service)?.flows[o.flow];
        return (flow?.ports ?? []).flatMap((p) => ('variable' in p ? [{ vendor: o.vendor, name: p.variable }] : []));
      });
      for (const { vendor, name } of portVariables) {
        const v = profile.vendors.get(vendor)?.variables.get(name);
        if (v) note(v.origin, 'all-ports', rule.deviceClass, service, () => `variable '${name}' makes the rule allow every port (1-65535)`, undefined, rule);
      }
      for (const o of rule.origins) note(o.loc, 'all-ports', rule.deviceClass, service, () => `allows every port (1-65535)`, undefined, rule);
    }
  }
  for (const b of profile.deviceClasses.values()) {
    for (const c of b.cidrs.filter((x) => isAnyNetwork(x.text))) note(b.origin, 'any-address', b.id, undefined, (n) => `device class '${b.id}' is bound to any address (${n})`, c.text);
  }
  return [...out.values()]
    .map((g) => {
      const nets = [...g.nets].sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')) || a.localeCompare(b)).join(', ');
      const rulesText = [...g.rules].sort().join('; ');
      return { ...g.finding, message: `${g.text(nets)}${rulesText ? `: ${rulesText}` : ''}` };
    })
    .sort(byLocation);
}

/** Location order, then message: how findings and warnings are listed. */
export function byLocation(a: { loc: SourceLocation; message: string }, b: { loc: SourceLocation; message: string }): number {
  return a.loc.file.localeCompare(b.loc.file) || a.loc.line - b.loc.line || a.loc.col - b.loc.col || a.message.localeCompare(b.message);
}
