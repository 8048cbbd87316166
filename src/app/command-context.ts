/**
 * Who asked for a change and as part of what: every event's metadata comes
 * from here, so the audit log can say who and why.
 */
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../store/port.js';

export interface CommandContext {
  /** An API key's name, or `anonymous`. */
  actor: string;
  /** One per request: shared by every event the request caused. */
  correlationId: string;
  /** The event that caused this command, when another event did. */
  causationId?: string;
}

/**
 * One event's context in an append of several: given, or made from the ids of
 * the events before it in the same append (an event caused by one appended with it).
 */
export type EventContext = CommandContext | ((earlierIds: readonly string[]) => CommandContext);

/** The context of a command that an event caused (a scheduler's decision, a sweep after a finish). */
export function causedBy(context: CommandContext, eventId: string | undefined): CommandContext {
  return eventId ? { ...context, causationId: eventId } : context;
}

export function toNewEvents(
  events: readonly { type: string; data: unknown }[],
  context: CommandContext,
  schemaVersion: (type: string) => number,
): NewEvent[] {
  return events.map((event) => ({
    id: randomUUID(),
    type: event.type,
    data: event.data,
    metadata: {
      actor: context.actor,
      correlationId: context.correlationId,
      causationId: context.causationId ?? context.correlationId,
      schemaVersion: schemaVersion(event.type),
    },
  }));
}
