import fc from 'fast-check';
import * as ipaddr from 'ipaddr.js';
import { aggregate, isCidrError, parseCidr, type Cidr } from '../../src/policy/addresses';

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
    ['10.0.0.0/33', "'10.0.0.0/33' is not a valid CIDR"],
    ['10.0.0.1/24', "'10.0.0.1/24' has host bits set; the network is 10.0.0.0/24"],
    ['300.1.1.1', "'300.1.1.1' is not a valid IP address"],
    ['example.com', "'example.com' is not a valid IP address"],
  ])('%s is refused', (text, message) => {
    expect(parseCidr(text)).toEqual({ error: message });
  });

  test('canonicalises IPv6', () => {
    expect(cidr('2001:DB8:0:0::1').text).toBe('2001:db8::1/128');
  });
});
