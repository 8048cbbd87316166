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
import { conflict } from '../domain/errors.js';
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
   *
   * The cache is kept current by the append itself: once the store has taken
   * the events, the cached fold (if it stood at `loadedRevision`) advances by
   * them, from the data checked here, so the next load reads nothing back and
   * parses nothing. A lost race drops the entry: the next load reads the stream.
   */
  async append(
    id: string,
    events: readonly N[],
    loadedRevision: bigint | undefined,
    context: CommandContext | readonly EventContext[],
  ): Promise<AppendResult & { eventIds: string[] }> {
    const cached = this.cache.get(id);
    const base = loadedRevision === undefined ? undefined : cached?.revision === loadedRevision ? cached : null;
    const known = base === null ? null : { state: base?.state, revision: loadedRevision };
    return this.appendFrom(id, events, known, context, loadedRevision);
  }

  /**
   * Appends after `base` (the state the events were decided on, at its revision;
   * null when it is not known, and then the cache entry is only dropped).
   */
  private async appendFrom(
    id: string,
    events: readonly N[],
    base: { state: S | undefined; revision: bigint | undefined } | null,
    context: CommandContext | readonly EventContext[],
    loadedRevision: bigint | undefined,
  ): Promise<AppendResult & { eventIds: string[] }> {
    // Checked on the way in as well as on the way out: a malformed event never reaches the log.
    const checked = events.map((event) => ({
      type: event.type,
      data: (this.kind.schemas as Record<string, z.ZodType>)[event.type]!.parse(event.data),
    }));
    const contexts: readonly EventContext[] = Array.isArray(context)
      ? context
      : checked.map(() => context as CommandContext);
    // Stamped here rather than by the store, so the fold below sees the very timestamp a load would read.
    const timestamp = new Date().toISOString();
    const newEvents: NewEvent[] = [];
    checked.forEach((event, i) => {
      const given = contexts[i]!;
      const eventContext = typeof given === 'function' ? given(newEvents.map((e) => e.id)) : given;
      newEvents.push(...toNewEvents([event], eventContext, this.kind.eventVersion).map((e) => ({ ...e, timestamp })));
    });
    let result: AppendResult;
    try {
      result = await this.store.appendToStream(this.kind.streamId(id), newEvents, {
        expectedRevision: loadedRevision ?? 'no_stream',
      });
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) this.cache.delete(id);
      throw error;
    }
    const eventIds = newEvents.map((e) => e.id);
    this.advanceCache(id, base, checked, timestamp, result, eventIds[eventIds.length - 1]!);
    return { ...result, eventIds };
  }

  /** The cached fold moved past the events just appended, exactly as a load that read them would fold them. */
  private advanceCache(
    id: string,
    base: { state: S | undefined; revision: bigint | undefined } | null,
    appended: readonly { type: string; data: unknown }[],
    timestamp: string,
    result: AppendResult,
    lastEventId: string,
  ): void {
    const cached = this.cache.get(id);
    // Not known what the events were decided on, or another append here moved the entry on meanwhile.
    if (base === null || (cached !== undefined && cached.revision !== base.revision)) {
      this.cache.delete(id);
      return;
    }
    let state = base.state;
    for (const event of appended) state = this.kind.evolve(state, { ...event, timestamp } as E);
    this.cache.set(id, {
      state,
      revision: result.nextExpectedRevision,
      position: result.position,
      lastEventId,
    });
  }

  /**
   * The one load-decide-append loop: load, decide, append at the loaded
   * revision; when another writer got there first, decide again on fresh state
   * (the decision re-checks every rule). `decide` is synchronous and makes no
   * change anywhere: whatever else a command does (another aggregate's append,
   * a hook) runs after `change` answers, once, with what was appended.
   *
   * Answers with what was appended (nothing when the decision was no change),
   * the state it was decided on, and, with `readModels`, only once the read
   * models include the new events.
   */
  async change(
    id: string,
    decide: (state: S | undefined) => readonly N[],
    context: CommandContext,
    options: ChangeOptions<S, N> = {},
  ): Promise<Changed<S, N>> {
    const retries = options.retries ?? DEFAULT_RACE_RETRIES;
    for (let attempt = 0; ; attempt++) {
      const loaded = attempt === 0 && options.loaded ? options.loaded : await this.load(id);
      const events = decide(loaded.state);
      if (events.length === 0) return { events, state: loaded.state, eventIds: [] };
      try {
        const { position, eventIds } = await this.appendFrom(
          id,
          events,
          loaded,
          options.contexts?.(events) ?? context,
          loaded.revision,
        );
        if (options.readModels) await options.readModels(position);
        return { events, state: loaded.state, position, eventIds, lastEventId: eventIds[eventIds.length - 1] };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt >= retries) throw options.onLostRace?.() ?? conflict(`${id} changed concurrently; try again`);
      }
    }
  }
}

/** How many times a lost race is decided again before the command answers CONFLICT. */
export const DEFAULT_RACE_RETRIES = 10;

export interface ChangeOptions<S, N> {
  /** Lost races decided again before giving up (0: the first decision only, as a create wants). */
  retries?: number;
  /** The error once the retries are used up (default: CONFLICT, "changed concurrently"). */
  onLostRace?: () => Error;
  /** One context per decided event (a follow-up caused by an event appended with it); default: the command's. */
  contexts?: (events: readonly N[]) => readonly EventContext[];
  /**
   * What the first decision starts from, when the caller has loaded it already (a
   * claim looks before it reserves its token) or knows there is no stream yet.
   */
  loaded?: Loaded<S>;
  /** Resolves once the read models include the event at this position: the answer waits for it. */
  readModels?: (position: string) => Promise<void>;
}

export interface Changed<S, N> {
  /** What was appended: empty when the decision was no change. */
  events: readonly N[];
  /** The state the events were decided on (the one answered from when nothing was appended). */
  state: S | undefined;
  /** The appended events' ids, in order, and the last one's (what a follow-up names as its cause). */
  eventIds: string[];
  lastEventId?: string;
  /** Global position of the last appended event. */
  position?: string;
}
