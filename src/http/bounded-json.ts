/**
 * JSON from strangers, parsed with its nesting depth and the items of each
 * array or object bounded while parsing, and without holding the event loop
 * for long.
 *
 * `JSON.parse` on hostile text is the risk: 18 MB nested 9,000,000 deep held
 * the loop for seconds and peaked above 2 GB, and 20 MiB of small values takes
 * about a second. So the text is first scanned once, linearly, for the depth of
 * its brackets outside strings (refused at the first bracket too deep, or the
 * first item too many, before anything is built), then parsed in pieces of at most `chunkChars`: containers
 * larger than that are walked child by child and their children parsed by
 * `JSON.parse` in batches, with a turn of the event loop between batches.
 * Every character outside strings is scanned twice at most (about 10 ns a
 * character here); inside strings the scan jumps from quote to quote natively.
 * Then everything is parsed natively once.
 */
import { turnOfEventLoop } from '../event-loop.js';

/** Why a text was refused: not JSON (BAD_USER_INPUT) or nested too deep (TOO_LARGE). */
export class JsonRefusal extends Error {
  override name = 'JsonRefusal';
  constructor(
    readonly code: 'BAD_USER_INPUT' | 'TOO_LARGE',
    message: string,
  ) {
    super(message);
  }
}

export interface JsonBounds {
  /** Deepest nesting of arrays and objects (the outermost counts 1). */
  maxDepth: number;
  /** Most items (values of an array, keys of an object) in one array or object. */
  maxItems?: number;
  /** Largest piece parsed in one turn of the event loop, in characters. */
  chunkChars?: number;
}

/** Deepest a request body or a WebSocket message may nest: room for a 64-deep JSON scalar inside its input. */
export const MAX_JSON_NESTING = 128;
const DEFAULT_CHUNK_CHARS = 64 * 1024;
/**
 * Most items in one array or object of a request body or WebSocket message. A
 * JSON array is one block of memory: building one of 10,000,000 items copies
 * it as it grows, and each copy holds the loop (over 100 ms here). A job's
 * largest JSON (1 MiB of training data) holds at most about 500,000 items.
 */
export const MAX_JSON_ITEMS = 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const notJson = (why: string) => new JsonRefusal('BAD_USER_INPUT', `invalid JSON: ${why}`);

/** Whether the quote at `at` is escaped: preceded by an odd number of backslashes. */
function escapedQuote(text: string, at: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

interface ScanState {
  starts: number[];
  /** Commas seen so far in each open container. */
  commas: number[];
  inString: boolean;
  stringStart: number;
  /**
   * The next quote at or after where the scan stands, once looked up (Infinity: none left). A string
   * longer than a slice is searched once, not again from each slice: that would be quadratic.
   */
  nextQuote: number;
  big: Map<number, number>;
}

/**
 * Scans `text` from `from` to about `to`: refuses nesting deeper than
 * `maxDepth`, and notes where each container or string longer than
 * `bigChars` ends (keyed by where it starts), so the parse can step over big
 * children without scanning them again. Answers where it stopped.
 */
function scanSlice(
  text: string,
  from: number,
  to: number,
  state: ScanState,
  bounds: Required<Omit<JsonBounds, 'chunkChars'>>,
  bigChars: number,
): number {
  const { starts, commas, big } = state;
  const { maxDepth, maxItems } = bounds;
  let inString = state.inString;
  let stringStart = state.stringStart;
  let i = from;
  for (; i < to; i++) {
    if (inString) {
      // Inside a string only its closing quote matters: jump to the next quote natively (indexOf) rather
      // than reading each character; it closes the string unless an odd run of backslashes escapes it.
      if (state.nextQuote < i) {
        const found = text.indexOf('"', i);
        state.nextQuote = found === -1 ? Infinity : found;
      }
      const quote = state.nextQuote;
      if (quote >= to) {
        i = to;
        break;
      }
      i = quote;
      if (escapedQuote(text, quote)) continue;
      inString = false;
      if (i + 1 - stringStart > bigChars) big.set(stringStart, i + 1);
      continue;
    }
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      inString = true;
      stringStart = i;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (starts.length >= maxDepth) throw new JsonRefusal('TOO_LARGE', `JSON nested deeper than ${maxDepth} levels`);
      starts.push(i);
      commas.push(0);
    } else if (c === COMMA && commas.length > 0) {
      if (++commas[commas.length - 1]! >= maxItems)
        throw new JsonRefusal('TOO_LARGE', `a JSON array or object with more than ${maxItems} items`);
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      commas.pop();
      const start = starts.pop();
      if (start === undefined) throw notJson(`unexpected "${text[i]}" at ${i}`);
      if (i + 1 - start > bigChars) big.set(start, i + 1);
    }
  }
  state.inString = inString;
  state.stringStart = stringStart;
  return i;
}

