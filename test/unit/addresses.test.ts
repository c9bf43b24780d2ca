import fc from 'fast-check';
import * as ipaddr from 'ipaddr.js';
import { AddressSets, aggregate, ByList, distinctCount, isAggregated, isCidrError, parseCidr, toAddressSet, type Cidr } from '../../src/net/addresses';

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
        const c = got as Cidr;
        expect([c.family, c.prefix, c.text, c.first]).toEqual(['ipv4', bits, `${parts.join('.')}/${bits}`, n]);
        expect(c.address.toString()).toBe(ipaddr.IPv4.parse(parts.join('.')).toString());
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the plain IPv4 reader', () => {
  test.each([
    '1.2.3.4/', '1.2.3.4/032', '1.2.3.4/100', '1.2.3.4/3333', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.4 x', '1.2.3.4/8x',
    '1.2.3.1000', '01.2.3.4', '256.0.0.0', '1.2.3.4//32', '1.2.3.4/-1', '１.2.3.4',
  ])('%s is refused, with the message of the full parser', (text) => {
    const got = parseCidr(text);
    expect(isCidrError(got)).toBe(true);
  });

  test.each([
    ['0.0.0.0/0', 0, 0],
    ['255.255.255.255', 2 ** 32 - 1, 32],
    ['10.0.0.0/8', 10 * 2 ** 24, 8],
    ['  192.0.2.0/24 ', 0xc0000200, 24],
  ])('%s reads as its number and prefix', (text, first, prefix) => {
    const c = cidr(text);
    expect([c.family, c.first, c.prefix]).toEqual(['ipv4', first, prefix]);
  });
});

describe('AddressSets', () => {
  const network = fc.oneof(anyIpv4, fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 26, max: 32 })).map(([n, p]) => `192.0.2.${n - (n % 2 ** (32 - p))}/${p}`));
  const v6 = fc.constantFrom('2001:db8::/64', '2001:db8:0:1::/64', '2001:db8::1/128', 'fe80::/10');

  test('the union of several lists, aggregated as toAddressSet aggregates their concatenation', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.oneof(network, v6), { maxLength: 12 }), { maxLength: 4 }), (groups) => {
        const lists = groups.map((g) => g.map(cidr));
        const made = new AddressSets().of(lists);
        const reference = toAddressSet(lists.flat());
        expect(made).toEqual(reference);
        expect([isAggregated(made.ipv4), isAggregated(made.ipv6), Object.isFrozen(made.ipv4), Object.isFrozen(made.ipv6)]).toEqual([true, true, true, true]);
        expect(distinctCount([made.ipv4, reference.ipv4], 'ipv4')).toBe(new Set(reference.ipv4).size);
      }),
      { numRuns: 300 },
    );
  });

  test('sets that aggregate alike are the same list; others are not', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(network, v6), { maxLength: 12 }), fc.array(fc.oneof(network, v6), { maxLength: 12 }), (a, b) => {
        const sets = new AddressSets();
        const first = sets.of([a.map(cidr)]);
        // The same networks in another order, split in two: the same content.
        const again = sets.of([a.slice(0, 3).reverse().map(cidr), a.slice(3).map(cidr)]);
        expect(again.ipv4).toBe(first.ipv4);
        expect(again.ipv6).toBe(first.ipv6);
        const other = sets.of([b.map(cidr)]);
        for (const family of ['ipv4', 'ipv6'] as const) {
          const equal = JSON.stringify(other[family]) === JSON.stringify(first[family]);
          expect(other[family] === first[family]).toBe(equal);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** Any IPv6 network, host bits cleared, mostly inside one /112 so that networks meet and overlap. */
const anyIpv6 = fc
  .tuple(fc.constantFrom('2001:db8::', '2001:db8::ab:0', '::', 'fe80::'), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 100, max: 128 }))
  .map(([base, low, prefix]) => {
    const n = (ipaddr.parse(base).toByteArray().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n) | BigInt(low)) & ~((1n << BigInt(128 - prefix)) - 1n);
    const bytes = Array.from({ length: 16 }, (_v, i) => Number((n >> BigInt(8 * (15 - i))) & 0xffn));
    return `${ipaddr.fromByteArray(bytes).toString()}/${prefix}`;
  });

