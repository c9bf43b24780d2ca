import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { InputError, IssueList, type SourceLocation } from '../../errors';
import { hostNameProblem } from '../../net/host-names';
import type { AddressMatch, Chain, DeclaredInterface, IpFamily, PortMatch, RuleMatch, Ruleset, RulesetRule, SourceRef } from '../model';
import { cidrRange, normalize, rangesToCidrs } from '../ranges';
import { append } from '../../util/append';
import { LineTable } from '../../util/line-table';

/**
 * A pfSense config.xml (a full backup or the <aliases>/<filter> areas) as the rules pfSense
 * loads into pf. Rules apply to packets entering their interface, first match wins, and what no
 * rule passes is blocked (pfSense's default deny). The order pf sees: quick floating rules,
 * then each interface's rules in the file's order, then non-quick floating rules (last match
 * wins among those, so they are taken in reverse). Disabled rules are skipped; aliases are
 * resolved, nested ones too; FQDN entries stay names (pfSense resolves them itself). The
 * anti-lockout rule pfSense adds on LAN unless it is turned off is part of the result.
 *
 * The file is untrusted: it is checked to be well-formed XML before it is read, and a document
 * type (where entities would be declared) is refused, so nothing in it expands.
 */

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

const parser = new XMLParser({
  isArray: (name) => ['alias', 'rule'].includes(name),
  parseTagValue: false,
  ignoreAttributes: true,
  captureMetaData: true,
  processEntities: true,
  htmlEntities: false,
});
const META = XMLParser.getMetaDataSymbol();

interface Alias {
  type: string;
  entries: string[];
  line: number;
}

interface Resolved {
  cidrs: string[];
  names: string[];
  /** Set when part of the alias is content pfSense fetches (url, urltable): not in the file. */
  unsupported?: string;
}

const ALIAS_NESTING = 32;

class Reader {
  readonly issues = new IssueList();
  readonly notes: string[] = [];
  private readonly lines: LineTable;
  readonly aliases = new Map<string, Alias>();
  readonly nets = new Map<string, { v4?: string; v6?: string; ip4?: string; ip6?: string; dynamic?: string; device?: string }>();

  constructor(
    text: string,
    readonly file: string,
  ) {
    this.lines = new LineTable(text);
  }

  lineOf(node: unknown, fallback = 1): number {
    const start = isNode(node) ? (node[META as unknown as string] as { startIndex?: number } | undefined)?.startIndex : undefined;
    if (start === undefined) return fallback;
    return this.lines.linePos(start).line;
  }

  loc(line: number): SourceLocation {
    return { file: this.file, line, col: 1 };
  }

  readInterfaces(ifs: unknown): void {
    if (!isNode(ifs)) return;
    for (const [name, v] of Object.entries(ifs)) {
      if (!isNode(v)) continue;
      const entry: { v4?: string; v6?: string; ip4?: string; ip6?: string; dynamic?: string; device?: string } = {};
      if (typeof v.if === 'string' && v.if.trim()) entry.device = v.if.trim();
      for (const [ipKey, subKey, fam] of [['ipaddr', 'subnet', 4], ['ipaddrv6', 'subnetv6', 6]] as const) {
        const ip = typeof v[ipKey] === 'string' ? (v[ipKey] as string).trim() : '';
        if (!ip) continue;
        const c = cidrRange(`${ip}/${String(v[subKey] ?? (fam === 4 ? 32 : 128)).trim()}`);
        if ('error' in c || c.family !== fam) {
          entry.dynamic = `${name}'s ${fam === 4 ? 'IPv4' : 'IPv6'} address is ${ip} (assigned at run time)`;
          continue;
        }
        const net = rangesToCidrs([c.range], fam)[0]!;
        if (fam === 4) Object.assign(entry, { v4: net, ip4: `${ip}/32` });
        else Object.assign(entry, { v6: net, ip6: `${ip}/128` });
      }
      this.nets.set(name.toLowerCase(), entry);
    }
  }

