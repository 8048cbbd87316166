/**
 * What every store adapter must do about the size of an append and about
 * event ids that are not UUIDs: `store.sqlite.test.ts` runs it always,
 * `store.eventstoredb.test.ts` whenever EVENTSTORE_URL points at a server (at
 * its default MaxAppendSize, 1 MiB, unless EVENTSTORE_MAX_APPEND_BYTES says
 * what the server was started with).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importLog } from '../../src/cli/log-commands.js';
import type { CliStore } from '../../src/cli/store.js';
import { AppendTooLargeError, appendBytes } from '../../src/store/append-size.js';
import type { EventStore, NewEvent } from '../../src/store/port.js';
import { tempDir } from './server.js';

export interface LimitedStoreUnderTest {
  store: EventStore;
  cleanup?: () => Promise<void> | void;
}

const metadata = { actor: 'test', correlationId: 'c-1', causationId: 'c-1', schemaVersion: 1 };

/** One event of exactly `bytes` as the stores count them (its padding is ASCII: one byte a character). */
function eventOfSize(bytes: number, id: string = randomUUID()): NewEvent {
  const empty: NewEvent = { id, type: 'Sized', data: { pad: '' }, metadata };
  const padding = bytes - appendBytes([empty]);
  return { ...empty, data: { pad: 'x'.repeat(padding) } };
}

/** A CliStore over an open store, for `importLog` (which needs no read models). */
function cliOver(store: EventStore): CliStore {
  return {
    store,
    size: async () => undefined,
    readModels: () => {
      throw new Error('not needed by import');
    },
    close: async () => {},
  };
}

export function appendLimitsContract(name: string, open: () => Promise<LimitedStoreUnderTest>): void {
  describe(`event store contract, limits and ids: ${name}`, () => {
    let subject: LimitedStoreUnderTest;
    const dirs: { remove(): void }[] = [];
    afterEach(async () => {
      await subject?.store.close();
      await subject?.cleanup?.();
      for (const dir of dirs.splice(0)) dir.remove();
    });

    it('given events of exactly the largest append, then they are written; one byte more, then AppendTooLargeError and nothing written', async () => {
      subject = await open();
      const { store } = subject;
      const max = store.maxAppendBytes;
      const half = Math.floor(max / 2);
      const fits = `fits-${randomUUID().replaceAll('-', '')}`;
      await store.appendToStream(fits, [eventOfSize(half), eventOfSize(max - half)], { expectedRevision: 'no_stream' });
      expect(await store.readStream(fits)).toHaveLength(2);

      const over = `over-${randomUUID().replaceAll('-', '')}`;
      const error = await store
        .appendToStream(over, [eventOfSize(half), eventOfSize(max - half + 1)], { expectedRevision: 'no_stream' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppendTooLargeError);
      expect(error).toMatchObject({ code: 'TOO_LARGE', bytes: max + 1, maxBytes: max });
      expect(await store.readStream(over)).toEqual([]);
    });

    it('given event ids that are not UUIDs, then reads report them as given, and an append retried with them writes nothing twice', async () => {
      subject = await open();
      const { store } = subject;
      const stream = `legacy-${randomUUID().replaceAll('-', '')}`;
      const run = randomUUID();
      const events = [`${run}/1`, `EVT-${run}-2`].map((id) => ({ id, type: 'Legacy', data: { n: id }, metadata }));
      const first = await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
      const retried = await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
      expect(retried.nextExpectedRevision).toBe(first.nextExpectedRevision);
      const read = await store.readStream(stream);
      expect(read.map((e) => e.id)).toEqual(events.map((e) => e.id));
      expect(read.map((e) => e.metadata)).toEqual([metadata, metadata]);
    });

    it('given an export whose ids are not UUIDs, when its import is interrupted and run again, then every event is there once, with its id', async () => {
      subject = await open();
      const cli = cliOver(subject.store);
      const dir = tempDir();
      dirs.push(dir);
      const run = randomUUID().replaceAll('-', '');
      const lines = Array.from({ length: 6 }, (_, i) => ({
        stream: `legacy-${run}-${i % 2}`,
        revision: Math.floor(i / 2),
        id: `legacy:${run}:${i}`,
        type: 'Legacy',
        timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
        data: { i },
        metadata,
      }));
      const ndjson = (some: typeof lines) => `${some.map((l) => JSON.stringify(l)).join('\n')}\n`;
      const partial = join(dir.path, 'partial.ndjson');
      const full = join(dir.path, 'full.ndjson');
      writeFileSync(partial, ndjson(lines.slice(0, 3)));
      writeFileSync(full, ndjson(lines));

      // `append`: the store under test may hold other tests' events (a shared EventStoreDB).
      await importLog(cli, partial, { append: true });
      const resumed = await importLog(cli, full, { append: true });
      expect(resumed).toEqual({ events: 3, resumed: true });
      for (const stream of [`legacy-${run}-0`, `legacy-${run}-1`]) {
        const read = await subject.store.readStream(stream);
        const given = lines.filter((l) => l.stream === stream);
        expect(read.map((e) => [e.id, e.timestamp, e.data])).toEqual(given.map((l) => [l.id, l.timestamp, l.data]));
      }
    });
  });
}
