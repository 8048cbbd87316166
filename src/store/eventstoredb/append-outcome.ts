/**
 * Lost races on EventStoreDB. The client resolves a lost race as a success
 * (`success: false`) rather than throwing when its connection string says
 * `throwOnAppendFailure=false`; an adapter that took it for a success would
 * report an append the log never recorded (a claim handing out a lease no
 * one holds). Both halves are closed here: the client is made to throw
 * whatever the string says, and any result that is not a success is refused
 * as the port's concurrency error all the same.
 */
import type { AppendResult, EventStoreDBClient } from '@eventstore/db-client';
import { WrongExpectedRevisionError, type ExpectedRevision } from '../port.js';

/**
 * The setting is the client's, not an append's (AppendToStreamOptions has no
 * such option in 6.2.1): its append reads it from a protected getter, shadowed
 * here on the instance. Were a later client to read it elsewhere, the check
 * below still refuses the lost race; only the actual revision it reports may
 * then be off (the non-throwing batch append reports it wrongly).
 */
export function throwingOnAppendFailure<C extends EventStoreDBClient>(client: C): C {
  Object.defineProperty(client, 'throwOnAppendFailure', { get: () => true, configurable: true });
  return client;
}

/** The stream's revision after an append that succeeded; the port's concurrency error for one that did not. */
export function appendedRevision(streamId: string, expected: ExpectedRevision, result: AppendResult): bigint {
  if (result.success) return result.nextExpectedRevision;
  // A lost race reports the stream's current revision, -1 when there is no stream.
  const actual = result.nextExpectedRevision >= 0n ? result.nextExpectedRevision : undefined;
  throw new WrongExpectedRevisionError(streamId, expected, actual);
}
