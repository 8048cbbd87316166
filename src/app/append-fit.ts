/**
 * For commands that write several streams one after another: each append is
 * checked against the store's largest append before the first is written, so
 * a call the store would refuse part of is refused whole, with nothing written.
 */
import { assertAppendFits } from '../store/append-size.js';
import type { EventStore } from '../store/port.js';
import { toNewEvents, type CommandContext } from './command-context.js';

/** Throws AppendTooLargeError (TOO_LARGE) when `events`, appended to `streamId` with `context`, would not fit. */
export function assertFitsOneAppend(
  store: Pick<EventStore, 'maxAppendBytes'>,
  streamId: string,
  events: readonly { type: string; data: unknown }[],
  context: CommandContext,
): void {
  // The schema version is a digit or two: its value changes nothing measurable.
  assertAppendFits(
    streamId,
    toNewEvents(events, context, () => 1),
    store.maxAppendBytes,
  );
}
