/**
 * Loads an aggregate's state by folding its stream, and appends its new
 * events at the revision it was loaded at, so a concurrent change is a
 * conflict rather than a lost update. Folded states are cached with their
 * revision: a load reads only the events appended since, from any process.
 */
import type { z } from 'zod';
import { WrongExpectedRevisionError, type AppendResult, type EventStore, type RecordedEvent } from '../store/port.js';
import { toNewEvents, type CommandContext } from './command-context.js';

export interface Loaded<S> {
  state: S | undefined;
  /** Revision of the stream's last event; undefined for no stream. */
  revision: bigint | undefined;
  /** Global position of the stream's last event. */
  position: string | undefined;
  /** Id of the stream's last event (what a follow-up names as its cause). */
  lastEventId?: string;
}

/** What the repository needs to know of one kind of aggregate. */
export interface AggregateKind<S, E, N extends { type: string; data: unknown }> {
  streamId(id: string): string;
  parse(recorded: RecordedEvent): E;
  evolve(state: S | undefined, event: E): S | undefined;
  schemas: Record<N['type'], z.ZodType>;
  /** The current version of each event type's data shape. */
  schemaVersion: (type: string) => number;
}

const CACHE_SIZE = 10_000;

export class Repository<S, E, N extends { type: string; data: unknown }> {
  private readonly cache = new Map<string, Loaded<S>>();

  constructor(
    private readonly store: EventStore,
    private readonly kind: AggregateKind<S, E, N>,
  ) {}

  async load(id: string): Promise<Loaded<S>> {
    const cached = this.cache.get(id);
    const fromRevision = cached?.revision === undefined ? 0n : cached.revision + 1n;
    const recorded = await this.store.readStream(this.kind.streamId(id), { fromRevision });
    if (recorded.length === 0) return cached ?? { state: undefined, revision: undefined, position: undefined };
    let state = cached?.state;
    for (const event of recorded) state = this.kind.evolve(state, this.kind.parse(event));
    const last = recorded[recorded.length - 1]!;
    const loaded: Loaded<S> = { state, revision: last.revision, position: last.position, lastEventId: last.id };
    this.remember(id, loaded);
    return loaded;
  }

  /**
   * Appends at the loaded revision; answers with the new events' ids too (for
   * causation). One context for all, or one per event (events with different causes).
   */
  async append(
    id: string,
    events: readonly N[],
    loadedRevision: bigint | undefined,
    context: CommandContext | readonly CommandContext[],
  ): Promise<AppendResult & { eventIds: string[] }> {
    // Checked on the way in as well as on the way out: a malformed event never reaches the log.
    const checked = events.map((event) => ({
      type: event.type,
      data: (this.kind.schemas as Record<string, z.ZodType>)[event.type]!.parse(event.data),
    }));
    const contexts = Array.isArray(context) ? context : checked.map(() => context as CommandContext);
    const newEvents = checked.flatMap((event, i) => toNewEvents([event], contexts[i]!, this.kind.schemaVersion));
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

  private remember(id: string, loaded: Loaded<S>): void {
    // Map keeps insertion order: re-inserting makes this the newest entry.
    this.cache.delete(id);
    this.cache.set(id, loaded);
    if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
  }
}
