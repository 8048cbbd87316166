/**
 * An aggregate as it stood at a revision of its stream or at a moment:
 * rebuilt by folding the stream itself, never from a read model. The stream
 * is read forward a page at a time and reading stops at the first event past
 * the point, so memory holds one page, and the events after the point are
 * never read.
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

/** Events read per page while folding into the past. */
const PAGE_EVENTS = 16;

/** What folding an aggregate into the past needs of its kind (src/domain/kinds.ts). */
export interface FoldableKind<E, S> {
  streamId(id: string): string;
  parse(event: RecordedEvent): E;
  evolve(state: S | undefined, event: E): S | undefined;
  initialState: S | undefined;
}

/** The aggregate `id` of `kind` folded up to the point; undefined when its stream has no event there. */
export async function foldAt<E, S>(
  store: EventStore,
  kind: FoldableKind<E, S>,
  id: string,
  at: PointInTime,
): Promise<{ state: S; revision: number } | undefined> {
  if (at.revision !== undefined && at.revision !== null && at.revision < 0) throw badInput('revision must be >= 0');
  const streamId = kind.streamId(id);
  let state = kind.initialState;
  let revision: bigint | undefined;
  for (;;) {
    const fromRevision = revision === undefined ? 0n : revision + 1n;
    const maxCount =
      at.revision != null ? Math.min(PAGE_EVENTS, Number(BigInt(at.revision) - fromRevision) + 1) : PAGE_EVENTS;
    if (maxCount <= 0) break;
    const page = await store.readStream(streamId, { fromRevision, maxCount });
    const included = upTo(page, at);
    for (const event of included) state = kind.evolve(state, kind.parse(event));
    if (included.length > 0) revision = included[included.length - 1]!.revision;
    if (included.length < page.length || page.length < maxCount) break;
  }
  return revision === undefined ? undefined : { state: state!, revision: Number(revision) };
}
