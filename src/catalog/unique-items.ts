/**
 * A quick answer to "may this array hold two equal items?", put by the build in front of each
 * `uniqueItems` check ajv writes with an object of seen strings (schema-precompile.ts). That
 * check makes every item an object key: for a profile of a million addresses it was a fifth
 * of a render, most of it hashing and interning the strings. Here the usual item, a plain
 * IPv4 address or network in canonical text, is one number, and a sort of the numbers finds
 * repeats. The answer may be a false "yes" (ajv's own check then runs and decides, errors and
 * all, exactly as without this), never a false "no".
 */
export function mayRepeat(items: unknown): boolean {
  // Past a quarter of a billion items the table below would not fit in 32-bit slots.
  if (!Array.isArray(items) || items.length > 1 << 28) return true;
  const n = items.length;
  // An open-addressed set of numbers, at most half full: sorting them took longer.
  let bits = 4;
  while (1 << bits < 2 * n) bits++;
  const shift = 32 - bits;
  const mask = (1 << bits) - 1;
  const size = 1 << bits;
  const table = new Float64Array(size).fill(-1);
  let others: Set<string> | undefined;
  for (let i = 0; i < n; i++) {
    const item: unknown = items[i];
    if (typeof item !== 'string') return true;
    const key = canonicalIpv4Key(item);
    if (key < 0) {
      others ??= new Set();
      if (others.has(item)) return true;
      others.add(item);
      continue;
    }
    // The address's bits times an odd constant, top bits: a multiplicative hash.
    let slot = Math.imul((key / 128) | 0, 0x9e3779b1) >>> shift;
    for (;;) {
      const held = table[slot]!;
      if (held === key) return true;
      if (held === -1) break;
      slot = (slot + 1) & mask;
    }
    table[slot] = key;
  }
  return false;
}

/** No prefix written: a value no written prefix (two digits at most) takes. */
const NO_PREFIX = 127;

/**
 * A number that only this text maps to (address * 128 + prefix), or -1 when the text is not
 * in the one canonical spelling that makes the map one-to-one: four decimal parts of 0-255
 * without leading zeros, then optionally `/` and one or two digits without a leading zero.
 * Two different texts of that spelling never share a number, so equal numbers are equal texts.
 */
function canonicalIpv4Key(text: string): number {
  const length = text.length;
  let i = 0;
  let address = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= length || text.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
    const begin = i;
    let value = 0;
    while (i < length && i - begin < 4) {
      const ch = text.charCodeAt(i);
      if (ch < 48 || ch > 57) break;
      value = value * 10 + (ch - 48);
      i++;
    }
    const digits = i - begin;
    if (digits === 0 || digits > 3 || (digits > 1 && text.charCodeAt(begin) === 48) || value > 255) return -1;
    address = address * 256 + value;
  }
  if (i === length) return address * 128 + NO_PREFIX;
  if (text.charCodeAt(i) !== 47 /* / */) return -1;
  // Past the end charCodeAt gives NaN, which no range test below lets through.
  const first = text.charCodeAt(i + 1) - 48;
  if (!(first >= 0 && first <= 9)) return -1;
  if (i + 2 === length) return address * 128 + first;
  const second = text.charCodeAt(i + 2) - 48;
  if (first === 0 || !(second >= 0 && second <= 9) || i + 3 !== length) return -1;
  return address * 128 + first * 10 + second;
}