  readAliases(aliases: unknown): void {
    const list = isNode(aliases) && Array.isArray(aliases.alias) ? aliases.alias : [];
    for (const [i, a] of list.entries()) {
      if (!isNode(a)) continue;
      const line = this.lineOf(a);
      const name = typeof a.name === 'string' ? a.name.trim() : '';
      if (!name) {
        this.issues.add(this.loc(line), `aliases.alias[${i}].name`, 'is missing');
        continue;
      }
      const type = typeof a.type === 'string' ? a.type.trim() : 'host';
      const entries = (typeof a.address === 'string' ? a.address : typeof a.url === 'string' ? a.url : '').split(/\s+/).filter(Boolean);
      this.aliases.set(name, { type, entries, line });
    }
  }

  /** An address alias's entries as networks and names, nested aliases followed. */
  resolveAddressAlias(name: string, at: number, trail: string[] = []): Resolved {
    const alias = this.aliases.get(name)!;
    if (trail.includes(name) || trail.length > ALIAS_NESTING) {
      this.issues.add(this.loc(alias.line), `alias ${name}`, `aliases nest in a loop: ${[...trail, name].join(' > ')}`);
      return { cidrs: [], names: [] };
    }
    if (alias.type === 'port') {
      this.issues.add(this.loc(at), `alias ${name}`, 'a port alias where an address is expected');
      return { cidrs: [], names: [] };
    }
    if (!['host', 'network'].includes(alias.type)) return { cidrs: [], names: [], unsupported: `alias ${name} is a ${alias.type} alias: pfSense fetches its content, the file does not hold it` };
    const out: Resolved = { cidrs: [], names: [] };
    for (const e of alias.entries) {
      const got = this.addressEntry(e, alias.line, [...trail, name]);
      append(out.cidrs, got.cidrs);
      append(out.names, got.names);
      if (got.unsupported) out.unsupported = got.unsupported;
    }
    return out;
  }

  addressEntry(e: string, line: number, trail: string[]): Resolved {
    if (this.aliases.has(e)) return this.resolveAddressAlias(e, line, trail);
    const range = /^([^-/\s]+)-([^-/\s]+)$/.exec(e);
    if (range) {
      const a = cidrRange(range[1]!);
      const b = cidrRange(range[2]!);
      if (!('error' in a) && !('error' in b) && a.family === b.family && a.range[0] <= b.range[0]) {
        return { cidrs: rangesToCidrs(normalize([[a.range[0], b.range[0]]]), a.family), names: [] };
      }
    }
    const c = cidrRange(e);
    if (!('error' in c)) return { cidrs: rangesToCidrs([c.range], c.family), names: [] };
    if (!hostNameProblem(e)) return { cidrs: [], names: [e.toLowerCase()] };
    this.issues.add(this.loc(line), trail.length ? `alias ${trail[trail.length - 1]}` : 'address', `'${e}' is not an address, network, range, host name or alias`);
    return { cidrs: [], names: [] };
  }

