/**
 * Each recorded event the read side handles is parsed (zod, with upcasting)
 * at most once per process: the projection runner's batch is applied to every
 * projection and then published, the same objects, to every live subscriber,
 * and whoever parses an event first leaves the parsed form with it for the
 * others. Which parser (the kind's own) is the caller's business: the memo is
 * kept per parser, so asking with another parser parses again rather than
 * answering with something of the wrong kind.
 *
 * Kept on the event object itself (a non-enumerable symbol property) rather
 * than in a WeakMap: a catch-up over millions of events would otherwise fill
 * an ephemeron table that only a full garbage collection empties. The parsed
 * form lives exactly as long as its event does (a batch being applied, or a
 * subscriber's queue, which is bounded).
 */
import type { RecordedEvent } from '../src/store/port.js';

const PARSED = Symbol('parsed once');

interface Memo {
  readonly parse: unknown;
  readonly event: unknown;
}

type WithMemo = RecordedEvent & { [PARSED]?: Memo };

let parses = 0;

/** `parse(recorded)`, worked out once for this event object and this parser. */
export function parseOnce<E>(recorded: RecordedEvent, parse: (recorded: RecordedEvent) => E): E {
  const memo = (recorded as WithMemo)[PARSED];
  if (memo?.parse === parse) return memo.event as E;
  const event = parse(recorded);
  parses++;
  Object.defineProperty(recorded, PARSED, { value: { parse, event }, configurable: true, writable: true });
  return event;
}

/** How many events `parseOnce` has parsed in this process (for tests and profiles). */
export function parsedOnceCount(): number {
  return parses;
}
