/**
 * Given/when/then specifications for a decider (Emmett's `DeciderSpecification`, in our terms):
 *
 *   given(pastEvents).when(command).then(decidedEvents)
 *   given(pastEvents).when(command).thenError('CONFLICT', /why/)
 *
 * The past events are folded with the aggregate's own `evolve`, stamped one second apart from a
 * fixed instant (`at(i)` is the i-th event's time), so a spec reads the state the way the
 * repository would hand it to `decide`, with no store and no clock.
 */
import { expect } from 'vitest';
import { DomainError, type ErrorCode } from '../../src/domain/errors.js';

/** When the first given event was recorded; the next ones follow a second apart. */
export const T0 = new Date('2026-01-01T00:00:00.000Z');
export const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

type Stamped<E> = E & { timestamp: string };

/** `Decided` is what `decide` returns: the aggregate's new events, or (for a pure planner such as a migration) its plan. */
export interface Decider<State, Command, Event, Recorded = Stamped<Event>, Decided = Event> {
  decide(state: State, command: Command): Decided[];
  evolve(state: State, event: Recorded): State;
  initialState: State;
}

export interface Then<Decided> {
  /** `decide` returns exactly these events (an empty list: nothing is written). */
  then(expected: Decided[]): void;
  /** `decide` throws a DomainError with this code (and, when given, a message that matches). */
  thenError(code: ErrorCode, message?: RegExp | string): void;
}

/** The state after `events`, each stamped `at(i)`. */
export function stateAfter<State, Event, Recorded>(
  decider: { evolve(state: State, event: Recorded): State; initialState: State },
  events: readonly Event[],
): State {
  return events.reduce(
    (state, event, i) => decider.evolve(state, { ...event, timestamp: at(i).toISOString() } as Recorded),
    decider.initialState,
  );
}

export function deciderSpec<State, Command, Event, Recorded = Stamped<Event>, Decided = Event>(
  decider: Decider<State, Command, Event, Recorded, Decided>,
) {
  return {
    given(events: readonly Event[]) {
      const state = stateAfter(decider, events);
      return {
        when(command: Command): Then<Decided> {
          return {
            then(expected) {
              expect(decider.decide(state, command)).toEqual(expected);
            },
            thenError(code, message) {
              let thrown: unknown;
              let decided: Decided[] | undefined;
              try {
                decided = decider.decide(state, command);
              } catch (error) {
                thrown = error;
              }
              expect(decided, 'decided events where an error was expected').toBeUndefined();
              expect(thrown).toBeInstanceOf(DomainError);
              expect((thrown as DomainError).code).toBe(code);
              if (message !== undefined) expect((thrown as DomainError).message).toMatch(message);
            },
          };
        },
      };
    },
  };
}