  portEntries(entries: string[], line: number, field: string, trail: string[] = []): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const e of entries) {
      const alias = this.aliases.get(e);
      if (alias) {
        if (trail.includes(e) || trail.length > ALIAS_NESTING) {
          this.issues.add(this.loc(alias.line), `alias ${e}`, `aliases nest in a loop: ${[...trail, e].join(' > ')}`);
          continue;
        }
        if (alias.type !== 'port') {
          this.issues.add(this.loc(line), field, `alias ${e} is a ${alias.type} alias where ports are expected`);
          continue;
        }
        append(out, this.portEntries(alias.entries, alias.line, `alias ${e}`, [...trail, e]));
        continue;
      }
      const m = /^([0-9]{1,5})(?:[:-]([0-9]{1,5}))?$/.exec(e);
      const lo = m ? Number(m[1]) : NaN;
      const hi = m ? Number(m[2] ?? m[1]) : NaN;
      if (!m || hi > 65535 || lo > hi) this.issues.add(this.loc(line), field, `'${e}' is not a port, range of ports or port alias`);
      else out.push([lo, hi]);
    }
    return out;
  }

  /** A rule's <source> or <destination>: the addresses, their ports, and what could not be read. */
  end(v: unknown, line: number, field: string): { addr?: AddressMatch; port?: PortMatch; unsupported?: string } {
    if (!isNode(v)) return {};
    const out: { addr?: AddressMatch; port?: PortMatch; unsupported?: string } = {};
    const negate = 'not' in v;
    if (typeof v.address === 'string' && v.address.trim()) {
      const a = v.address.trim();
      const got = this.addressEntry(a, line, []);
      out.addr = { cidrs: got.cidrs, ...(got.names.length ? { names: got.names } : {}), ...(this.aliases.has(a) ? { name: a } : {}), ...(negate ? { negate } : {}) };
      if (got.unsupported) out.unsupported = got.unsupported;
    } else if (typeof v.network === 'string' && v.network.trim()) {
      const n = v.network.trim().toLowerCase();
      const ip = n.endsWith('ip');
      const net = this.nets.get(ip ? n.slice(0, -2) : n);
      const all = [...this.nets.values()];
      if (n === '(self)') {
        // Every address of the firewall: exact when each interface's address is in the file.
        const dynamic = all.find((x) => x.dynamic)?.dynamic;
        if (dynamic || all.length === 0) out.unsupported = `(self): every address of the firewall${dynamic ? `, and ${dynamic}` : ', and the file declares no interface'}`;
        else out.addr = { cidrs: all.flatMap((x) => [x.ip4, x.ip6]).filter((x): x is string => !!x), name: '(self)', ...(negate ? { negate } : {}) };
      }
      else if (!net) this.issues.add(this.loc(line), `${field}.network`, `'${n}' is not an interface of this configuration`);
      else {
        const cidrs = (ip ? [net.ip4, net.ip6] : [net.v4, net.v6]).filter((x): x is string => !!x);
        if (net.dynamic) out.unsupported = net.dynamic;
        out.addr = { cidrs, name: `${n}${ip ? '' : ' net'}`, ...(negate ? { negate } : {}) };
      }
    }
    if (typeof v.port === 'string' && v.port.trim()) out.port = { ranges: this.portEntries([v.port.trim()], line, `${field}.port`) };
    return out;
  }

  rule(r: Node, index: number, iface: string | undefined, direction: 'in' | 'out'): RulesetRule[] {
    const line = this.lineOf(r);
    const field = `filter.rule[${index}]`;
    const type = typeof r.type === 'string' ? r.type.trim() : 'pass';
    const verdict = type === 'pass' ? 'accept' : type === 'block' || type === 'reject' ? 'drop' : type === 'match' ? 'continue' : undefined;
    if (!verdict) {
      this.issues.add(this.loc(line), `${field}.type`, `'${type}' is not pass, block, reject or match`);
      return [];
    }
    const match: RuleMatch = {};
    const unsupported: string[] = [];
    const ipp = typeof r.ipprotocol === 'string' ? r.ipprotocol.trim() : 'inet';
    if (ipp === 'inet') match.family = 4;
    else if (ipp === 'inet6') match.family = 6;
    else if (ipp !== 'inet46') this.issues.add(this.loc(line), `${field}.ipprotocol`, `'${ipp}' is not inet, inet6 or inet46`);
    const proto = typeof r.protocol === 'string' ? r.protocol.trim().toLowerCase() : '';
    const protocols: Array<RuleMatch['protocol']> = [];
    if (proto === '' || proto === 'any') protocols.push(undefined);
    else if (proto === 'tcp/udp') protocols.push('tcp', 'udp');
    else if (proto === 'tcp' || proto === 'udp') protocols.push(proto);
    else if (proto === 'icmp' || proto === 'ipv6-icmp' || proto === 'icmp6') protocols.push('icmp');
    else {
      const numbers: Record<string, number> = { esp: 50, ah: 51, gre: 47, ipv6: 41, igmp: 2, pim: 103, ospf: 89, sctp: 132, carp: 112, pfsync: 240 };
      if (numbers[proto] !== undefined) protocols.push(numbers[proto]);
      else this.issues.add(this.loc(line), `${field}.protocol`, `'${proto}' is not a protocol pfSense offers`);
    }
    if (typeof r.icmptype === 'string' && r.icmptype.trim() && r.icmptype.trim() !== 'any') unsupported.push(`ICMP types ${r.icmptype.trim()} only`);
    if (typeof r.sched === 'string' && r.sched.trim()) unsupported.push(`schedule ${r.sched.trim()}`);
    if (typeof r.tagged === 'string' && r.tagged.trim()) unsupported.push(`tagged ${r.tagged.trim()}`);
    const src = this.end(r.source, line, `${field}.source`);
    const dst = this.end(r.destination, line, `${field}.destination`);
    for (const e of [src, dst]) if (e.unsupported) unsupported.push(e.unsupported);
    if (src.addr) match.src = src.addr;
    if (dst.addr) match.dst = dst.addr;
    if (src.port) match.sport = src.port;
    if (dst.port) match.dport = dst.port;
    if (iface) match[direction === 'in' ? 'iif' : 'oif'] = iface;
    const descr = typeof r.descr === 'string' ? r.descr.trim() : '';
    const source: SourceRef = { file: this.file, line, text: `${type} on ${iface ?? 'any interface'}${descr ? `: ${descr}` : ''}`.replace(/\s+/g, ' ') };
    return protocols.map((p) => {
      const m: RuleMatch = { ...match, ...(p !== undefined ? { protocol: p } : {}) };
      // Ports only mean something for tcp and udp; pfSense keeps stale port fields on other protocols.
      if (p !== 'tcp' && p !== 'udp') {
        delete m.sport;
        delete m.dport;
      }
      return { match: m, verdict: { kind: verdict } as RulesetRule['verdict'], source, ...(unsupported.length ? { unsupported: unsupported.join('; ') } : {}) };
    });
  }

  antiLockout(system: unknown): RulesetRule[] {
    if (!isNode(system)) return [];
    const webgui = isNode(system.webgui) ? system.webgui : {};
    if ('noantilockout' in webgui) return [];
    const iface = this.nets.has('lan') ? 'lan' : 'wan';
    const net = this.nets.get(iface);
    const protocol = typeof webgui.protocol === 'string' ? webgui.protocol.trim() : 'https';
    const gui = Number(typeof webgui.port === 'string' && webgui.port.trim() ? webgui.port.trim() : protocol === 'http' ? 80 : 443);
    const ports = new Set([gui, 80]);
    const ssh = isNode(system.ssh) ? system.ssh : undefined;
    if (ssh && 'enable' in ssh) ports.add(Number(typeof ssh.port === 'string' && ssh.port.trim() ? ssh.port.trim() : 22));
    const line = this.lineOf(system);
    this.notes.push(`pfSense's anti-lockout rule passes tcp ${[...ports].sort((a, b) => a - b).join(', ')} to the ${iface} address on ${iface} (System > Advanced > Admin Access); it is taken as the first rule of ${iface}`);
    return [{
      match: { iif: iface, protocol: 'tcp', dst: { cidrs: [net?.ip4, net?.ip6].filter((x): x is string => !!x), name: `${iface} address` }, dport: { ranges: [...ports].sort((a, b) => a - b).map((p) => [p, p] as [number, number]) } },
      verdict: { kind: 'accept' },
      source: { file: this.file, line, text: `anti-lockout rule on ${iface} (implicit in pfSense)` },
    }];
  }
}

