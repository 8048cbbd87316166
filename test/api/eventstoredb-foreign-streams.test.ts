/**
 * What the EventStoreDB adapter asks a shared server for, without a server:
 * the owned streams (src/domain/log-categories.ts), the server-side filters
 * built from the port's filters (checked against the client's own filter
 * objects), and the filtered read of $all the client lacks (checked on the
 * request it sends). Against a real server: store.eventstoredb.test.ts.
 */
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  UnavailableError,
  eventTypeFilter,
  streamNameFilter,
} from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { LOG_CATEGORIES } from '../../src/domain/log-categories.js';
import { AGGREGATE_KINDS } from '../../src/domain/kinds.js';
import { serverFilterFor } from '../../src/store/eventstoredb/filters.js';
import { filteredReadRequest, readAllFiltered } from '../../src/store/eventstoredb/filtered-read.js';
import { ownershipOfPrefixes, trialogOwnership } from '../../src/store/eventstoredb/ownership.js';

const TRIALOG_PREFIXES = ['job-', 'experiment-', 'access-', 'leasetoken-', 'registry-', 'mapping-', 'trainingset-'];

describe("EventStoreDB foreign streams: what is Trialog's", () => {
  it('every stream Trialog writes, with every event type it writes there, is owned', () => {
    for (const kind of AGGREGATE_KINDS) {
      const streamId = kind.streamId(kind.onlyId ?? 'x1');
      for (const type of kind.eventTypes)
        expect(trialogOwnership.owns({ streamId, type }), `${streamId} ${type}`).toBe(true);
    }
    expect([...LOG_CATEGORIES.keys()].map((category) => `${category}-`)).toEqual(TRIALOG_PREFIXES);
    expect(trialogOwnership.streamPrefixes).toEqual(TRIALOG_PREFIXES);
  });

  it("another application's events are not: its own categories, and its streams that share a prefix of ours but not our event types", () => {
    expect(trialogOwnership.owns({ streamId: 'orders-17', type: 'OrderPlaced' })).toBe(false);
    expect(trialogOwnership.owns({ streamId: 'job-17', type: 'OrderPlaced' })).toBe(false);
    // A job event type in another category's stream is not a job stream's event.
    expect(trialogOwnership.owns({ streamId: 'experiment-17', type: 'JobCreated' })).toBe(false);
    expect(trialogOwnership.owns({ streamId: 'jobs-17', type: 'JobCreated' })).toBe(false);
    expect(trialogOwnership.owns({ streamId: 'job', type: 'JobCreated' })).toBe(false);
    expect(trialogOwnership.owns({ streamId: '$$job-17', type: '$metadata' })).toBe(false);
  });

  it('a prefix ownership (the contract suite) owns any type under its prefixes but the server’s own', () => {
    const ownership = ownershipOfPrefixes(['contract']);
    expect(ownership.owns({ streamId: 'contractcat-1', type: 'Anything' })).toBe(true);
    expect(ownership.owns({ streamId: 'contractcat-1', type: '$>' })).toBe(false);
    expect(ownership.owns({ streamId: 'job-1', type: 'JobCreated' })).toBe(false);
  });
});

describe('EventStoreDB foreign streams: the filter the server applies', () => {
  it("without a filter, Trialog's categories by stream-name prefix", () => {
    expect(serverFilterFor(trialogOwnership)).toEqual(streamNameFilter({ prefixes: TRIALOG_PREFIXES }));
  });

  it('by event type when types are asked for: only the types Trialog writes (checked exactly on receipt, a prefix being a prefix)', () => {
    expect(serverFilterFor(trialogOwnership, { types: ['JobClaimed', 'OrderPlaced', 'JobClaimed'] })).toEqual(
      eventTypeFilter({ prefixes: ['JobClaimed'] }),
    );
    expect(serverFilterFor(trialogOwnership, { types: ['OrderPlaced'] })).toBeUndefined();
  });

  it('one category, or one stream, when the filter names it; nothing when it is not ours', () => {
    expect(serverFilterFor(trialogOwnership, { category: 'job' })).toEqual(streamNameFilter({ prefixes: ['job-'] }));
    expect(serverFilterFor(trialogOwnership, { streamId: 'job-j1' })).toEqual(
      streamNameFilter({ prefixes: ['job-j1'] }),
    );
    expect(serverFilterFor(trialogOwnership, { category: 'orders' })).toBeUndefined();
    expect(serverFilterFor(trialogOwnership, { streamId: 'orders-1' })).toBeUndefined();
  });

  it("leaves out on the server the categories a reader's role does not see", () => {
    const filter = serverFilterFor(trialogOwnership, { excludeCategories: ['access', 'leasetoken'] });
    expect(filter).toEqual(
      streamNameFilter({ prefixes: TRIALOG_PREFIXES.filter((p) => p !== 'access-' && p !== 'leasetoken-') }),
    );
    expect(serverFilterFor(trialogOwnership, { category: 'access', excludeCategories: ['access'] })).toBeUndefined();
  });
});

describe('EventStoreDB foreign streams: the filtered read of $all', () => {
  it('sends a read of $all with the filter on stream names, from a position, forwards, for a page', () => {
    const request = filteredReadRequest({
      direction: FORWARDS,
      fromPosition: { commit: 1234n, prepare: 1200n },
      maxCount: 500,
      filter: streamNameFilter({ prefixes: ['job-', 'experiment-'] }),
    }).toObject();
    expect(request.options).toMatchObject({
      all: { position: { commitPosition: '1234', preparePosition: '1200' } },
      readDirection: 0,
      count: '500',
      filter: { streamIdentifier: { prefixList: ['job-', 'experiment-'] }, count: {} },
    });
    expect(request.options?.noFilter).toBeUndefined();
    expect(request.options?.subscription).toBeUndefined();
    expect(request.options?.filter?.eventType).toBeUndefined();
  });

  it('sends the filter on event types, backwards from the end', () => {
    const request = filteredReadRequest({
      direction: BACKWARDS,
      fromPosition: END,
      maxCount: 1,
      filter: eventTypeFilter({ prefixes: ['JobClaimed'] }),
    }).toObject();
    expect(request.options).toMatchObject({
      all: { end: {} },
      readDirection: 1,
      count: '1',
      filter: { eventType: { prefixList: ['JobClaimed'] } },
    });
    expect(request.options?.filter?.streamIdentifier).toBeUndefined();
  });

  it("goes through the client's own connection: against a closed port it fails as the client's reads do", async () => {
    const client = EventStoreDBClient.connectionString('esdb://127.0.0.1:9?tls=false');
    const read = readAllFiltered(client, {
      direction: FORWARDS,
      fromPosition: START,
      maxCount: 1,
      filter: serverFilterFor(trialogOwnership)!,
    });
    const outcome = await (async () => {
      for await (const event of read) return event;
      return 'ended';
    })().catch((error: unknown) => error);
    await client.dispose();
    expect(outcome).toBeInstanceOf(UnavailableError);
  });
});
