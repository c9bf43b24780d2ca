/**
 * How much of a feed document is read. A published list is a few megabytes at most (AWS's
 * ip-ranges.json, the largest, is about 2 MB and 60,000 JSON values), so the defaults (8 MiB,
 * 500,000 entries) leave room to grow while keeping `lists update` far below 200 MB of memory whatever a server sends.
 */
export interface FeedCaps {
  /** Bytes of one document after its content coding (gzip, deflate, br) is undone. */
  maxBytes: number;
  /** Lines of a text feed, or values of a JSON document. */
  maxEntries: number;
}

export const DEFAULT_CAPS: FeedCaps = { maxBytes: 8 * 1024 * 1024, maxEntries: 500_000 };

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `16777216`, `16M`, `512k`, `1G` (powers of 1024); undefined when the text is none of these. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** `16777216` as `16 MiB`, for messages. */
export function formatSize(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} bytes`;
}
