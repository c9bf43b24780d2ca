import type { Policy, Rule } from '../policy/types';
import { formatPort } from '../net/ports';
import { awsDescription, identifier } from './escape';
import { Diagnostics } from './diagnostics';
import { ruleSummary } from './header';
import { sharedBuild } from './shared-build';
import type { TargetPart } from './types';

/** The file the aws target writes for an AWS Network Firewall beside its security groups. */
export const RULE_GROUP_FILE = 'network-firewall.rule-group.json';

const TLS_PORT = 443;
const HTTP_PORT = 80;
const VARIABLE_MAX = 32; // Network Firewall rule variable names
const PORTS = { tls: TLS_PORT, http: HTTP_PORT } as const;

type Protocol = keyof typeof PORTS;

/** Where a rule applies from: a device class's own addresses (a rule variable), or all of HOME_NET when the class has none. */
export type Source = { variable: string } | { homeNet: true };

/**
 * One Suricata rule of the group, as data; `sid` is its number in the group. A `name` rule
 * passes a host name (TLS SNI, HTTP Host; `*.x` matches names ending in `.x`), an `address`
 * rule passes the addresses of a rule variable, a `drop` rule stops what the class's passes
 * above it did not allow.
 */
export type SuricataRule = { sid: number; protocol: Protocol; source: Source } & (
  | { kind: 'name'; name: string; summary: string }
  | { kind: 'address'; variable: string; summary: string }
  | { kind: 'drop'; deviceClass: string }
);

/** The Network Firewall's view of a policy: the rule variables (name → addresses) and the rules in order. */
export interface NetworkFirewallBuild {
  variables: Record<string, string[]>;
  rules: SuricataRule[];
}

type Unnumbered = SuricataRule extends infer R ? (R extends SuricataRule ? Omit<R, 'sid'> : never) : never;

function covers(rule: Rule, port: number): boolean {
  return rule.ports.some((p) => p.from <= port && port <= p.to);
}

/**
 * A Suricata content string: a host name is letters, digits, dots and hyphens; anything else
 * (a quote, a semicolon, a pipe) is written as |hex| so it stays inside the string.
 */
function suricataContent(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9.-]/g, (c) => `|${Buffer.from(c).toString('hex').toUpperCase()}|`);
}

