import ipaddr from 'ipaddr.js';

/**
 * Checks a --server value: "IP", "IP:PORT" or "[IPv6]:PORT", the forms node's resolver
 * takes. IPv4 only as plain dotted-decimal (no leading zeros, no hex), no IPv6 zone ids.
 * Returns what is wrong, or undefined.
 */
export function serverProblem(spec: string): string | undefined {
  let host = spec;
  let port: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(spec);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2];
    if (!ipaddr.IPv6.isValid(host)) return `'${spec}': '${host}' in brackets is not an IPv6 address`;
  } else if (/^[^:]*:[^:]*$/.test(spec)) {
    [host, port] = spec.split(':') as [string, string];
  }
  if (host.includes('%')) return `'${spec}': IPv6 zone ids are not supported; give the address alone`;
  const v4 = /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/.test(host) && ipaddr.IPv4.isValidFourPartDecimal(host);
  if (!v4 && !ipaddr.IPv6.isValid(host)) {
    return `'${spec}' is not an IP address (IPv4 as a.b.c.d without leading zeros, or IPv6; a port as IP:PORT or [IPv6]:PORT)`;
  }
  if (port !== undefined && !(/^[1-9][0-9]{0,4}$/.test(port) && Number(port) <= 65535)) {
    return `'${spec}': the port must be a number from 1 to 65535`;
  }
  return undefined;
}
