/**
 * Loads an aggregate's state by folding its stream, and appends its new
 * events at the revision it was loaded at, so a concurrent change is a
 * conflict rather than a lost update.
 *
 * What a load costs depends on what changed since it was last folded, not on
 * how long the stream is:
 * - folded states are cached with their revision (in a cache bounded in bytes),
 *   so a load reads only the events appended since, from any process;
 * - a kind may offer snapshots (the jobs read model keeps every job's fold at
 *   its revision): a load the cache cannot answer starts there, not at zero;
 * - the stream is read forward in small pages, so even a fold from zero holds
 *   one page of events at a time, never the whole stream.
 * Fencing is unchanged: the append still names the revision the state was folded at.
 */
import { LRUCache } from 'lru-cache';
import type { z } from 'zod';
import type { RecordedShape } from '../domain/event-schemas.js';
import { WrongExpectedRevisionError, type AppendResult, type EventStore, type NewEvent } from '../store/port.js';
import { approximateJsonBytes } from '../approximate-size.js';
import { toNewEvents, type CommandContext, type EventContext } from './command-context.js';

export interface Loaded<S> {
  state: S | undefined;
  /** Revision of the stream's last event; undefined for no stream. */
  revision: bigint | undefined;
  /** Global position of the stream's last event. */
  position: string | undefined;
  /** Id of the stream's last event (what a follow-up names as its cause). */
  lastEventId?: string;
}

/**
 * What the repository needs to know of one kind of aggregate: a kind object of
 * the domain (src/domain/kinds.ts lists them), seen through its state, events
 * and new events.
 */
export interface RepositoryKind<S, E, N extends { type: string; data: unknown }> {
  streamId(id: string): string;
  parse(recorded: RecordedShape): E;
  evolve(state: S | undefined, event: E): S | undefined;
  initialState: S | undefined;
  schemas: Record<N['type'], z.ZodType>;
  /** The current version of each event type's data shape. */
  eventVersion(type: string): number;
}

/** The default bound of one repository's cache of folded states (TRIALOG_AGGREGATE_CACHE_BYTES). */
export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
/** Events read per page while folding: a page of the largest events (4 MiB log batches) stays in the tens of MiB. */
export const FOLD_PAGE_EVENTS = 16;

export interface RepositoryOptions<S> {
  /** Bytes of folded state the cache may hold (estimated as JSON); least recently used entries go first. */
  cacheBytes?: number;
  /** A recent fold of the aggregate kept elsewhere, to start from when the cache has none. */
  snapshot?: (id: string) => (Loaded<S> & { revision: bigint }) | undefined;
}

export class Repository<S, E, N extends { type: string; data: unknown }> {
  private readonly cache: LRUCache<string, Loaded<S>>;
  private readonly snapshot: RepositoryOptions<S>['snapshot'];

  constructor(
    private readonly store: EventStore,
    private readonly kind: RepositoryKind<S, E, N>,
    options: RepositoryOptions<S> = {},
  ) {
    const maxSize = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.cache = new LRUCache<string, Loaded<S>>({
      maxSize,
      // An entry larger than the whole bound is simply not kept.
      maxEntrySize: maxSize,
      sizeCalculation: (loaded, id) => Math.max(1, id.length + approximateJsonBytes(loaded.state)),
    });
    this.snapshot = options.snapshot;
  }

  async load(id: string): Promise<Loaded<S>> {
    const cached = this.cache.get(id);
    const streamId = this.kind.streamId(id);
    // The snapshot is consulted only when the cache has nothing: it costs a read and a parse of the whole state.
    const start = cached ?? (await this.verifiedSnapshot(id, streamId));
    let loaded: Loaded<S> = start ?? { state: this.kind.initialState, revision: undefined, position: undefined };
    for (;;) {
      const fromRevision = loaded.revision === undefined ? 0n : loaded.revision + 1n;
      const page = await this.store.readStream(streamId, { fromRevision, maxCount: FOLD_PAGE_EVENTS });
      if (page.length === 0) break;
      let state = loaded.state;
      for (const event of page) state = this.kind.evolve(state, this.kind.parse(event));
      const last = page[page.length - 1]!;
      loaded = { state, revision: last.revision, position: last.position, lastEventId: last.id };
      if (page.length < FOLD_PAGE_EVENTS) break;
    }
    if (loaded.revision !== undefined && loaded !== cached) this.cache.set(id, loaded);
    return loaded;
  }

  /**
   * The snapshot, if the stream agrees with it: the event at its revision must
   * be the one it names as its last (a header read, no data). A snapshot from
   * another store, or one the stream does not reach, is set aside and the
   * stream is folded from its start instead.
   */
  private async verifiedSnapshot(id: string, streamId: string): Promise<Loaded<S> | undefined> {
    const snapshot = this.snapshot?.(id);
    if (!snapshot) return undefined;
    const [atRevision] = await this.store.readStream(streamId, {
      fromRevision: snapshot.revision,
      maxCount: 1,
      withData: false,
      withMetadata: false,
    });
    return atRevision?.id === snapshot.lastEventId ? snapshot : undefined;
  }

  /**
   * Appends at the loaded revision; answers with the new events' ids too (for
   * causation). One context for all, or one per event (events with different causes,
   * possibly one appended before them).
   */
  async append(
    id: string,
    events: readonly N[],
    loadedRevision: bigint | undefined,
    context: CommandContext | readonly EventContext[],
  ): Promise<AppendResult & { eventIds: string[] }> {
    // Checked on the way in as well as on the way out: a malformed event never reaches the log.
    const checked = events.map((event) => ({
      type: event.type,
      data: (this.kind.schemas as Record<string, z.ZodType>)[event.type]!.parse(event.data),
    }));
    const contexts: readonly EventContext[] = Array.isArray(context)
      ? context
      : checked.map(() => context as CommandContext);
    const newEvents: NewEvent[] = [];
    checked.forEach((event, i) => {
      const given = contexts[i]!;
      const eventContext = typeof given === 'function' ? given(newEvents.map((e) => e.id)) : given;
      newEvents.push(...toNewEvents([event], eventContext, this.kind.eventVersion));
    });
    const result = await this.store.appendToStream(this.kind.streamId(id), newEvents, {
      expectedRevision: loadedRevision ?? 'no_stream',
    });
    return { ...result, eventIds: newEvents.map((e) => e.id) };
  }

  /**
   * Load, decide, append at the loaded revision; when another writer got there
   * first, decide again on fresh state (the decision re-checks every rule).
   * Answers with what was appended (nothing when the decision was no change).
   */
  async change(
    id: string,
    decide: (state: S | undefined) => readonly N[] | Promise<readonly N[]>,
    context: CommandContext,
    options: { retries?: number; onLostRace?: () => Error } = {},
  ): Promise<{ events: readonly N[]; position?: string; lastEventId?: string }> {
    const retries = options.retries ?? 10;
    for (let attempt = 0; ; attempt++) {
      const { state, revision } = await this.load(id);
      const events = await decide(state);
      if (events.length === 0) return { events };
      try {
        const { position, eventIds } = await this.append(id, events, revision, context);
        return { events, position, lastEventId: eventIds[eventIds.length - 1] };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= retries) throw options.onLostRace?.() ?? error;
      }
    }
  }
}