describe('networks as integers', () => {
  test('covers() agrees with ipaddr.js match, in both families', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(anyIpv4, anyIpv4), fc.tuple(anyIpv6, anyIpv6), fc.tuple(anyIpv4, anyIpv6)), ([outerText, innerText]) => {
        const outer = cidr(outerText);
        const inner = cidr(innerText);
        const [oa, op] = ipaddr.parseCIDR(outerText);
        const [ia, ip] = ipaddr.parseCIDR(innerText);
        const expected = oa.kind() === ia.kind() && ip >= op && (ia as ipaddr.IPv4).match(oa as ipaddr.IPv4, op);
        expect(outer.covers(inner)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  test('text and address read back what ipaddr.js parses', () => {
    fc.assert(
      fc.property(fc.oneof(anyIpv4, anyIpv6), (text) => {
        const c = cidr(text);
        const [addr, prefix] = ipaddr.parseCIDR(text);
        expect(c.text).toBe(`${addr.toString()}/${prefix}`);
        expect(c.address.toString()).toBe(addr.toString());
        expect(c.prefix).toBe(prefix);
      }),
      { numRuns: 500 },
    );
  });

  test('IPv6 aggregation is the minimal exact cover (checked against ipaddr.js ranges)', () => {
    fc.assert(
      fc.property(fc.array(anyIpv6, { maxLength: 12 }), (inputs) => {
        const range = (t: string): [bigint, bigint] => {
          const [addr, prefix] = ipaddr.parseCIDR(t);
          const start = addr.toByteArray().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
          return [start, start + (1n << BigInt(128 - prefix)) - 1n];
        };
        const out = aggregate(inputs.map(cidr), 'ipv6');
        const outRanges = out.map(range);
        // sorted and disjoint
        for (let i = 1; i < outRanges.length; i++) expect(outRanges[i]![0] > outRanges[i - 1]![1]).toBe(true);
        // every input address range is covered, and every output block lies in the union of the inputs
        const inRanges = inputs.map(range);
        for (const [s, e] of inRanges) expect(outRanges.some(([os, oe]) => os <= s && e <= oe)).toBe(true);
        for (const [s, e] of outRanges) {
          let at = s;
          for (const [is, ie] of [...inRanges].sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (is <= at && ie >= at) at = ie + 1n;
          expect(at > e).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('a large scattered input aggregates to what a sorted, de-duplicated reference says', () => {
    const texts: string[] = [];
    for (let i = 1; texts.length < 50000; i++) {
      const n = Math.imul(i, 2654435761) >>> 0;
      texts.push(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`);
    }
    // Add the neighbours of some, so that runs of /32s merge into larger blocks.
    const withRuns = [...texts, ...texts.slice(0, 1000).map((t) => t.replace(/\.(\d+)$/, (_m, d: string) => `.${Number(d) ^ 1}`))];
    const out = aggregate(withRuns.map(cidr), 'ipv4');
    const covered = new Set(withRuns.map((t) => ipaddr.IPv4.parse(t).toByteArray().reduce((acc, b) => acc * 256 + b, 0)));
    let total = 0;
    let outside = 0;
    for (const t of out) {
      const [addr, prefix] = ipaddr.parseCIDR(t);
      const start = addr.toByteArray().reduce((acc, b) => acc * 256 + b, 0);
      for (let k = 0; k < 2 ** (32 - prefix); k++) if (!covered.has(start + k)) outside++;
      total += 2 ** (32 - prefix);
    }
    expect(outside).toBe(0);
    expect(total).toBe(covered.size);
    expect(out.length).toBeLessThan(covered.size);
  });

  test('aggregated lists are frozen and known as canonical; any other list is not', () => {
    const set = toAddressSet(['10.0.0.0/25', '10.0.0.128/25', '2001:db8::/32'].map(cidr));
    expect(set).toEqual({ ipv4: ['10.0.0.0/24'], ipv6: ['2001:db8::/32'] });
    expect(Object.isFrozen(set.ipv4)).toBe(true);
    expect(isAggregated(set.ipv4) && isAggregated(set.ipv6)).toBe(true);
    expect(isAggregated(['10.0.0.0/24'])).toBe(false);
    expect(isAggregated([...set.ipv4])).toBe(false);
  });
});

describe('distinctCount', () => {
  const v4 = (texts: string[]) => aggregate(texts.map(cidr), 'ipv4');
  const reference = (lists: ReadonlyArray<readonly string[]>) => new Set(lists.flat()).size;

  test('several aggregated lists: the networks they hold together, each counted once, as a set of their texts counts them', () => {
    // Networks anywhere in the address space, and many in one /26, so that lists share some.
    const text = ([n, p]: [number, number]) => {
      const first = p === 0 ? 0 : Math.floor(n / 2 ** (32 - p)) * 2 ** (32 - p);
      return `${first >>> 24}.${(first >>> 16) & 255}.${(first >>> 8) & 255}.${first & 255}/${p}`;
    };
    const network = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 })).map(text),
      fc.tuple(fc.integer({ min: 0xc0000200, max: 0xc000023f }), fc.integer({ min: 26, max: 32 })).map(text),
    );
    fc.assert(
      fc.property(fc.array(fc.array(network, { maxLength: 30 }), { minLength: 2, maxLength: 6 }), fc.boolean(), (texts, repeat) => {
        const lists = texts.map(v4);
        if (repeat) lists.push(lists[0]!); // the same list object twice
        expect(distinctCount(lists, 'ipv4')).toBe(reference(lists));
      }),
    );
  });

  test('the ends of the address space, and lists that are not aggregated or are IPv6, are counted as their texts', () => {
    const ends = [v4(['0.0.0.0/32', '255.255.255.255/32']), v4(['255.255.255.255/32', '128.0.0.0/32']), v4(['0.0.0.0/0'])];
    expect(distinctCount(ends, 'ipv4')).toBe(4);
    const plain = [['192.0.2.1/32', '192.0.2.1/32'], ['192.0.2.1/32']];
    expect(distinctCount(plain, 'ipv4')).toBe(1);
    const v6 = [aggregate([cidr('2001:db8::/64'), cidr('2001:db8:1::/64')], 'ipv6'), aggregate([cidr('2001:db8::/64')], 'ipv6')];
    expect(distinctCount(v6, 'ipv6')).toBe(2);
  });
});

describe('ByList', () => {
  test('finds a value by the content of a list, not by the list object, and per prefix', () => {
    const book = new ByList<string>();
    book.set('ipv4', ['192.0.2.1/32', '192.0.2.5/32', '192.0.2.9/32'], 'a');
    expect(book.get('ipv4', ['192.0.2.1/32', '192.0.2.5/32', '192.0.2.9/32'])).toBe('a');
    // Same count and ends, another network in the middle: another list.
    expect(book.get('ipv4', ['192.0.2.1/32', '192.0.2.7/32', '192.0.2.9/32'])).toBeUndefined();
    expect(book.get('ipv6', ['192.0.2.1/32', '192.0.2.5/32', '192.0.2.9/32'])).toBeUndefined();
    book.set('ipv4', ['192.0.2.1/32', '192.0.2.7/32', '192.0.2.9/32'], 'b');
    expect(book.get('ipv4', ['192.0.2.1/32', '192.0.2.7/32', '192.0.2.9/32'])).toBe('b');
    expect(book.get('ipv4', ['192.0.2.1/32', '192.0.2.5/32', '192.0.2.9/32'])).toBe('a');
  });

  test('an empty list is a list like any other', () => {
    const book = new ByList<number>();
    expect(book.get('ipv4', [])).toBeUndefined();
    book.set('ipv4', [], 1);
    expect(book.get('ipv4', [])).toBe(1);
  });
});
