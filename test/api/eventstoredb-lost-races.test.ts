/**
 * Lost races on EventStoreDB, without a server: whatever the connection
 * string says, the adapter's client throws on a lost race, and a result that
 * is not a success is refused as the port's concurrency error all the same.
 * Against a real server: store.eventstoredb.test.ts.
 */
import { EventStoreDBClient, WrongExpectedVersionError, jsonEvent, type AppendResult } from '@eventstore/db-client';
import { append } from '@eventstore/db-client/dist/streams/appendToStream/append.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { appendedRevision, throwingOnAppendFailure } from '../../src/store/eventstoredb/append-outcome.js';
import { EventStoreDbEventStore } from '../../src/store/eventstoredb-store.js';
import { WrongExpectedRevisionError } from '../../src/store/port.js';

/** The setting the client's append reads (a protected getter: what the adapter overrides). */
const throwsOnAppendFailure = (client: EventStoreDBClient) => Reflect.get(client, 'throwOnAppendFailure') as boolean;

const NOT_THROWING = 'esdb://127.0.0.1:9?tls=false&throwOnAppendFailure=false';

/**
 * The client's own append (its single-append path) run against a server that
 * answers "wrong expected version: the stream is at 5": the connection is
 * replaced by a call that answers so, the rest is the client's code.
 */
function appendLosingTheRace(client: EventStoreDBClient): Promise<AppendResult> {
  const answer = new streamsPb.AppendResp();
  const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
  wrong.setCurrentRevision('5');
  wrong.setExpectedRevision('3');
  answer.setWrongExpectedVersion(wrong);
  Reflect.set(
    client,
    'execute',
    (_grpcClient: unknown, _name: string, action: (grpc: unknown) => Promise<AppendResult>) =>
      action({
        append: (_metadata: unknown, _options: unknown, callback: (error: Error | null, response: unknown) => void) =>
          new Writable({
            objectMode: true,
            write: (_message, _encoding, done) => done(),
            final: (done) => {
              callback(null, answer);
              done();
            },
          }),
      }),
  );
  const event = jsonEvent({ type: 'JobClaimed', data: {} });
  return append.call(client, 'job-1', [event], { expectedRevision: 3n, batchAppendSize: 1 << 20 });
}

describe('EventStoreDB lost races', () => {
  it('given a connection string with throwOnAppendFailure=false, then the client made to throw throws on a lost race', async () => {
    const client = EventStoreDBClient.connectionString(NOT_THROWING);
    expect(throwsOnAppendFailure(client)).toBe(false);
    expect(throwsOnAppendFailure(throwingOnAppendFailure(client))).toBe(true);
    await client.dispose();
  });

  it("the override reaches the client's append: without it a lost race resolves as an unsuccessful result, with it the append throws", async () => {
    const plain = EventStoreDBClient.connectionString(NOT_THROWING);
    expect(await appendLosingTheRace(plain)).toMatchObject({ success: false, nextExpectedRevision: 5n });
    const forced = throwingOnAppendFailure(EventStoreDBClient.connectionString(NOT_THROWING));
    await expect(appendLosingTheRace(forced)).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await plain.dispose();
    await forced.dispose();
  });

  it("given such a string, then the adapter's own client throws on a lost race", async () => {
    const store = new EventStoreDbEventStore(NOT_THROWING);
    expect(throwsOnAppendFailure(Reflect.get(store, 'client') as EventStoreDBClient)).toBe(true);
    await store.close();
  });

  it('given a client that still answers a lost race as an unsuccessful result, then the adapter refuses the append as a concurrency error', async () => {
    const store = new EventStoreDbEventStore(NOT_THROWING);
    const client = Reflect.get(store, 'client') as EventStoreDBClient;
    Reflect.set(client, 'appendToStream', async () => ({
      success: false,
      nextExpectedRevision: 5n,
      position: undefined,
    }));
    const append = store.appendToStream(
      'job-1',
      [
        {
          id: crypto.randomUUID(),
          type: 'JobClaimed',
          data: {},
          metadata: { actor: 't', correlationId: 'c', causationId: 'c', schemaVersion: 1 },
        },
      ],
      {
        expectedRevision: 3n,
      },
    );
    await expect(append).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    await expect(append).rejects.toMatchObject({ expected: 3n, actual: 5n });
    await store.close();
  });

  it('given an append that succeeded, then its revision', () => {
    expect(appendedRevision('job-1', 3n, { success: true, nextExpectedRevision: 4n, position: undefined })).toBe(4n);
  });

  it('given an append that lost a race, then the concurrency error with the revision the stream is at', () => {
    const lost = () => appendedRevision('job-1', 3n, { success: false, nextExpectedRevision: 7n, position: undefined });
    expect(lost).toThrow(WrongExpectedRevisionError);
    expect(lost).toThrow('stream job-1: expected 3, actual 7');
  });

  it('given an append expecting a stream that does not exist, then the concurrency error says there is no stream', () => {
    let error: unknown;
    try {
      appendedRevision('job-1', 'stream_exists', { success: false, nextExpectedRevision: -1n, position: undefined });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(WrongExpectedRevisionError);
    expect((error as WrongExpectedRevisionError).actual).toBeUndefined();
  });
});
