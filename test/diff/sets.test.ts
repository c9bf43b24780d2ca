import { subtractCidrs, subtractPorts } from '../../src/diff/sets';

describe('set differences for diff', () => {
  test('CIDRs: what is newly allowed, split to the fewest networks', () => {
    expect(subtractCidrs(['203.0.113.0/24'], ['203.0.113.128/25'])).toEqual(['203.0.113.0/25']);
    expect(subtractCidrs(['10.0.0.0/30'], ['10.0.0.1/32'])).toEqual(['10.0.0.0/32', '10.0.0.2/31']);
    expect(subtractCidrs(['198.51.100.7/32'], ['198.51.100.0/24'])).toEqual([]);
    expect(subtractCidrs(['198.51.100.7/32', '2001:db8::/47'], [])).toEqual(['198.51.100.7/32', '2001:db8::/47']);
    expect(subtractCidrs(['2001:db8::/32'], ['2001:db8:8000::/33'])).toEqual(['2001:db8::/33']);
    expect(subtractCidrs([], ['10.0.0.0/8'])).toEqual([]);
  });

  test('ports: ranges cut around what was there', () => {
    expect(subtractPorts([{ from: 8000, to: 8100 }], [{ from: 8050, to: 8060 }])).toEqual([
      { from: 8000, to: 8049 },
      { from: 8061, to: 8100 },
    ]);
    expect(subtractPorts([{ from: 443, to: 443 }], [{ from: 443, to: 443 }])).toEqual([]);
  });
});
