import type { VendorSource } from './types';

/** A vendor page as a reader can find it: its title, the URL it gives for itself, its own date. */
export function citeSource(source: VendorSource): string {
  return [`"${source.title}"`, source.url, source.date].filter((p) => p !== undefined).join(', ');
}

/** A place on that page: the document, then section, table and row. */
export function citePlace(source: VendorSource, ...places: Array<string | undefined>): string {
  const where = places.filter((p) => p !== undefined).join('; ');
  return where ? `${citeSource(source)}: ${where}` : citeSource(source);
}
