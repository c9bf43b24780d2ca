import type { SourceLocation } from '../errors';

export type FeedFormat = 'cloudflare' | 'aws' | 'google' | 'microsoft-365';

/** A filter names, per field of a feed entry, the values an entry may have (any of them). */
export type FeedFilter = Record<string, Array<string | boolean>>;

/** What a list file says about the feed it is kept from, and what the last update recorded. */
export interface FeedSpec {
  format: FeedFormat;
  urls: string[];
  filter: FeedFilter;
  /** Also write catalog/vendors/<vendor>.yaml from the feed (Microsoft 365). */
  vendor?: string;
  /** The list's own bound on new prefixes (list.feed.widestPrefix), when it sets one. */
  widestPrefix?: Partial<PrefixPolicy>;
  /** Redirects to another host the last update followed. */
  redirects?: Redirect[];
  version?: string;
  published?: string;
  fetched?: string;
  digest?: string;
  origin: SourceLocation;
}

/** How a document is read while it arrives: its entries are lines, or the values of one JSON document. */
export type BodyShape = 'lines' | 'json';

/** A redirect that led to another host than the one asked: said on stderr, recorded in the list file. */
export interface Redirect {
  from: string;
  to: string;
}

/** One fetched document: the URL it was asked for, its body, and where it really came from if another host. */
export interface FetchedBody {
  url: string;
  text: string;
  redirect?: Redirect;
}

/** The widest prefix (shortest length) a new entry of a list may have, per family. */
export interface PrefixPolicy {
  ipv4: number;
  ipv6: number;
}

/** A feed read and filtered: the prefixes it lists, as written, and its own version if it has one. */
export interface ParsedFeed {
  prefixes: string[];
  version?: string;
  published?: string;
  /** Microsoft 365 endpoint sets, kept whole for the vendor file. */
  endpoints?: M365Endpoint[];
}

/** One endpoint set of the Microsoft 365 endpoints web service. */
export interface M365Endpoint {
  id: number;
  serviceArea: string;
  serviceAreaDisplayName?: string;
  urls: string[];
  ips: string[];
  tcpPorts?: string;
  udpPorts?: string;
  expressRoute?: boolean;
  category: string;
  required: boolean;
  notes?: string;
}

/** A feed that cannot be taken as it is: the list keeps what it had. */
export class FeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedError';
  }
}

/** A command line that cannot be run as given (an unknown list, a cap that is not a size). */
export class FeedUsageError extends Error {}
