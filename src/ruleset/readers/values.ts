import { InputError, type SourceLocation } from '../../errors';
import { isCidrError, networkOf, rangeCidrs } from '../../net/addresses';
import type { RulesetRule } from '../model';

/**
 * Values every reader meets (addresses, ranges, ports, protocol names) and the one way a reader
 * refuses what it cannot read: an InputError at file:line:col naming the field.
 */

export function readError(loc: SourceLocation, field: string, message: string): InputError {
  return new InputError([{ loc, field, message }]);
}

/** An address, a CIDR (host bits cleared, as the firewall reads it) or a range a-b: canonical CIDRs. */
export function addressCidrs(text: string, loc: SourceLocation, field: string): string[] {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const r = rangeCidrs(text.slice(0, dash), text.slice(dash + 1));
    if ('error' in r) throw readError(loc, field, r.error);
    return r;
  }
  const c = networkOf(text);
  if (isCidrError(c)) throw readError(loc, field, c.error);
  return [c.text];
}

/** Port names nft and iptables print or accept in place of numbers (the common ones of /etc/services). */
const SERVICES: Record<string, number> = {
  ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, bootps: 67, bootpc: 68, tftp: 69, http: 80, www: 80, kerberos: 88,
  pop3: 110, ntp: 123, 'netbios-ns': 137, 'netbios-dgm': 138, 'netbios-ssn': 139, imap: 143, imap2: 143, snmp: 161,
  ldap: 389, https: 443, 'microsoft-ds': 445, syslog: 514, submission: 587, ldaps: 636, imaps: 993, pop3s: 995,
  'ms-sql-s': 1433, openvpn: 1194, mysql: 3306, 'ms-wbt-server': 3389, postgresql: 5432, 'http-alt': 8080,
};

export function portNumber(text: string, loc: SourceLocation, field: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : SERVICES[text];
  if (n === undefined || n > 65535) throw readError(loc, field, `'${text}' is not a port number (0-65535) or a known service name`);
  return n;
}

/** "443", "9054-9055" (nft) or "9054:9055" (iptables) → an inclusive range. */
export function portRange(text: string, loc: SourceLocation, field: string): [number, number] {
  const m = /^([^-:]+)[-:]([^-:]+)$/.exec(text);
  if (!m) {
    const p = portNumber(text, loc, field);
    return [p, p];
  }
  const a = portNumber(m[1]!, loc, field);
  const b = portNumber(m[2]!, loc, field);
  if (a > b) throw readError(loc, field, `the port range ${text} is inverted`);
  return [a, b];
}

/** A protocol name or number as the files write it. */
export function protocolOf(text: string, loc: SourceLocation, field: string): RulesetRule['match']['protocol'] {
  const t = text.toLowerCase();
  if (t === 'tcp' || t === '6') return 'tcp';
  if (t === 'udp' || t === '17') return 'udp';
  if (t === 'icmp' || t === '1' || t === 'icmpv6' || t === 'ipv6-icmp' || t === '58') return 'icmp';
  const named: Record<string, number> = { sctp: 132, gre: 47, esp: 50, ah: 51, udplite: 136, dccp: 33, igmp: 2, ipip: 4, ospf: 89, vrrp: 112 };
  if (named[t] !== undefined) return named[t];
  if (/^\d{1,3}$/.test(t) && Number(t) < 256) return Number(t);
  throw readError(loc, field, `'${text}' is not a protocol name or number`);
}

/** ICMP type names (and numbers, ICMP and ICMPv6 alike) as nft writes them; only echo request is told apart. */
export function icmpTypeName(text: string, family: 4 | 6 | undefined): string {
  if (/^\d+$/.test(text)) return (family === 6 ? text === '128' : text === '8') ? 'echo-request' : `type-${text}`;
  return text.toLowerCase() === 'echo-request' ? 'echo-request' : text.toLowerCase();
}

/** One line of a file, trimmed and cut short enough to print in an answer. */
export function lineText(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > 300 ? `${t.slice(0, 297)}...` : t;
}
