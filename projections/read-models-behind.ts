/**
 * A mutation's events are in the log, but the read models have not applied
 * them within the wait allowed (TRIALOG_READ_MODEL_WAIT_SECONDS): the event
 * store's subscription is backing off, or another process holds the read-model
 * database. The answer must not look like a failure to write: a client that
 * repeats a change which is not idempotent would make it twice.
 *
 * Its code is INTERNAL_SERVER_ERROR, the one code of the contract for "the
 * server could not answer": not CONFLICT (nothing was refused, and clients
 * reload and decide again on it), not BAD_USER_INPUT (nothing is wrong with
 * the request). `reason: READ_MODELS_BEHIND`, `recorded: true` and the
 * event's `position` say what happened and where to look for it (the `events`
 * query after that position, once the read models have caught up).
 */
import { DomainError } from '../src/domain/errors.js';

export class ReadModelsBehindError extends DomainError {
  constructor(
    readonly position: string,
    waitedMs: number,
    appliedUpTo: string | undefined,
  ) {
    super(
      'INTERNAL_SERVER_ERROR',
      `the change was recorded (log position ${position}), but the read models have not caught up with it within ` +
        `${Math.round(waitedMs / 1000)} s (they have applied up to ${appliedUpTo ?? 'nothing'}): do not repeat it; ` +
        'read it back once they have caught up',
      { reason: 'READ_MODELS_BEHIND', recorded: true, position },
    );
    this.name = 'ReadModelsBehindError';
  }
}
