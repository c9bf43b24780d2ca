import { IssueList } from '../../errors';
import type { AddressMatch, Chain, IpFamily, PortMatch, RuleMatch, Ruleset, RulesetRule } from '../model';
import { cidrRange, normalize, rangesToCidrs } from '../ranges';
import { parseLocatedJson, shortJson, type LocatedJson } from './located-json';
import { append } from '../../util/append';

/**
 * Windows Defender Firewall rules as the README's command exports them:
 *
 *   [pscustomobject]@{
 *     Profiles = @(Get-NetFirewallProfile | Select-Object Name, Enabled, DefaultInboundAction, DefaultOutboundAction)
 *     DynamicKeywordAddresses = @(Get-NetFirewallDynamicKeywordAddress -All | Select-Object Id, Keyword, Addresses, AutoResolve)
 *     Rules = @(Get-NetFirewallRule -PolicyStore ActiveStore | Select-Object Name, DisplayName, Group, Enabled, Direction, Action, Profile,
 *       @{n='AddressFilter'; e={$_ | Get-NetFirewallAddressFilter | Select-Object LocalAddress, RemoteAddress, RemoteDynamicKeywordAddresses}},
 *       @{n='PortFilter'; e={$_ | Get-NetFirewallPortFilter | Select-Object Protocol, LocalPort, RemotePort, IcmpType}},
 *       @{n='ApplicationFilter'; e={$_ | Get-NetFirewallApplicationFilter | Select-Object Program}})
 *   } | ConvertTo-Json -Depth 5 | Out-File -Encoding utf8 firewall.json
 *
 * or just the Rules list. ConvertTo-Json writes enums as numbers (Windows PowerShell) or names
 * (with -EnumsAsStrings); both are read. Windows' semantics: within a profile and direction a
 * Block rule wins over every Allow rule, whatever their order, and what no rule matches meets
 * the profile's default action; a profile with the firewall off filters nothing. Each profile
 * is its own rule set, since a host is in one at a time.
 */

export type WindowsProfile = 'Domain' | 'Private' | 'Public';
export const WINDOWS_PROFILES: WindowsProfile[] = ['Domain', 'Private', 'Public'];

export interface WindowsProfileRules {
  profile: WindowsProfile;
  ruleset: Ruleset;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keywords Windows resolves on the host (LocalSubnet, DNS, ...): not addresses the file holds. */
const ADDRESS_KEYWORDS = /^(localsubnet|localsubnet4|localsubnet6|dns|dns4|dns6|dhcp|dhcp4|dhcp6|wins|wins4|wins6|defaultgateway|defaultgateway4|defaultgateway6|internet|intranet|intranetremoteaccess|playtodevice|captiveportaladdresses|remotecorpnetwork|me)$/i;

class Reader {
  readonly issues = new IssueList();
  private readonly keywords = new Map<string, { names?: string[]; cidrs?: string[] }>();

  constructor(
    private readonly doc: LocatedJson,
    private readonly file: string,
  ) {}

  at(node: object, field: string, message: string): void {
    this.issues.add({ file: this.file, ...this.doc.where(node) }, field, message);
  }

  /** A value ConvertTo-Json may write as one item or as a list of them. */
  many(v: unknown): unknown[] {
    return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
  }

  strings(owner: Json, key: string, field: string): string[] | undefined {
    const items = this.many(owner[key]);
    if (items.some((x) => typeof x !== 'string')) {
      this.at(owner, `${field}.${key}`, 'must be a string or a list of strings');
      return undefined;
    }
    return (items as string[]).map((s) => s.trim()).filter((s) => s !== '');
  }

  enumValue(owner: Json, key: string, field: string, names: Record<string, string>, fallback?: string): string | undefined {
    const v = owner[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.at(owner, `${field}.${key}`, 'is missing');
      return undefined;
    }
    const k = String(v).toLowerCase();
    const got = names[k];
    if (got === undefined) this.at(owner, `${field}.${key}`, `'${String(v)}' is not one of ${[...new Set(Object.values(names))].join(', ')}`);
    return got;
  }

