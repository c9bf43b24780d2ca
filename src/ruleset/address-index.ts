import type { Cidr } from '../net/addresses';

/**
 * A set of networks as sorted, merged intervals of addresses, for lookups in logarithmic time:
 * a rule set of a thousand rules over twenty thousand addresses is walked for every answer.
 * Built once per address list (see prepare in evaluate.ts and policy-answer.ts).
 */
export class AddressIndex {
  private readonly v4: Float64Array;
  private readonly v6: Array<[bigint, bigint]>;

  constructor(networks: readonly Cidr[]) {
    const four: Array<[number, number]> = [];
    const six: Array<[bigint, bigint]> = [];
    for (const c of networks) {
      if (c.family === 'ipv4') four.push([c.first as number, (c.first as number) + 2 ** (32 - c.prefix) - 1]);
      else six.push([c.first as bigint, (c.first as bigint) + (1n << BigInt(128 - c.prefix)) - 1n]);
    }
    this.v4 = Float64Array.from(merge(four, (a, b) => a - b, (end) => end + 1).flat());
    this.v6 = merge(six, (a, b) => (a < b ? -1 : a > b ? 1 : 0), (end) => end + 1n);
  }

  /** Whether every address of `c` is in the set. */
  covers(c: Cidr): boolean {
    if (c.family === 'ipv4') {
      const start = c.first as number;
      const end = start + 2 ** (32 - c.prefix) - 1;
      let lo = 0;
      let hi = this.v4.length / 2 - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (this.v4[2 * mid]! > start) hi = mid - 1;
        else if (this.v4[2 * mid + 1]! < start) lo = mid + 1;
        else return end <= this.v4[2 * mid + 1]!;
      }
      return false;
    }
    const start = c.first as bigint;
    const end = start + (1n << BigInt(128 - c.prefix)) - 1n;
    let lo = 0;
    let hi = this.v6.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = this.v6[mid]!;
      if (a > start) hi = mid - 1;
      else if (b < start) lo = mid + 1;
      else return end <= b;
    }
    return false;
  }
}

const byList = new WeakMap<readonly string[], AddressIndex>();

/**
 * The index of an address list that never changes once made (a policy's, a lock's): built on
 * first use, then shared by every answer. `parse` turns each entry into a network, and says
 * (by throwing) what an entry that is none means to its caller: never dropped in silence.
 */
export function indexOfList(list: readonly string[], parse: (text: string) => Cidr): AddressIndex {
  let index = byList.get(list);
  if (!index) byList.set(list, (index = new AddressIndex(list.map(parse))));
  return index;
}

/** Sorted by start; overlapping and adjacent intervals joined. */
function merge<T>(xs: Array<[T, T]>, cmp: (a: T, b: T) => number, next: (end: T) => T): Array<[T, T]> {
  xs.sort((a, b) => cmp(a[0], b[0]));
  const out: Array<[T, T]> = [];
  for (const [a, b] of xs) {
    const last = out[out.length - 1];
    if (last && cmp(a, next(last[1])) <= 0) {
      if (cmp(b, last[1]) > 0) last[1] = b;
    } else out.push([a, b]);
  }
  return out;
}
