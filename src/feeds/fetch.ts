import { EnvHttpProxyAgent, fetch, type Dispatcher } from 'undici';
import { FeedError, type FetchedBody } from './types';

export interface FetchOptions {
  timeoutMs: number;
  tries: number;
  /** Replaces scheme, host and port of every feed URL (an internal mirror). */
  sourceBase?: string;
}

/** A function that fetches one URL; the update takes it as a parameter so it stays testable. */
export type Fetcher = (url: string) => Promise<FetchedBody>;

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

function looksLikeHtml(text: string, contentType: string): boolean {
  return /text\/html|application\/xhtml/i.test(contentType) || /^\s*</.test(text);
}

async function once(url: string, dispatcher: Dispatcher, timeoutMs: number): Promise<{ text: string; retry: boolean; error?: string }> {
  let res;
  try {
    res = await fetch(url, { dispatcher, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (err) {
    const e = err as Error & { cause?: Error };
    const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : (e.cause?.message ?? e.message);
    return { text: '', retry: true, error: why };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    const e = err as Error;
    const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `the body did not arrive within ${timeoutMs} ms` : e.message;
    return { text: '', retry: true, error: why };
  }
  text = text.replace(/^\uFEFF/, '');
  if (!res.ok) return { text: '', retry: RETRYABLE.has(res.status), error: `HTTP ${res.status} ${res.statusText}`.trim() };
  if (looksLikeHtml(text, res.headers.get('content-type') ?? '')) {
    return { text: '', retry: false, error: 'the server sent an HTML page, not the feed (a login, captive portal or error page?)' };
  }
  if (text.trim() === '') return { text: '', retry: false, error: 'the server sent an empty document' };
  return { text, retry: false };
}

/**
 * Fetches through the proxy the environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as
 * curl reads them): Node's own fetch ignores them, undici's EnvHttpProxyAgent does not.
 * Network errors, timeouts and 5xx/429 answers are tried again with a growing pause.
 */
export function httpFetcher(o: FetchOptions): { fetcher: Fetcher; close: () => Promise<void> } {
  const dispatcher = new EnvHttpProxyAgent();
  const fetcher: Fetcher = async (feedUrl) => {
    const url = rebase(feedUrl, o.sourceBase);
    let last = '';
    for (let attempt = 1; attempt <= o.tries; attempt++) {
      const r = await once(url, dispatcher, o.timeoutMs);
      if (r.error === undefined) return { url, text: r.text };
      last = r.error;
      if (!r.retry) break;
      if (attempt < o.tries) await new Promise((done) => setTimeout(done, Math.min(250 * 2 ** (attempt - 1), 4000)));
    }
    throw new FeedError(`${url}: ${last}`);
  };
  return { fetcher, close: () => dispatcher.close() };
}
