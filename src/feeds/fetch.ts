import { STATUS_CODES } from 'node:http';
import type { Readable } from 'node:stream';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import type { FeedCaps } from './caps';
import { BodyRefused, codingsOf, framingOf, readBody } from './read-body';
import { FeedError, type BodyShape, type FetchedBody, type Redirect } from './types';

export interface FetchOptions {
  timeoutMs: number;
  tries: number;
  caps: FeedCaps;
  /** Replaces scheme, host and port of every feed URL (an internal mirror). */
  sourceBase?: string;
}

/** A function that fetches one URL; the update takes it as a parameter so it stays testable. */
export type Fetcher = (url: string, shape: BodyShape) => Promise<FetchedBody>;

/**
 * `https://www.cloudflare.com/ips-v4` with base `http://mirror:8080/feeds` becomes
 * `http://mirror:8080/feeds/ips-v4`: the path and query of the feed are kept.
 */
export function rebase(url: string, base: string | undefined): string {
  if (!base) return url;
  const u = new URL(url);
  const b = new URL(base);
  const prefix = b.pathname.replace(/\/+$/, '');
  return `${b.protocol}//${b.host}${prefix}${u.pathname}${u.search}`;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

function looksLikeHtml(text: string, contentType: string): boolean {
  return /text\/html|application\/xhtml/i.test(contentType) || /^\s*</.test(text);
}

interface Attempt {
  text: string;
  retry: boolean;
  error?: string;
  redirect?: Redirect;
}

/** A URL without its query: what is recorded and compared (the Microsoft 365 request id changes every run). */
export function withoutQuery(url: string): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** Where a redirect leads, or why it is not followed. */
function nextHop(from: URL, location: string | undefined): URL | string {
  if (!location) return 'a redirect without a Location';
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    return `a redirect to '${location.slice(0, 200)}', which is not a URL`;
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') return `a redirect to ${to.protocol} (only http and https are followed)`;
  if (from.protocol === 'https:' && to.protocol === 'http:') return `a redirect from https to plain http (${to.toString().slice(0, 200)})`;
  return to;
}

function whyFailed(err: unknown, timeoutMs: number, inBody: boolean): string {
  const e = err as Error & { cause?: Error };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || (e as NodeJS.ErrnoException).code === 'UND_ERR_ABORTED') {
    return inBody ? `the body did not arrive within ${timeoutMs} ms` : `no answer within ${timeoutMs} ms`;
  }
  return e.cause?.message ?? e.message;
}

/**
 * One attempt: the request, the redirects it leads to (each hop checked, at most five), the
 * body read under the caps. Redirects are followed here rather than by the client so that
 * each is seen: one that leaves the host asked is reported and recorded.
 */
async function once(url: string, shape: BodyShape, dispatcher: Dispatcher, o: FetchOptions): Promise<Attempt> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    // Another host than the one asked, wherever the hops between went.
    const redirect: Redirect | undefined = current.host !== new URL(url).host ? { from: withoutQuery(url), to: withoutQuery(current.toString()) } : undefined;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(current, {
        dispatcher,
        signal,
        headers: { 'accept-encoding': 'gzip, deflate, br', 'user-agent': 'fwgen lists update' },
        headersTimeout: o.timeoutMs,
        bodyTimeout: o.timeoutMs,
      });
    } catch (err) {
      return { text: '', retry: true, error: whyFailed(err, o.timeoutMs, false) };
    }
    if (REDIRECTS.has(res.statusCode)) {
      await res.body.dump().catch(() => undefined);
      const location = res.headers.location;
      const to = nextHop(current, Array.isArray(location) ? location[0] : location);
      if (typeof to === 'string') return { text: '', retry: false, error: `refused ${to}` };
      if (hop >= MAX_REDIRECTS) return { text: '', retry: false, error: `more than ${MAX_REDIRECTS} redirects` };
      current = to;
      continue;
    }
    if (res.statusCode < 200 || res.statusCode > 299) {
      await res.body.dump().catch(() => undefined);
      return { text: '', retry: RETRYABLE.has(res.statusCode), error: `HTTP ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ''}`.trim(), redirect };
    }
    let text: string;
    try {
      text = await readBody(res.body as unknown as Readable, {
        shape,
        caps: o.caps,
        framing: framingOf(res.headers),
        codings: codingsOf(res.headers['content-encoding']),
      });
    } catch (err) {
      if (err instanceof BodyRefused) return { text: '', retry: err.retry, error: err.message, redirect };
      return { text: '', retry: true, error: whyFailed(err, o.timeoutMs, true), redirect };
    }
    text = text.replace(/^\uFEFF/, '');
    const type = res.headers['content-type'];
    if (looksLikeHtml(text, String(type ?? ''))) {
      return { text: '', retry: false, error: 'the server sent an HTML page, not the feed (a login, captive portal or error page?)', redirect };
    }
    if (text.trim() === '') return { text: '', retry: false, error: 'the server sent an empty document', redirect };
    return { text, retry: false, redirect };
  }
}

/**
 * Fetches through the proxy the environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as
 * curl reads them): undici's EnvHttpProxyAgent reads them as Node's own fetch does not.
 * Network errors, timeouts, cut bodies and 5xx/429 answers are tried again with a growing pause.
 */
export function httpFetcher(o: FetchOptions): { fetcher: Fetcher; close: () => Promise<void> } {
  const dispatcher = new EnvHttpProxyAgent();
  const fetcher: Fetcher = async (feedUrl, shape) => {
    const url = rebase(feedUrl, o.sourceBase);
    let last: Attempt | undefined;
    for (let attempt = 1; attempt <= o.tries; attempt++) {
      last = await once(url, shape, dispatcher, o);
      if (last.error === undefined) return { url, text: last.text, redirect: last.redirect };
      if (!last.retry) break;
      if (attempt < o.tries) await new Promise((done) => setTimeout(done, Math.min(250 * 2 ** (attempt - 1), 4000)));
    }
    const via = last?.redirect ? ` (redirected to ${last.redirect.to})` : '';
    throw new FeedError(`${url}${via}: ${last?.error ?? 'not fetched'}`);
  };
  return { fetcher, close: () => dispatcher.close() };
}
