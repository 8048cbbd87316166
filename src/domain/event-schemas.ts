/**
 * What every aggregate's events module needs from its table of zod schemas
 * (type -> data schema): the event types it implies, and a parser that checks
 * a stored event against its schema before the domain or a projection sees it.
 */
import type { z } from 'zod';

type Schemas = Record<string, z.ZodType>;

/** A recorded event as the domain sees it: type, parsed data, and when it was recorded. */
export type EventsOf<S extends Schemas> = {
  [T in keyof S & string]: { type: T; data: z.infer<S[T]>; timestamp: string };
}[keyof S & string];

/** An event decided but not yet stored. */
export type NewEventsOf<S extends Schemas> = {
  [T in keyof S & string]: { type: T; data: z.infer<S[T]> };
}[keyof S & string];

/** What a parser reads of a recorded event. */
export interface RecordedShape {
  type: string;
  data: unknown;
  timestamp: string;
  metadata?: { schemaVersion?: unknown };
}

export function hasEventType<S extends Schemas>(schemas: S, type: string): type is keyof S & string {
  return Object.hasOwn(schemas, type);
}

/** Parses a stored event of this kind; `upcast` lifts an older data shape first (see aggregate-kind.ts). */
export function eventParser<S extends Schemas>(
  schemas: S,
  kind: string,
  upcast: (event: RecordedShape) => unknown = (e) => e.data,
) {
  return (event: RecordedShape): EventsOf<S> => {
    if (!hasEventType(schemas, event.type)) throw new TypeError(`not ${kind} event: ${String(event.type)}`);
    const data = schemas[event.type]!.parse(upcast(event));
    return { type: event.type, data, timestamp: event.timestamp } as EventsOf<S>;
  };
}