export function readPfsense(file: string, text: string): Ruleset {
  const doctype = /<!DOCTYPE|<!ENTITY/i.exec(text);
  if (doctype) {
    const line = text.slice(0, doctype.index).split('\n').length;
    throw documentError(file, line, 'a document type or entity declaration; pfSense never writes one, and fwgen does not expand entities');
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw documentError(file, valid.err.line, `not well-formed XML: ${valid.err.msg}`, valid.err.col);
  const doc = parser.parse(text) as Node;
  const r = new Reader(text, file);
  const root = isNode(doc.pfsense) ? doc.pfsense : undefined;
  if (!root) throw documentError(file, 1, 'expected a pfSense configuration: a <pfsense> element with <filter> (and <aliases>)');
  r.readInterfaces(root.interfaces);
  r.readAliases(root.aliases);
  const filter = isNode(root.filter) && Array.isArray(root.filter.rule) ? root.filter.rule : [];
  const quickFloating: RulesetRule[] = [];
  const lateFloating: RulesetRule[] = [];
  const byInterface = new Map<string, RulesetRule[]>();
  const lockout = r.antiLockout(root.system);
  if (lockout.length) byInterface.set(lockout[0]!.match.iif!, [...lockout]);
  let outFloating = 0;
  for (const [i, rule] of filter.entries()) {
    if (!isNode(rule)) continue;
    if ('disabled' in rule) continue;
    const ifaces = (typeof rule.interface === 'string' ? rule.interface : '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const floating = String(rule.floating ?? '').trim() === 'yes';
    if (!floating) {
      if (ifaces.length !== 1) {
        r.issues.add(r.loc(r.lineOf(rule)), `filter.rule[${i}].interface`, 'a rule that is not floating sits on exactly one interface');
        continue;
      }
      const list = byInterface.get(ifaces[0]!) ?? [];
      append(list, r.rule(rule, i, ifaces[0], 'in'));
      byInterface.set(ifaces[0]!, list);
      continue;
    }
    const direction = typeof rule.direction === 'string' ? rule.direction.trim() : 'any';
    if (direction === 'out') {
      outFloating++;
      continue;
    }
    const made = (ifaces.length ? ifaces : [undefined]).flatMap((f) => r.rule(rule, i, f, 'in'));
    append((String(rule.quick ?? '').trim() === 'yes' ? quickFloating : lateFloating), made);
  }
  if (outFloating) r.notes.push(`${outFloating} floating rule(s) for the out direction are not modelled: a connection passed in on its interface leaves on its state`);
  for (const [i, rule] of filter.entries()) {
    if (isNode(rule) && !('disabled' in rule) && /^Default allow LAN (IPv6 )?to any rule$/.test(String(rule.descr ?? '').trim())) {
      r.notes.push(`line ${r.lineOf(rule)}: pfSense's stock "${String(rule.descr).trim()}" passes everything from LAN net (filter.rule[${i}])`);
    }
  }
  r.issues.throwIfAny();
  const rules = [...quickFloating, ...[...byInterface.values()].flat(), ...lateFloating.reverse()];
  const chain: Chain = {
    name: 'pfSense filter',
    hook: 'forward',
    families: [4, 6] as IpFamily[],
    policy: 'drop',
    policySource: { file, line: isNode(root.filter) ? r.lineOf(root.filter) : 1, text: 'pfSense default deny: what no rule passes is blocked' },
    rules,
  };
  const interfaces: DeclaredInterface[] = [...r.nets].map(([name, n]) => ({
    name,
    ...(n.device ? { device: n.device } : {}),
    networks: [n.v4, n.v6].filter((x): x is string => !!x),
    addresses: [n.ip4, n.ip6].filter((x): x is string => !!x),
  }));
  return { format: 'pfsense', file, chains: [chain], notes: r.notes, interfaces };
}

/** One located problem with the whole file, as the project's typed input error. */
function documentError(file: string, line: number, message: string, col = 1): InputError {
  return new InputError([{ loc: { file, line, col }, field: '(document)', message }]);
}
