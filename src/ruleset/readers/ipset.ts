import type { SourceLocation } from '../../errors';
import type { IpFamily } from '../model';
import { addressCidrs, portRange, protocolOf, readError } from './values';

/**
 * `ipset save` output (and the `ipset restore` files fwgen writes): create, add, flush, destroy.
 * The types a filter matches on are read: hash:ip, hash:net (addresses), hash:ip,port and
 * hash:net,port (an address with a protocol and port), bitmap:port and list:set. A set created
 * with a timeout is filled at run time (dnsmasq, fail2ban): its saved elements are not all there is.
 */

export interface IpsetMember {
  cidrs: string[];
  /** For the port types: the protocol and port range of the element. */
  port?: { protocol: 'tcp' | 'udp' | 'icmp' | number; range: [number, number] };
}

export interface Ipset {
  name: string;
  type: string;
  family: IpFamily;
  members: IpsetMember[];
  /** list:set: the member sets, looked up when matched. */
  lists: string[];
  dynamic: boolean;
  loc: SourceLocation;
}

const TYPES = new Set(['hash:ip', 'hash:net', 'hash:ip,port', 'hash:net,port', 'bitmap:port', 'list:set', 'bitmap:ip']);

export function looksLikeIpset(text: string): boolean {
  return /^create \S+ (hash|bitmap|list):\S+/m.test(text) && !/^\*(filter|nat|mangle|raw|security)\s*$/m.test(text);
}

export function readIpsets(file: string, text: string, into: Map<string, Ipset> = new Map()): Map<string, Ipset> {
  text.split('\n').forEach((raw, n) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = (col = 1): SourceLocation => ({ file, line: n + 1, col });
    const words = line.split(/\s+/);
    const [cmd, name] = words;
    if (cmd === 'destroy' || cmd === 'x') {
      if (name === undefined) into.clear();
      else into.delete(name);
      return;
    }
    if (name === undefined) throw readError(at(), 'ipset', `'${cmd}' needs a set name`);
    if (cmd === 'create' || cmd === 'n' || cmd === '-N') {
      const type = words[2] ?? '';
      if (!TYPES.has(type)) throw readError(at(raw.indexOf(type) + 1), 'ipset type', `${name}: type '${type}' is not one fwgen reads (${[...TYPES].join(', ')})`);
      const fam = words[words.indexOf('family') + 1];
      into.set(name, {
        name,
        type,
        family: words.includes('family') && fam === 'inet6' ? 6 : 4,
        members: [],
        lists: [],
        dynamic: words.includes('timeout'),
        loc: at(),
      });
      return;
    }
    const set = into.get(name);
    if (!set) throw readError(at(raw.indexOf(name) + 1), 'ipset', `set ${name} is not created before this line`);
    if (cmd === 'flush' || cmd === 'F') {
      set.members = [];
      set.lists = [];
      return;
    }
    if (cmd === 'add' || cmd === 'a' || cmd === '-A' || cmd === 'del' || cmd === 'd' || cmd === '-D') {
      const value = words[2];
      if (value === undefined) throw readError(at(), 'ipset element', `${cmd} ${name} needs an element`);
      const col = raw.indexOf(value, raw.indexOf(name) + name.length) + 1;
      if (cmd.startsWith('d') || cmd === '-D') {
        set.members = set.members.filter((m) => m.cidrs.join() !== value && `${m.cidrs.join()},${m.port?.protocol}` !== value);
        set.lists = set.lists.filter((l) => l !== value);
        return;
      }
      if (set.type === 'list:set') set.lists.push(value);
      else set.members.push(member(set, value, at(col)));
      return;
    }
    throw readError(at(), 'ipset', `'${cmd}' is not an ipset command fwgen reads (create, add, del, flush, destroy)`);
  });
  return into;
}

function member(set: Ipset, value: string, loc: SourceLocation): IpsetMember {
  if (set.type === 'bitmap:port') return { cidrs: [], port: { protocol: 'tcp', range: portRange(value, loc, set.name) } };
  const [addr, portPart] = value.split(',');
  const cidrs = addressCidrs(addr!, loc, set.name);
  if (cidrs.some((c) => c.includes(':') !== (set.family === 6))) throw readError(loc, set.name, `'${addr}' is not an IPv${set.family} address (the set's family)`);
  if (!set.type.endsWith(',port')) return { cidrs };
  if (portPart === undefined) throw readError(loc, set.name, `'${value}' needs a port (address,proto:port)`);
  const m = /^(?:([^:]+):)?(.+)$/.exec(portPart)!;
  return { cidrs, port: { protocol: m[1] ? protocolOf(m[1], loc, set.name) ?? 'tcp' : 'tcp', range: portRange(m[2]!, loc, set.name) } };
}

/** The members of a set, list:set followed (each member set once). */
export function membersOf(sets: Map<string, Ipset>, set: Ipset, seen = new Set<string>()): IpsetMember[] {
  if (seen.has(set.name)) return [];
  seen.add(set.name);
  return [...set.members, ...set.lists.flatMap((l) => (sets.get(l) ? membersOf(sets, sets.get(l)!, seen) : []))];
}
