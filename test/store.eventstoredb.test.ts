/**
 * The same contract against EventStoreDB, when `EVENTSTORE_URL` points at a
 * server (`docker compose up eventstore`, then
 * `EVENTSTORE_URL=esdb://localhost:2113?tls=false npm test`).
 */
import { describe, it } from 'vitest';
import { EventStoreDbEventStore } from '../src/store/eventstoredb-store.js';
import { eventStoreContract } from './store-contract.js';

const url = process.env.EVENTSTORE_URL;

if (url) {
  eventStoreContract(`EventStoreDB at ${url}`, async () => ({ store: new EventStoreDbEventStore(url) }));
} else {
  describe('event store contract: EventStoreDB', () => {
    it.skip('skipped: EVENTSTORE_URL is not set (start a server with `docker compose up eventstore`)', () => {});
  });
}
