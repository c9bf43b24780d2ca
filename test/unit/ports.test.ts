import fc from 'fast-check';
import { mergePorts, parsePort, type PortRange } from '../../src/net/ports';

function portSet(ranges: PortRange[]): Set<number> {
  const s = new Set<number>();
  for (const r of ranges) for (let p = r.from; p <= r.to; p++) s.add(p);
  return s;
}

const range = fc
  .tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 20 }))
  .map(([from, len]) => ({ from, to: Math.min(65535, from + len) }));

describe('mergePorts', () => {
  test('covers exactly the inputs with sorted, non-touching ranges', () => {
    fc.assert(
      fc.property(fc.array(range, { maxLength: 20 }), (inputs) => {
        const out = mergePorts(inputs);
        expect(portSet(out)).toEqual(portSet(inputs));
        for (let i = 1; i < out.length; i++) expect(out[i]!.from).toBeGreaterThan(out[i - 1]!.to + 1);
      }),
      { numRuns: 500 },
    );
  });

  test('examples', () => {
    expect(mergePorts([{ from: 5024, to: 5024 }, { from: 5022, to: 5022 }, { from: 5023, to: 5023 }])).toEqual([{ from: 5022, to: 5024 }]);
    expect(mergePorts([{ from: 443, to: 443 }, { from: 80, to: 80 }])).toEqual([
      { from: 80, to: 80 },
      { from: 443, to: 443 },
    ]);
  });
});

describe('parsePort', () => {
  test.each([
    ['443', { from: 443, to: 443 }],
    ['3478-3481', { from: 3478, to: 3481 }],
    [70000, { error: 'port 70000 is out of range 1-65535' }],
    ['0', { error: 'port 0 is out of range 1-65535' }],
    ['10-5', { error: 'range 10-5 is inverted (10 > 5)' }],
    ['http', { error: '"http" is not a port or a range like 3478-3481' }],
  ])('%s', (input, expected) => {
    expect(parsePort(input)).toEqual(expected);
  });
});
