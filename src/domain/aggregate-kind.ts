/**
 * One object per kind of aggregate (a job, an experiment, the key ring…):
 * everything the rest of the code needs to know of its streams and events,
 * in one place. Its stream ids and their inverse, its event schemas with the
 * current version of each and the upcasters that lift older ones, a parser
 * that upcasts then checks a recorded event, and the fold (`evolve` from the
 * initial state). src/domain/kinds.ts lists every kind; whatever walks the
 * log (the repositories, `trialog verify`, export, the projections' stream
 * tests, the EventStoreDB ownership filter) asks it rather than keeping a
 * list of its own.
 */
import type { z } from 'zod';
import { eventParser, hasEventType, type EventsOf, type NewEventsOf, type RecordedShape } from './event-schemas.js';

type Schemas = Record<string, z.ZodType>;

/** Lifts one version of an event's data to the next (`timestamp`: when it was recorded). */
export type Upcaster = (data: Record<string, unknown>, timestamp: string) => Record<string, unknown>;

/** The category of a stream id: its part before the first '-' (the whole id when it has none). */
export function categoryOfStream(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
}

/** What a kind is defined by; `defineKind` derives the rest. */
export interface KindDefinition<S extends Schemas, State> {
  /** The kind's name in messages and in its functions' names (decide<Name>, evolve<Name>). */
  name: string;
  /** How a message names one of its events: "not a job event". */
  article: string;
  /** The part of its stream ids before the first '-'. */
  category: string;
  /** For a kind with a single stream (the key ring, the registry): its id, the part after the category. */
  onlyId?: string;
  schemas: S;
  /** Current version of each event type whose data shape changed; 1 for the rest. */
  versions?: Partial<Record<keyof S & string, number>>;
  /** Per event type, per old version: the step to the next version. */
  upcasters?: Partial<Record<keyof S & string, Record<number, Upcaster>>>;
  /** State before the stream's first event. `undefined`: the aggregate does not exist yet. */
  initialState: State | undefined;
  evolve(state: State | undefined, event: EventsOf<S>): State | undefined;
  /**
   * Why a recorded event could not have been decided on the state before it,
   * or undefined when it could: what `trialog verify` checks each stream of this
   * kind against, folding it as it goes. Kinds without it are checked event by event.
   */
  illegalEvent?(state: State | undefined, event: EventsOf<S>): string | null | undefined;
}

export interface AggregateKind<S extends Schemas = Schemas, State = unknown> extends KindDefinition<S, State> {
  /** Every event type of the kind, in the order of its schemas. */
  readonly eventTypes: readonly (keyof S & string)[];
  streamId(id: string): string;
  /** The inverse of `streamId`: the aggregate's id from its stream's id. */
  idOf(streamId: string): string;
  /** Whether the stream is one of this kind's (category, or the one stream of a single-stream kind). */
  ownsStream(streamId: string): boolean;
  isEventType(type: string): type is keyof S & string;
  /** Whether a recorded event is one this kind folds: on its stream and of its types. */
  holds(event: { streamId: string; type: string }): boolean;
  /** The current version of an event type's data shape: what new events record as metadata.schemaVersion. */
  eventVersion(type: string): number;
  /** The version an event was recorded in (its metadata's, or the current one when it names none). */
  recordedVersion(event: Pick<RecordedShape, 'type' | 'metadata'>): number;
  /** A recorded event's data lifted to its type's current version (not checked: see `parse`). */
  upcast(event: RecordedShape): unknown;
  /** A recorded event upcast, then checked against its schema: the only way an event reaches `evolve`. */
  parse(event: RecordedShape): EventsOf<S>;
  fold(events: Iterable<EventsOf<S>>, initial?: State): State | undefined;
}

export type EventOfKind<K> = K extends AggregateKind<infer S, unknown> ? EventsOf<S> : never;
export type NewEventOfKind<K> = K extends AggregateKind<infer S, unknown> ? NewEventsOf<S> : never;

export function defineKind<S extends Schemas, State>(definition: KindDefinition<S, State>): AggregateKind<S, State> {
  const { category, onlyId, schemas } = definition;
  const versions: Partial<Record<string, number>> = definition.versions ?? {};
  const upcasters: Partial<Record<string, Record<number, Upcaster>>> = definition.upcasters ?? {};
  const prefix = `${category}-`;
  const eventVersion = (type: string) => versions[type] ?? 1;
  const recordedVersion = (event: Pick<RecordedShape, 'type' | 'metadata'>) =>
    typeof event.metadata?.schemaVersion === 'number' ? event.metadata.schemaVersion : eventVersion(event.type);
  const upcast = (event: RecordedShape): unknown => {
    const current = eventVersion(event.type);
    let data = event.data as Record<string, unknown>;
    for (let version = recordedVersion(event); version < current; version++) {
      const step = upcasters[event.type]?.[version];
      if (!step) throw new TypeError(`no upcaster for ${event.type} version ${version}`);
      data = step(data, event.timestamp);
    }
    return data;
  };
  const isEventType = (type: string): type is keyof S & string => hasEventType(schemas, type);
  const ownsStream = (streamId: string) =>
    onlyId === undefined ? streamId.startsWith(prefix) : streamId === prefix + onlyId;
  return {
    ...definition,
    eventTypes: Object.keys(schemas),
    streamId: (id) => prefix + id,
    idOf: (streamId) => streamId.slice(prefix.length),
    ownsStream,
    isEventType,
    holds: (event) => ownsStream(event.streamId) && isEventType(event.type),
    eventVersion,
    recordedVersion,
    upcast,
    parse: eventParser(schemas, definition.article, upcast),
    fold(events, initial = definition.initialState) {
      let state = initial;
      for (const event of events) state = definition.evolve(state, event);
      return state;
    },
  };
}
