/**
 * An aggregate as it stood at a revision of its stream or at a moment:
 * rebuilt by folding the stream itself, never from a read model.
 */
import { badInput } from '../domain/errors.js';
import type { EventStore, RecordedEvent } from '../store/port.js';

export interface PointInTime {
  revision?: number | null;
  time?: Date | null;
}

export function isAtOrBefore(event: RecordedEvent, at: PointInTime): boolean {
  if (at.revision !== undefined && at.revision !== null && event.revision > BigInt(at.revision)) return false;
  if (at.time && Date.parse(event.timestamp) > at.time.getTime()) return false;
  return true;
}

/**
 * The stream's events up to the point, in revision order: it stops at the first
 * event past it, so a later event stamped earlier (one server's clock behind
 * another's) is not folded in without the events before it.
 */
export function upTo(events: readonly RecordedEvent[], at: PointInTime): RecordedEvent[] {
  const end = events.findIndex((event) => !isAtOrBefore(event, at));
  return end < 0 ? [...events] : events.slice(0, end);
}

export async function foldAt<E, S>(
  store: EventStore,
  streamId: string,
  at: PointInTime,
  parse: (event: RecordedEvent) => E,
  evolve: (state: S | undefined, event: E) => S | undefined,
): Promise<{ state: S; revision: number } | undefined> {
  if (at.revision !== undefined && at.revision !== null && at.revision < 0) throw badInput('revision must be >= 0');
  const events = upTo(await store.readStream(streamId), at);
  if (events.length === 0) return undefined;
  let state: S | undefined;
  for (const event of events) state = evolve(state, parse(event));
  return { state: state!, revision: Number(events[events.length - 1]!.revision) };
}
