/**
 * Adds `items` at the end of `to`, one at a time, and returns `to`. `to.push(...items)` puts
 * every item on the call stack as an argument and throws "RangeError: Maximum call stack size
 * exceeded" somewhere past 100,000 of them (a fleet's files reach that); this has no limit.
 */
export function append<T>(to: T[], items: Iterable<T>): T[] {
  for (const item of items) to.push(item);
  return to;
}

/** The largest of `first` and `rest`, without spreading `rest` into Math.max (see append). */
export function largest(first: number, rest: Iterable<number>): number {
  let max = first;
  for (const n of rest) if (n > max) max = n;
  return max;
}

/** Puts `items` into `to` before index `at` (splice's insert, without spreading `items`), and returns `to`. */
export function insertAt<T>(to: T[], at: number, items: Iterable<T>): T[] {
  const tail = to.splice(at);
  return append(append(to, items), tail);
}
