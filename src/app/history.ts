/**
 * The event log as the read side's queries see it, read-only: pages of the
 * audit log and of one stream's history, aggregates as they stood at a
 * revision or a moment (time travel), and the canonical form of a position a
 * client sends back as a cursor. The store behind it never reaches the
 * GraphQL layer: nothing here appends.
 */
import type { Limits } from '../limits.js';
import type { EventFilter, EventStore } from '../store/port.js';
import { readLogPage, readStreamPage, type EventFields, type EventPage } from './audit-log.js';
import { jobAt, type PastJob } from './job-history.js';
import { foldAt, type FoldableKind, type PointInTime } from './time-travel.js';

export class History {
  constructor(
    private readonly store: EventStore,
    /** A page that selects data holds at most `eventPageBytes` of it (and at least one event). */
    private readonly limits: Pick<Limits, 'eventPageBytes'>,
  ) {}

  /** The global log after a position, oldest first (the `events` query). */
  logPage(filter: EventFilter, first: number, after: string | undefined, fields: EventFields): Promise<EventPage> {
    return readLogPage(this.store, filter, first, after, fields, this.limits.eventPageBytes);
  }

  /** One stream's events after a revision (the cursor), oldest first, up to revision `upTo` when given. */
  streamPage(
    streamId: string,
    first: number,
    after: string | undefined,
    options: { upTo?: number; fields?: EventFields } = {},
  ): Promise<EventPage> {
    return readStreamPage(this.store, streamId, first, after, { ...options, pageBytes: this.limits.eventPageBytes });
  }

  /** A job as it stood at a revision of its stream or at a time. */
  jobAt(jobId: string, at: PointInTime): Promise<PastJob | undefined> {
    return jobAt(this.store, jobId, at);
  }

  /** Any aggregate as it stood at a revision of its stream or at a time, folded from the stream. */
  foldAt<E, S>(
    kind: FoldableKind<E, S>,
    id: string,
    at: PointInTime,
  ): Promise<{ state: S; revision: number } | undefined> {
    return foldAt(this.store, kind, id, at);
  }

  /** The store's canonical form of a log position (throws on one that is not). */
  normalizePosition(position: string): string {
    return this.store.normalizePosition(position);
  }
}
