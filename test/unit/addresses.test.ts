import fc from 'fast-check';
import * as ipaddr from 'ipaddr.js';
import { aggregate, isCidrError, parseCidr, type Cidr } from '../../src/net/addresses';

function cidr(text: string): Cidr {
  const c = parseCidr(text);
  if (isCidrError(c)) throw new Error(c.error);
  return c;
}

/** Which of the 256 addresses of 10.0.0.0/24 a list of CIDRs covers. */
function coverage(texts: string[]): boolean[] {
  const covered = new Array<boolean>(256).fill(false);
  for (const t of texts) {
    const [addr, prefix] = ipaddr.parseCIDR(t);
    const start = addr.toByteArray()[3]!;
    const size = 2 ** (32 - prefix);
    for (let i = start; i < start + size; i++) covered[i] = true;
  }
  return covered;
}

/** The fewest CIDR blocks that cover exactly `covered` (blocks nest or are disjoint, so a trie walk is optimal). */
function minimalCount(covered: boolean[], start = 0, size = 256): number {
  const slice = covered.slice(start, start + size);
  if (slice.every(Boolean)) return 1;
  if (!slice.some(Boolean)) return 0;
  return minimalCount(covered, start, size / 2) + minimalCount(covered, start + size / 2, size / 2);
}

const smallCidr = fc
  .tuple(fc.integer({ min: 24, max: 32 }), fc.integer({ min: 0, max: 255 }))
  .map(([prefix, host]) => {
    const size = 2 ** (32 - prefix);
    return `10.0.0.${host - (host % size)}/${prefix}`;
  });

describe('aggregate', () => {
  test('covers exactly the inputs, with the fewest blocks', () => {
    fc.assert(
      fc.property(fc.array(smallCidr, { minLength: 0, maxLength: 30 }), (inputs) => {
        const out = aggregate(inputs.map(cidr), 'ipv4');
        expect(coverage(out)).toEqual(coverage(inputs));
        expect(out.length).toBe(minimalCount(coverage(inputs)));
        const sorted = [...out].sort((a, b) => ipaddr.parseCIDR(a)[0].toByteArray()[3]! - ipaddr.parseCIDR(b)[0].toByteArray()[3]!);
        expect(out).toEqual(sorted);
      }),
      { numRuns: 500 },
    );
  });

  test('merges adjacent halves and drops contained networks', () => {
    expect(aggregate(['10.0.0.0/25', '10.0.0.128/25', '10.0.0.7'].map(cidr), 'ipv4')).toEqual(['10.0.0.0/24']);
    expect(aggregate(['10.0.0.1', '10.0.0.2'].map(cidr), 'ipv4')).toEqual(['10.0.0.1/32', '10.0.0.2/32']);
    expect(aggregate(['2001:db8::/33', '2001:db8:8000::/33', '2001:db8::1'].map(cidr), 'ipv6')).toEqual(['2001:db8::/32']);
  });

  test('keeps the families apart', () => {
    const mixed = ['10.0.0.0/8', '2001:db8::/32'].map(cidr);
    expect(aggregate(mixed, 'ipv4')).toEqual(['10.0.0.0/8']);
    expect(aggregate(mixed, 'ipv6')).toEqual(['2001:db8::/32']);
  });

  test('an empty input stays empty (never "any")', () => {
    expect(aggregate([], 'ipv4')).toEqual([]);
  });

  test('the whole space is 0.0.0.0/0 only when the inputs say so', () => {
    expect(aggregate(['0.0.0.0/1', '128.0.0.0/1'].map(cidr), 'ipv4')).toEqual(['0.0.0.0/0']);
  });
});