/** A Suricata msg: only characters with no meaning inside its quotes. */
function suricataMsg(text: string): string {
  return awsDescription(text).replace(/[;"\\|]/g, ' ');
}

/**
 * Suricata rules for the Network Firewall, per device class: TLS SNI on 443 and HTTP Host on
 * 80, each only where the catalog selects that port for the name. The class's own addresses
 * are the source, so a name one class may reach is not open to the others. Addresses the
 * class reaches on those ports without a name pass by address, so the drop rules at the end
 * (TLS to 443 and HTTP to 80 from the class, not passed above) do not cut them off.
 */
function buildOnce(policy: Policy, diags: Diagnostics): NetworkFirewallBuild {
  const variables: Record<string, string[]> = {};
  const passes: Unnumbered[] = [];
  const drops: Unnumbered[] = [];
  const varName = (base: string): string => {
    const stem = identifier(base).toUpperCase().replace(/^([^A-Z])/, 'V_$1');
    let name = stem.slice(0, VARIABLE_MAX);
    for (let n = 2; variables[name]; n++) name = `${stem.slice(0, VARIABLE_MAX - String(n).length - 1)}_${n}`;
    return name;
  };
  for (const c of policy.deviceClasses) {
    const rules = policy.rules.filter((r) => r.deviceClass === c.id && r.direction === 'outbound' && r.protocol === 'tcp');
    if (!rules.some((r) => r.remote.names.length > 0)) continue;
    const own = [...c.addresses.ipv4, ...c.addresses.ipv6];
    let source: Source = { homeNet: true };
    if (own.length > 0) {
      const variable = varName(`CLASS_${c.id}`);
      variables[variable] = own;
      source = { variable };
    } else {
      diags.add('warning', `device class ${c.id} has no addresses: its Network Firewall rules apply to every source in HOME_NET, so the names it may reach are open to all of them`);
    }
    // Keyed by the name and the msg it prints: the same name for two rules passes once per rule.
    const named: Record<Protocol, Map<string, { name: string; summary: string }>> = { tls: new Map(), http: new Map() };
    for (const rule of rules) {
      const summary = ruleSummary(rule);
      for (const protocol of ['tls', 'http'] as const) {
        if (!covers(rule, PORTS[protocol])) continue;
        for (const name of rule.remote.names) named[protocol].set(`${name}|${suricataMsg(summary)}`, { name, summary });
        const literal = [...rule.remote.addresses.ipv4, ...rule.remote.addresses.ipv6];
        if (literal.length > 0) {
          const variable = varName(`${rule.vendor}_${rule.service}_${c.id}`);
          variables[variable] = literal;
          passes.push({ kind: 'address', protocol, source, variable, summary });
        }
      }
      const other = rule.ports.filter((p) => !(p.from <= TLS_PORT && TLS_PORT <= p.to) && !(p.from <= HTTP_PORT && HTTP_PORT <= p.to));
      if (rule.remote.names.length > 0 && other.length > 0) {
        diags.add('warning', `${rule.id}: the Network Firewall rules match names by TLS SNI on 443 and HTTP Host on 80 only, so ${rule.remote.names.join(', ')} on tcp ${other.map((p) => formatPort(p)).join(', ')} stay matched by pinned addresses only`, rule);
      }
    }
    for (const protocol of ['tls', 'http'] as const) {
      for (const key of [...named[protocol].keys()].sort()) passes.push({ kind: 'name', protocol, source, ...named[protocol].get(key)! });
    }
    for (const protocol of ['tls', 'http'] as const) drops.push({ kind: 'drop', protocol, source, deviceClass: c.id });
  }
  for (const rule of policy.rules) {
    if (rule.direction === 'outbound' && rule.protocol !== 'tcp' && rule.remote.names.length > 0) {
      diags.add('warning', `${rule.id}: the Network Firewall sees names only in TLS SNI and HTTP Host, so ${rule.remote.names.join(', ')} on ${rule.protocol ?? 'a program'} stay matched by pinned addresses only`, rule);
    }
  }
  // Numbered in the order the firewall reads them: every pass before the drops.
  return { variables, rules: [...passes, ...drops].map((r, i) => ({ ...r, sid: i + 1 }) as SuricataRule) };
}

// files(), check() and view() all ask for the same build; callers only read what comes back.
const sharedNetworkFirewall = sharedBuild('network-firewall', (policy, _o: null, _key: undefined, diags) => buildOnce(policy, diags));

export function networkFirewallBuild(policy: Policy, diags: Diagnostics): NetworkFirewallBuild {
  return sharedNetworkFirewall(policy, null, undefined, diags);
}

const WHAT: Record<Protocol, { buffer: string; nocase: string; drop: string }> = {
  tls: { buffer: 'tls.sni', nocase: ' nocase;', drop: 'TLS' },
  // http.host is lower-cased by Suricata, so no nocase.
  http: { buffer: 'http.host', nocase: '', drop: 'HTTP' },
};

/** One rule as the Suricata text of the group's RulesString, every value escaped for it. */
export function suricataLine(rule: SuricataRule): string {
  const source = 'variable' in rule.source ? `$${rule.source.variable}` : '$HOME_NET';
  const port = PORTS[rule.protocol];
  const what = WHAT[rule.protocol];
  const tail = `flow:to_server, established; sid:${rule.sid}; rev:1;`;
  switch (rule.kind) {
    case 'name': {
      const wildcard = rule.name.startsWith('*.');
      const content = suricataContent(wildcard ? rule.name.slice(1) : rule.name);
      const match = `content:"${content}";${what.nocase}${wildcard ? '' : ' startswith;'} endswith;`;
      return `pass ${rule.protocol} ${source} any -> $EXTERNAL_NET ${port} (${what.buffer}; ${match} msg:"${suricataMsg(rule.summary)}"; ${tail})`;
    }
    case 'address':
      return `pass ${rule.protocol} ${source} any -> $${rule.variable} ${port} (msg:"${suricataMsg(rule.summary)} by address"; ${tail})`;
    case 'drop':
      return `drop ${rule.protocol} ${source} any -> $EXTERNAL_NET ${port} (msg:"fwgen ${suricataMsg(rule.deviceClass)}: ${what.drop} to a name not allowed"; ${tail})`;
  }
}

/** The rule group as `aws network-firewall create-rule-group --cli-input-json` reads it. */
function ruleGroup(policy: Policy, built: NetworkFirewallBuild): unknown {
  return {
    RuleGroupName: `fwgen-${policy.profile.name}-domains`,
    Type: 'STATEFUL',
    Capacity: Math.max(100, built.rules.length * 2),
    Description: awsDescription(
      `fwgen: the host names profile ${policy.profile.name} allows out per device class, TLS SNI on 443 and HTTP Host on 80 as the catalog selects them. Generated from ${policy.profile.file}.`,
      512,
    ),
    RuleGroup: {
      RuleVariables: { IPSets: Object.fromEntries(Object.entries(built.variables).map(([name, addresses]) => [name, { Definition: addresses }])) },
      RulesSource: { RulesString: built.rules.map(suricataLine).join('\n') },
    },
  };
}

/**
 * The AWS Network Firewall rule group: host names matched by TLS SNI and HTTP Host, which a
 * security group cannot do. A part of the aws target (registry.ts), whose folder and JSON
 * form it shares; written when some class reaches a name over TCP.
 */
/** The part writes one file, the whole rule group. */
export interface NetworkFirewallScope {
  kind: 'rule-group';
}

export const networkFirewall: TargetPart<{ json: string }, NetworkFirewallScope> = {
  id: 'network-firewall',
  apply: `aws network-firewall create-rule-group --cli-input-json file://${RULE_GROUP_FILE}`,
  files(policy) {
    const built = networkFirewallBuild(policy, new Diagnostics(networkFirewall.id));
    return built.rules.length > 0 ? [{ path: RULE_GROUP_FILE, template: 'document.json.hbs', scope: { kind: 'rule-group' } }] : [];
  },
  check(policy) {
    const diags = new Diagnostics(networkFirewall.id);
    networkFirewallBuild(policy, diags);
    return diags.list();
  },
  view: (policy) => ({ json: JSON.stringify(ruleGroup(policy, networkFirewallBuild(policy, new Diagnostics(networkFirewall.id))), null, 2) }),
};