  readKeywords(list: unknown): void {
    for (const [i, k] of this.many(list).entries()) {
      if (!isObject(k)) continue;
      const field = `DynamicKeywordAddresses[${i}]`;
      const id = typeof k.Id === 'string' ? k.Id.toLowerCase() : undefined;
      if (!id) {
        this.at(k, `${field}.Id`, 'is missing');
        continue;
      }
      const auto = k.AutoResolve === true || String(k.AutoResolve).toLowerCase() === 'true';
      if (auto && typeof k.Keyword === 'string') this.keywords.set(id, { names: [k.Keyword.trim().toLowerCase()] });
      else if (typeof k.Addresses === 'string') this.keywords.set(id, { cidrs: k.Addresses.split(',').map((s) => s.trim()).filter(Boolean) });
      else this.keywords.set(id, {});
    }
  }

  /** Addresses as Windows writes them: Any, a CIDR, address/mask, a first-last range, or a keyword. */
  addresses(texts: string[], owner: Json, field: string): { cidrs: string[]; keyword?: string } | 'any' {
    if (texts.length === 0 || texts.some((t) => t === '*' || t.toLowerCase() === 'any')) return 'any';
    const cidrs: string[] = [];
    for (const t of texts) {
      if (ADDRESS_KEYWORDS.test(t)) return { cidrs, keyword: t };
      const range = /^([^-/\s]+)-([^-/\s]+)$/.exec(t);
      if (range) {
        const a = cidrRange(range[1]!);
        const b = cidrRange(range[2]!);
        if ('error' in a || 'error' in b || a.family !== b.family || a.range[0] > b.range[0]) {
          this.at(owner, field, `'${t}' is not an address range first-last`);
          continue;
        }
        append(cidrs, rangesToCidrs(normalize([[a.range[0], b.range[0]]]), a.family));
        continue;
      }
      const mask = /^([0-9.]+)\/([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$/.exec(t);
      let text = t;
      if (mask) {
        const m = cidrRange(mask[2]!);
        const bits = 'error' in m ? -1 : m.range[0].toString(2).padStart(32, '0');
        const prefix = typeof bits === 'string' && /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : -1;
        if (prefix < 0) {
          this.at(owner, field, `'${t}': the mask is not a contiguous network mask`);
          continue;
        }
        text = `${mask[1]}/${prefix}`;
      }
      const c = cidrRange(text);
      if ('error' in c) this.at(owner, field, c.error);
      else append(cidrs, rangesToCidrs([c.range], c.family));
    }
    return { cidrs };
  }

  ports(texts: string[] | undefined, owner: Json, field: string): PortMatch | 'any' | { keyword: string } {
    if (!texts || texts.length === 0 || texts.some((t) => t.toLowerCase() === 'any' || t === '*')) return 'any';
    const ranges: Array<[number, number]> = [];
    for (const t of texts) {
      const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(t);
      if (!m) return { keyword: t };
      const lo = Number(m[1]);
      const hi = Number(m[2] ?? m[1]);
      if (hi > 65535 || lo > hi) this.at(owner, field, `'${t}' is not a port or range of ports`);
      else ranges.push([lo, hi]);
    }
    return { ranges };
  }

  rule(r: Json, field: string): { profiles: WindowsProfile[] | 'all'; inbound: boolean; block: boolean; match: RuleMatch; unsupported: string[]; text: string } | undefined {
    const enabled = this.enumValue(r, 'Enabled', field, { '1': 'on', true: 'on', '2': 'off', false: 'off', '0': 'off' });
    const direction = this.enumValue(r, 'Direction', field, { '1': 'in', inbound: 'in', '2': 'out', outbound: 'out' });
    const action = this.enumValue(r, 'Action', field, { '0': 'none', notconfigured: 'none', '2': 'allow', allow: 'allow', '4': 'block', block: 'block' });
    const profileRaw = r.Profile ?? 'Any';
    let profiles: WindowsProfile[] | 'all' = 'all';
    if (typeof profileRaw === 'number') {
      if (!Number.isInteger(profileRaw) || profileRaw < 0 || profileRaw > 7) this.at(r, `${field}.Profile`, `${profileRaw} is not a profile set`);
      else if (profileRaw !== 0 && profileRaw !== 7) profiles = WINDOWS_PROFILES.filter((_, i) => (profileRaw & (1 << i)) !== 0);
    } else if (typeof profileRaw === 'string') {
      const parts = profileRaw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
      if (!parts.includes('any')) {
        const known = WINDOWS_PROFILES.filter((p) => parts.includes(p.toLowerCase()));
        if (known.length !== parts.length) this.at(r, `${field}.Profile`, `'${profileRaw}' names a profile other than Any, Domain, Private, Public`);
        profiles = known.length === 3 ? 'all' : known;
      }
    } else this.at(r, `${field}.Profile`, 'must be a profile name list or number');
    if (!enabled || !direction || !action || enabled === 'off' || action === 'none') return undefined;
    const inbound = direction === 'in';
    const match: RuleMatch = {};
    const unsupported: string[] = [];
    const pf = isObject(r.PortFilter) ? r.PortFilter : {};
    const af = isObject(r.AddressFilter) ? r.AddressFilter : {};
    const app = isObject(r.ApplicationFilter) ? r.ApplicationFilter : {};
    const protoRaw = pf.Protocol === undefined || pf.Protocol === null ? 'Any' : String(pf.Protocol);
    const proto = protoRaw.toLowerCase();
    if (proto === 'tcp' || proto === '6') match.protocol = 'tcp';
    else if (proto === 'udp' || proto === '17') match.protocol = 'udp';
    else if (proto === 'icmpv4' || proto === '1') Object.assign(match, { protocol: 'icmp', family: 4 });
    else if (proto === 'icmpv6' || proto === '58') Object.assign(match, { protocol: 'icmp', family: 6 });
    else if (/^[0-9]{1,3}$/.test(proto) && Number(proto) <= 255) match.protocol = Number(proto);
    else if (proto !== 'any') this.at(pf, `${field}.PortFilter.Protocol`, `'${protoRaw}' is not a protocol`);
    const icmp = this.strings(pf, 'IcmpType', `${field}.PortFilter`) ?? [];
    if (icmp.length > 0 && !icmp.some((t) => t.toLowerCase() === 'any')) unsupported.push(`ICMP types ${icmp.join(', ')} only`);
    for (const [key, local] of [['LocalPort', true], ['RemotePort', false]] as const) {
      const p = this.ports(this.strings(pf, key, `${field}.PortFilter`), pf, `${field}.PortFilter.${key}`);
      if (p === 'any') continue;
      if ('keyword' in p) {
        unsupported.push(`${key} ${p.keyword}`);
        continue;
      }
      // The local port is the destination of what comes in and the source of what goes out.
      match[local === inbound ? 'dport' : 'sport'] = p;
    }
    for (const [key, local] of [['LocalAddress', true], ['RemoteAddress', false]] as const) {
      const texts = this.strings(af, key, `${field}.AddressFilter`) ?? [];
      const a = this.addresses(texts, af, `${field}.AddressFilter.${key}`);
      if (a === 'any') continue;
      if (a.keyword) unsupported.push(`${key} ${a.keyword}, which Windows works out on the host`);
      match[local === inbound ? 'dst' : 'src'] = { cidrs: a.cidrs };
    }
    const ids = this.strings(af, 'RemoteDynamicKeywordAddresses', `${field}.AddressFilter`) ?? [];
    if (ids.length > 0) {
      const end: AddressMatch = { cidrs: [], names: [] };
      for (const id of ids) {
        const k = this.keywords.get(id.toLowerCase());
        if (!k) unsupported.push(`dynamic keyword address ${id}, which the file does not define`);
        else if (!k.names && !k.cidrs) unsupported.push(`dynamic keyword address ${id} without addresses`);
        else {
          append(end.cidrs, (k.cidrs ?? []));
          append(end.names!, (k.names ?? []));
        }
      }
      match[inbound ? 'src' : 'dst'] = end;
    }
    const program = typeof app.Program === 'string' ? app.Program.trim() : undefined;
    if (program && program.toLowerCase() !== 'any') match.program = program;
    return { profiles, inbound, block: action === 'block', match, unsupported, text: `${String(r.Name ?? '')} (${String(r.DisplayName ?? '')}): ${inbound ? 'inbound' : 'outbound'} ${action} ${shortJson({ PortFilter: pf, AddressFilter: af, ApplicationFilter: app })}` };
  }
}

function defaultAction(v: unknown, inbound: boolean): 'accept' | 'drop' {
  const k = String(v ?? '').toLowerCase();
  if (k === 'allow' || k === '2') return 'accept';
  if (k === 'block' || k === '4') return 'drop';
  return inbound ? 'drop' : 'accept'; // NotConfigured: Windows' own defaults
}

export function readWindowsProfiles(file: string, text: string): WindowsProfileRules[] {
  const doc = parseLocatedJson(text, file);
  const r = new Reader(doc, file);
  const root = doc.value;
  let rules: unknown[];
  let profiles: Json[] = [];
  const notes: string[] = [];
  if (isObject(root) && root.Rules !== undefined) {
    rules = r.many(root.Rules);
    profiles = r.many(root.Profiles).filter(isObject);
    r.readKeywords(root.DynamicKeywordAddresses);
  } else rules = r.many(root);
  if (profiles.length === 0) notes.push('the file holds no Profiles: Windows\' defaults are assumed (inbound Block, outbound Allow, firewall on)');
  const read = rules.map((x, i) => {
    if (!isObject(x)) {
      r.issues.add({ file, line: 1, col: 1 }, `Rules[${i}]`, 'must be an object');
      return undefined;
    }
    const got = r.rule(x, `Rules[${i}]`);
    return got && { ...got, line: doc.where(x).line };
  });
  r.issues.throwIfAny();
  return WINDOWS_PROFILES.map((profile) => {
    const p = profiles.find((x) => String(x.Name).toLowerCase() === profile.toLowerCase());
    const off = p !== undefined && ['false', '0'].includes(String(p.Enabled).toLowerCase());
    const where = p ? doc.where(p).line : 1;
    const chain = (inbound: boolean): Chain => {
      const mine = off ? [] : read.filter((x): x is NonNullable<typeof x> => !!x && x.inbound === inbound && (x.profiles === 'all' || x.profiles.includes(profile)));
      // Block rules first: on Windows a matching Block rule wins over any Allow rule.
      const ordered = [...mine.filter((x) => x.block), ...mine.filter((x) => !x.block)];
      const policy = off ? 'accept' : defaultAction(p?.[inbound ? 'DefaultInboundAction' : 'DefaultOutboundAction'], inbound);
      return {
        name: `${profile} ${inbound ? 'inbound' : 'outbound'}`,
        hook: inbound ? 'input' : 'output',
        families: [4, 6] as IpFamily[],
        policy,
        policySource: { file, line: where, text: off ? `${profile} profile: firewall off` : `${profile} profile: Default${inbound ? 'Inbound' : 'Outbound'}Action ${policy === 'accept' ? 'Allow' : 'Block'}` },
        rules: ordered.map((x): RulesetRule => ({
          match: x.match,
          verdict: { kind: x.block ? 'drop' : 'accept' },
          source: { file, line: x.line, text: x.text },
          ...(x.unsupported.length ? { unsupported: x.unsupported.join('; ') } : {}),
        })),
      };
    };
    return { profile, ruleset: { format: 'windows' as const, file, chains: [chain(true), chain(false)], notes: off ? [...notes, `the ${profile} profile has the firewall off`] : notes } };
  });
}