describe('parseCidr', () => {
  test.each([
    ['10.0.0.0/33', "'10.0.0.0/33' is not a valid CIDR: the prefix length must be a number from 0 to 32"],
    ['10.0.0.0/08', "'10.0.0.0/08' is not a valid CIDR: the prefix length must be a number from 0 to 32"],
    ['10.0.0.1/24', "'10.0.0.1/24' has host bits set; the network is 10.0.0.0/24"],
    ['300.1.1.1', "'300.1.1.1' is not a valid IP address: '300' is more than 255"],
    ['example.com', "'example.com' is not a valid IP address: an IPv4 address is four decimal numbers a.b.c.d"],
    // Spellings inet_aton reads differently from a reader: never reinterpreted.
    ['010.020.000.010', "'010.020.000.010' is not a valid IP address: '010' has a leading zero, which some tools read as octal (010 is 8); write it without"],
    ['10.0.0.01', "'10.0.0.01' is not a valid IP address: '01' has a leading zero, which some tools read as octal (010 is 8); write it without"],
    ['0xa.0.0.1', "'0xa.0.0.1' is not a valid IP address: hexadecimal parts (0x...) are not accepted; write the address in dotted decimal"],
    ['0x0a000001', "'0x0a000001' is not a valid IP address: hexadecimal parts (0x...) are not accepted; write the address in dotted decimal"],
    ['10.1', "'10.1' is not a valid IP address: has 2 parts; an IPv4 address is four decimal numbers a.b.c.d (short forms like 10.1 are not accepted)"],
    ['167772161', "'167772161' is not a valid IP address: has 1 part; an IPv4 address is four decimal numbers a.b.c.d (short forms like 10.1 are not accepted)"],
    ['fe80::1%eth0', "'fe80::1%eth0' is not a valid IP address: IPv6 zone ids (%eth0) name an interface of one machine and are not accepted in rules"],
    ['::ffff:010.0.0.1', "'::ffff:010.0.0.1' is not a valid IP address: its embedded IPv4 part '010' has a leading zero, which some tools read as octal (010 is 8); write it without"],
    ['a ::/0 b', "'a ::/0 b' is not a valid IP address: not a valid IPv6 address"],
  ])('%s is refused', (text, message) => {
    expect(parseCidr(text)).toEqual({ error: message });
  });

  test('accepts plain dotted decimal and IPv6, with or without a prefix', () => {
    expect(['0.0.0.0/0', '10.0.0.0/8', '192.0.2.1', '255.255.255.255', '::/0', '2001:db8::/32', '::ffff:192.0.2.1'].map((t) => cidr(t).text)).toEqual([
      '0.0.0.0/0',
      '10.0.0.0/8',
      '192.0.2.1/32',
      '255.255.255.255/32',
      '::/0',
      '2001:db8::/32',
      '::ffff:c000:201/128',
    ]);
  });

  test('every valid dotted quad is accepted and reads back the same; a zero-padded part is refused', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 3 }), (parts, pad) => {
        const text = parts.join('.');
        expect(cidr(text).text).toBe(`${text}/32`);
        const padded = parts.map((p, i) => (i === pad ? `0${p}` : String(p))).join('.');
        expect(isCidrError(parseCidr(padded))).toBe(true);
      }),
    );
  });

  test('canonicalises IPv6', () => {
    expect(cidr('2001:DB8:0:0::1').text).toBe('2001:db8::1/128');
  });
});

/** A network anywhere in the IPv4 space, host bits cleared, as a number and a prefix. */
const anyIpv4 = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 })).map(([n, prefix]) => {
  const start = n - (n % 2 ** (32 - prefix));
  return `${[24, 16, 8, 0].map((s) => Math.floor(start / 2 ** s) % 256).join('.')}/${prefix}`;
});

describe('IPv4 over the whole space', () => {
  test('aggregate agrees with the same networks aggregated as IPv4-mapped IPv6', () => {
    fc.assert(
      fc.property(fc.array(anyIpv4, { minLength: 0, maxLength: 20 }), (inputs) => {
        const mapped = inputs.map((t) => {
          const [addr, prefix] = t.split('/');
          return cidr(`::ffff:${addr}/${96 + Number(prefix)}`);
        });
        const viaIpv6 = aggregate(mapped, 'ipv6').map((t) => {
          const [addr, prefix] = ipaddr.parseCIDR(t);
          return `${addr.toByteArray().slice(12).join('.')}/${prefix - 96}`;
        });
        expect(aggregate(inputs.map(cidr), 'ipv4')).toEqual(viaIpv6);
      }),
      { numRuns: 300 },
    );
  });

  test('parseCidr takes exactly the plain forms with host bits zero, in any spelling of part and prefix', () => {
    const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.integer({ min: 0, max: 99 }).map((n) => `0${n}`));
    const prefix = fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 40 }).map((n) => `/${n}`), fc.integer({ min: 0, max: 9 }).map((n) => `/0${n}`));
    fc.assert(
      fc.property(fc.array(part, { minLength: 4, maxLength: 4 }), prefix, (parts, p) => {
        const text = `${parts.join('.')}${p}`;
        const bits = p === '' ? 32 : Number(p.slice(1));
        const plain = parts.every((x) => /^(?:0|[1-9][0-9]*)$/.test(x) && Number(x) <= 255) && /^(?:|\/(?:0|[1-9][0-9]*))$/.test(p) && bits <= 32;
        const n = plain ? parts.reduce((acc, x) => acc * 256 + Number(x), 0) : 0;
        const ok = plain && n % 2 ** (32 - bits) === 0;
        const got = parseCidr(text);
        if (!ok) {
          expect(isCidrError(got)).toBe(true);
          return;
        }
        expect(got).toEqual({ family: 'ipv4', address: ipaddr.IPv4.parse(parts.join('.')), prefix: bits, text: `${parts.join('.')}/${bits}` });
      }),
      { numRuns: 1000 },
    );
  });
});
