/**
 * The EventStoreDB adapter's own logic, with no server: what it sends instead
 * of an id that is not a UUID, what it refuses before sending, and how a
 * connection string is checked. The same behaviour against a real server is in
 * the store contract (store.eventstoredb.test.ts, when EVENTSTORE_URL is set).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppendTooLargeError } from '../../src/store/append-size.js';
import { connectionStringProblem } from '../../src/store/eventstoredb/connection-string.js';
import {
  ORIGINAL_ID_KEY,
  TRIALOG_EVENT_ID_NAMESPACE,
  esdbEventId,
  recordedEventId,
  uuidV5,
} from '../../src/store/eventstoredb/event-ids.js';
import { EventStoreDbEventStore } from '../../src/store/eventstoredb-store.js';

const NOBODY_LISTENS = 'esdb://127.0.0.1:1?tls=false';

describe('event ids sent to EventStoreDB', () => {
  it('makes version-5 UUIDs as RFC 9562 does (its example: www.example.com in the DNS namespace)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('sends a UUID in the form the server gives back as it is', () => {
    const id = randomUUID();
    expect(esdbEventId(id)).toEqual({ sent: id });
  });

  it('sends any other id (an upper-case UUID too) as the same UUID every time, made from it, and keeps the id given', () => {
    for (const id of ['legacy-42', 'job-7/3', 'ABCDEF01-2345-4678-9ABC-DEF012345678', '']) {
      const { sent, original } = esdbEventId(id);
      expect(sent).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(esdbEventId(id).sent).toBe(sent);
      expect(sent).toBe(uuidV5(id, TRIALOG_EVENT_ID_NAMESPACE));
      expect(original).toBe(id);
    }
    expect(esdbEventId('legacy-1').sent).not.toBe(esdbEventId('legacy-2').sent);
  });

  it('reads back the id given when the metadata carries it, and the server id otherwise', () => {
    const { sent } = esdbEventId('legacy-42');
    expect(recordedEventId(sent, { actor: 'a', [ORIGINAL_ID_KEY]: 'legacy-42' })).toBe('legacy-42');
    expect(recordedEventId(sent, { actor: 'a' })).toBe(sent);
  });
});

describe('an append larger than the server takes', () => {
  it('is refused with TOO_LARGE before anything is sent (here nothing could be: no server listens)', async () => {
    const store = new EventStoreDbEventStore(NOBODY_LISTENS, { maxAppendBytes: 1000 });
    try {
      const metadata = { actor: 't', correlationId: 'c', causationId: 'c', schemaVersion: 1 };
      const error = await store
        .appendToStream('job-x', [
          { id: randomUUID(), type: 'JobLogAppended', data: { lines: ['x'.repeat(1000)] }, metadata },
        ])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppendTooLargeError);
      expect(error).toMatchObject({ code: 'TOO_LARGE', maxBytes: 1000 });
    } finally {
      await store.close();
    }
  });

  it('counts what an imported event gains on the way (its own time and id in metadata)', async () => {
    const store = new EventStoreDbEventStore(NOBODY_LISTENS, { maxAppendBytes: 200 });
    try {
      const metadata = { actor: 't', correlationId: 'c', causationId: 'c', schemaVersion: 1 };
      const plain = { id: randomUUID(), type: 'T', data: { x: 'x'.repeat(50) }, metadata };
      // 200 bytes hold the plain event; with its original time and id in metadata it is over.
      const error = await store
        .appendToStream('cat-x', [{ ...plain, id: 'legacy-id-that-is-no-uuid', timestamp: '2024-01-01T00:00:00.000Z' }])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppendTooLargeError);
    } finally {
      await store.close();
    }
  });
});

describe('a connection string checked with the client’s own parser', () => {
  const password = 'pw-not-for-logs';
  it.each([
    [
      'a value the client cannot parse',
      `esdb://admin:${password}@localhost:2113?tls=maybe`,
      /not a valid connection string \(at character \d+: expected true or false\)/,
    ],
    ['a port that is not a number', `esdb://admin:${password}@localhost:x2113`, /expected port number/],
    [
      'a setting the client does not know (a typo)',
      `esdb://admin:${password}@localhost:2113?tsl=false`,
      /would not apply \(Unknown option key "tsl"/,
    ],
    [
      'tlsVerifyCert=false, which this client does not support',
      `esdb://admin:${password}@localhost:2113?tlsVerifyCert=false`,
      /"tlsVerifyCert" is not currently supported/,
    ],
    [
      'a CA file that does not exist',
      `esdb://admin:${password}@localhost:2113?tls=true&tlsCAFile=/nonexistent/ca.pem`,
      /certificate file\. File was not found/,
    ],
  ])('given %s, then it says what is wrong, without the password', (_, url, expected) => {
    const problem = connectionStringProblem(url);
    expect(problem).toMatch(expected);
    expect(problem).not.toContain(password);
  });

  it.each([
    'esdb://localhost:2113?tls=false',
    'esdb://admin:changeit@localhost:2113?tls=true',
    'esdb://admin:changeit@a:2113,b:2113,c:2113?tls=true&nodePreference=leader',
    'esdb+discover://admin:changeit@cluster.example.com:2113',
  ])('given %s, then there is nothing wrong', (url) => {
    expect(connectionStringProblem(url)).toBeUndefined();
  });
});
