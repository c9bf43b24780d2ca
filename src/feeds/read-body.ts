import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { formatSize, type FeedCaps } from './caps';
import { entryCounter } from './entry-count';
import type { BodyShape } from './types';

/** A body refused for what it is (too large, incomplete, unknown coding): asking again would not help. */
export class BodyRefused extends Error {
  constructor(
    message: string,
    /** A cut connection may go better on another try; a cap passed will not. */
    readonly retry = false,
  ) {
    super(message);
  }
}

/** How the server said where the body ends, from the response headers. */
export type Framing = { kind: 'length'; bytes: number } | { kind: 'chunked' } | { kind: 'close' };

export function framingOf(headers: Record<string, string | string[] | undefined>): Framing {
  const te = String(headers['transfer-encoding'] ?? '').toLowerCase();
  if (/\bchunked\b/.test(te)) return { kind: 'chunked' };
  const cl = headers['content-length'];
  if (cl !== undefined) return { kind: 'length', bytes: Number(cl) };
  return { kind: 'close' };
}

/** Content codings in the order they were applied (`Content-Encoding: gzip, br`: gzip first). */
export function codingsOf(header: string | string[] | undefined): string[] {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
}

/**
 * The decoders of a body, last coding first. They are strict: unlike a browser's, a gzip,
 * deflate or brotli stream that stops before its own end marker is an error, which is what
 * makes a compressed body complete whatever its framing. Node's zlib streams honour
 * backpressure, so a bomb is inflated only as fast as the byte cap below reads it.
 */
function decoders(codings: string[]): Transform[] {
  return [...codings].reverse().map((c) => {
    if (c === 'gzip' || c === 'x-gzip') return zlib.createGunzip();
    if (c === 'br') return zlib.createBrotliDecompress();
    // HTTP's deflate is the zlib format (RFC 9110); raw deflate fails its header check.
    if (c === 'deflate') return zlib.createInflate();
    throw new BodyRefused(`the server sent the document in a content coding fwgen does not read ('${c}'); gzip, deflate and br are read`);
  });
}

/** Counts the bytes that pass and stops the stream the moment they pass the cap. */
function byteCap(maxBytes: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(new BodyRefused(`${what} passed ${formatSize(maxBytes)} (--max-bytes); if the feed really is that large, run again with a larger --max-bytes`));
      else done(null, chunk);
    },
  });
}

function describeFraming(f: Framing): string {
  if (f.kind === 'length') return `before the ${f.bytes} bytes its Content-Length announced arrived`;
  if (f.kind === 'chunked') return 'before the last chunk of its chunked body arrived';
  return 'in the middle of the body';
}

/** Stops a download that will not be read; the abort it causes is expected, not an error. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

export interface ReadOptions {
  shape: BodyShape;
  caps: FeedCaps;
  framing: Framing;
  codings: string[];
}

/**
 * The body as text, read under the caps while it streams: the first byte past the byte cap
 * or the first entry past the entry cap stops the download, so nothing larger is ever held.
 * The document is complete only when something says where it ends: its Content-Length or
 * the last chunk (undici refuses a connection cut before either), or the end marker of its
 * compression. A plain body whose end is only the connection closing cannot be told from
 * one cut short; JSON still must parse whole, but a line feed, where every prefix is a
 * valid document, is refused.
 */
export async function readBody(body: Readable, o: ReadOptions): Promise<string> {
  let decoding: Transform[];
  try {
    decoding = decoders(o.codings);
  } catch (err) {
    discard(body);
    throw err;
  }
  if (o.framing.kind === 'close' && o.codings.length === 0 && o.shape === 'lines') {
    discard(body);
    throw new BodyRefused(
      'the server marked the end of this line-by-line feed only by closing the connection (no Content-Length, no chunked framing, no compression), so a cut-short list cannot be told from a whole one',
    );
  }
  const counter = entryCounter(o.shape);
  const unit = o.shape === 'lines' ? 'lines' : 'JSON values';
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let text = '';
  try {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        counter.add(chunk);
        if (counter.count > o.caps.maxEntries) {
          done(new BodyRefused(`the document holds more than ${o.caps.maxEntries} ${unit} (--max-entries); if the feed really is that large, run again with a larger --max-entries`));
          return;
        }
        text += decoder.decode(chunk, { stream: true });
        done();
      },
      final(done) {
        text += decoder.decode();
        done();
      },
    });
    // Compressed data larger than the cap is no feed either, and must not stream on forever.
    const compressed = decoding.length > 0 ? [byteCap(o.caps.maxBytes, 'the compressed document')] : [];
    await pipeline([body, ...compressed, ...decoding, byteCap(o.caps.maxBytes, 'the document'), sink]);
  } catch (err) {
    if (err instanceof BodyRefused) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.code === 'UND_ERR_ABORTED') throw err;
    if (e.code === 'UND_ERR_SOCKET' || e.code === 'ECONNRESET' || e.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
      throw new BodyRefused(`the connection closed ${describeFraming(o.framing)}; the document is incomplete`, true);
    }
    if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
      throw new BodyRefused(`the ${o.codings.join(', ')} stream is ${/unexpected end/i.test(e.message) ? 'cut short' : `damaged (${e.message})`}; the document is incomplete`, true);
    }
    throw err;
  }
  return text;
}