async function scanInTurns(
  text: string,
  bounds: Required<Omit<JsonBounds, 'chunkChars'>>,
  chunk: number,
): Promise<Map<number, number>> {
  const state: ScanState = { starts: [], commas: [], inString: false, stringStart: 0, nextQuote: -1, big: new Map() };
  let at = 0;
  while (at < text.length) {
    at = scanSlice(text, at, Math.min(text.length, at + chunk), state, bounds, chunk);
    if (at < text.length) await turnOfEventLoop();
  }
  return state.big;
}

function parseNative(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw notJson((error as Error).message);
  }
}

/** Sets a key as JSON.parse does: an own property, even "__proto__". */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Parses the container from `start` to `end` (exclusive), longer than
 * `chunk`: its small children in batches of about `chunk` characters, each
 * batch wrapped as a container of its own and parsed natively; its big
 * children (found in `big`) each the same way, recursively.
 */
async function parseContainer(
  text: string,
  start: number,
  end: number,
  big: Map<number, number>,
  chunk: number,
): Promise<unknown> {
  const isArray = text.charCodeAt(start) === OPEN_ARRAY;
  const array: unknown[] = [];
  const object: Record<string, unknown> = {};
  const inner = start + 1;
  const last = end - 1; // the closing bracket

  /** Parses the children in [from, to): to is a separating comma or the closing bracket. */
  const parseBatch = (from: number, to: number) => {
    const slice = text.slice(from, to);
    if (slice.trim() === '') {
      if (from === inner && to === last) return; // an empty container
      throw notJson(`a value is missing at ${from}`);
    }
    const parsed = parseNative(isArray ? `[${slice}]` : `{${slice}}`);
    if (isArray) for (const value of parsed as unknown[]) array.push(value);
    else for (const key of Object.keys(parsed as object)) define(object, key, (parsed as Record<string, unknown>)[key]);
  };

  let batchStart = inner; // -1 right after a big child, until its comma
  let childStart = inner;
  let colonAt = -1;
  let depth = 0;
  let inString = false;
  for (let i = inner; i < last; i++) {
    if (inString) {
      const quote = text.indexOf('"', i);
      if (quote === -1 || quote >= last) throw notJson(`unterminated string before ${last}`);
      i = quote;
      if (!escapedQuote(text, i)) inString = false;
      continue;
    }
    const c = text.charCodeAt(i);
    if (batchStart < 0 && depth === 0 && c !== COMMA && !isSpace(c)) throw notJson(`expected "," at ${i}`);
    if (c === QUOTE) {
      // A big string is stepped over (its batch parses it natively); others are walked.
      const bigEnd = big.get(i);
      if (bigEnd === undefined) inString = true;
      else i = bigEnd - 1;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      const bigEnd = depth === 0 ? big.get(i) : undefined;
      if (bigEnd === undefined) {
        depth++;
        continue;
      }
      if (childStart > batchStart) parseBatch(batchStart, childStart - 1);
      let key: string | undefined;
      if (!isArray) {
        key = colonAt > childStart ? (parseNative(text.slice(childStart, colonAt)) as string) : undefined;
        if (typeof key !== 'string' || text.slice(colonAt + 1, i).trim() !== '')
          throw notJson(`expected a key at ${childStart}`);
      } else if (text.slice(childStart, i).trim() !== '') throw notJson(`expected "," at ${childStart}`);
      const value = await parseContainer(text, i, bigEnd, big, chunk);
      if (isArray) array.push(value);
      else define(object, key!, value);
      await turnOfEventLoop();
      i = bigEnd - 1;
      batchStart = -1;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    else if (c === COLON && depth === 0) colonAt = i;
    else if (c === COMMA && depth === 0) {
      if (batchStart < 0) batchStart = i + 1;
      else if (i - batchStart >= chunk) {
        parseBatch(batchStart, i);
        batchStart = i + 1;
        await turnOfEventLoop();
      }
      childStart = i + 1;
    }
  }
  if (batchStart >= 0) parseBatch(batchStart, last);
  return isArray ? array : object;
}

/**
 * Parses `text` as JSON, refusing nesting deeper than `maxDepth` before
 * building anything, and parsing at most `chunkChars` in one turn of the event loop.
 */
export async function parseJsonInTurns(text: string, bounds: JsonBounds): Promise<unknown> {
  const chunk = bounds.chunkChars ?? DEFAULT_CHUNK_CHARS;
  const big = await scanInTurns(
    text,
    { maxDepth: bounds.maxDepth, maxItems: bounds.maxItems ?? MAX_JSON_ITEMS },
    chunk,
  );
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (start === end) throw notJson('empty');
  const first = text.charCodeAt(start);
  if (!big.has(start) || (first !== OPEN_ARRAY && first !== OPEN_OBJECT)) return parseNative(text);
  if (big.get(start) !== end) throw notJson(`unexpected text after the value at ${big.get(start)}`);
  return parseContainer(text, start, end, big, chunk);
}
