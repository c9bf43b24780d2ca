import type { BodyShape } from './types';

/**
 * Counts the entries of a document while its bytes arrive, so a feed of ten million lines
 * or a JSON array of millions of empty objects is refused before it is held in memory,
 * let alone parsed. Counting works on bytes: every character that structures a line or a
 * JSON document is ASCII, and no byte of a multi-byte UTF-8 character is.
 */
export interface EntryCounter {
  /** Entries seen so far. */
  readonly count: number;
  add(chunk: Uint8Array): void;
}

const LF = 0x0a;

/** A line feed: one entry a line; a last line without a line feed counts too. */
class LineCounter implements EntryCounter {
  private lines = 0;
  private open = false;

  get count(): number {
    return this.lines + (this.open ? 1 : 0);
  }

  add(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === LF) {
        this.lines++;
        this.open = false;
      } else {
        this.open = true;
      }
    }
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/**
 * JSON: every value (object, array, string, number, true, false, null) is an entry; object
 * keys are not. What JSON.parse would build is bounded by this count and the byte cap.
 * Malformed JSON is not judged here (JSON.parse does that on the whole document); the count
 * only has to be no smaller than the values a parser could make of the bytes.
 */
class JsonValueCounter implements EntryCounter {
  count = 0;
  private inString = false;
  private escaped = false;
  /** Inside a number or literal: its later characters start nothing. */
  private inToken = false;
  /** The next string is an object key (just after `{`, or after `,` inside an object). */
  private keyNext = false;
  /** Open containers, innermost last: true for an object. */
  private objects: boolean[] = [];

  add(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (b === QUOTE) {
        this.inString = true;
        this.inToken = false;
        if (this.keyNext) this.keyNext = false;
        else this.count++;
        continue;
      }
      if (isSpace(b) || b === COLON) {
        this.inToken = false;
        continue;
      }
      if (b === COMMA) {
        this.inToken = false;
        this.keyNext = this.objects.at(-1) === true;
        continue;
      }
      if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
        this.inToken = false;
        this.count++;
        this.objects.push(b === OPEN_OBJECT);
        this.keyNext = b === OPEN_OBJECT;
        continue;
      }
      if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        this.inToken = false;
        this.objects.pop();
        this.keyNext = false;
        continue;
      }
      if (!this.inToken) {
        this.inToken = true;
        this.count++;
      }
    }
  }
}

export function entryCounter(shape: BodyShape): EntryCounter {
  return shape === 'lines' ? new LineCounter() : new JsonValueCounter();
}
