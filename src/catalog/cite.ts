import type { VendorSource } from './types';

/** A vendor page as a reader can find it: its title, the URL it gives for itself, its own date. */
export function citeSource(source: VendorSource): string {
  return [`"${source.title}"`, source.url, source.date].filter((p) => p !== undefined).join(', ');
}

