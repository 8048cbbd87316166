/**
 * The embedded store with `synchronous: 'FULL'` fsyncs its WAL off the event
 * loop, and hands out no event before that fsync: not to the append's caller,
 * not to a reader of the stream or the log, not to a subscriber. The WAL's
 * sync is held here to see what waits for it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../helpers/server.js';
import { event } from '../helpers/store-contract.js';
import { heldSyncs, settled } from '../helpers/held-syncs.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function storeWithHeldSyncs() {
  const dir = tempDir();
  const syncs = heldSyncs();
  const file = join(dir.path, 'events.db');
  const store = new SqliteEventStore(file, { syncWal: syncs.sync });
  cleanups.push(dir.remove, async () => {
    while (syncs.started > 0) syncs.complete();
    await store.close();
  });
  return { store, syncs, file };
}

describe('appends durable before anything depends on them', () => {
  it('given an append whose WAL sync has not completed, then it is unanswered and no read hands out its event; once synced, all do', async () => {
    const { store, syncs } = storeWithHeldSyncs();
    const appended = store.appendToStream('job-1', [event('JobCreated')]);
    await settled(appended);
    expect(syncs.started).toBe(1);

    const stream = store.readStream('job-1');
    const log = store.readAll();
    const subscription = store.subscribeToAll();
    const first = subscription[Symbol.asyncIterator]().next();
    expect(await settled(appended)).toBe('pending');
    expect(await settled(stream)).toBe('pending');
    expect(await settled(log)).toBe('pending');
    expect(await settled(first)).toBe('pending');

    syncs.complete();
    expect((await appended).position).toBeDefined();
    expect((await stream).map((e) => e.type)).toEqual(['JobCreated']);
    expect((await log).map((e) => e.type)).toEqual(['JobCreated']);
    expect((await first).value?.type).toBe('JobCreated');
    await subscription.close();
  });

  it('given appends while a sync runs, then they share the next sync and are answered after it', async () => {
    const { store, syncs } = storeWithHeldSyncs();
    const first = store.appendToStream('job-1', [event('JobCreated')]);
    await settled(first);
    const second = store.appendToStream('job-2', [event('JobCreated')]);
    const third = store.appendToStream('job-3', [event('JobCreated')]);
    await settled(second);
    expect(syncs.started).toBe(1);
    syncs.complete();
    expect(await settled(first)).toBe('resolved');
    expect(await settled(second)).toBe('pending');
    expect(syncs.started).toBe(1);
    syncs.complete();
    expect([await settled(second), await settled(third)]).toEqual(['resolved', 'resolved']);
  });

  it('given a store that has already committed, when a second store on the file reads it before its sync, then the reader syncs the WAL itself first', async () => {
    const { store, syncs, file } = storeWithHeldSyncs();
    const appended = store.appendToStream('job-1', [event('JobCreated')]);
    await settled(appended);
    const readerSyncs = heldSyncs();
    const reader = new SqliteEventStore(file, { syncWal: readerSyncs.sync });
    cleanups.push(async () => {
      while (readerSyncs.started > 0) readerSyncs.complete();
      await reader.close();
    });
    const read = reader.readStream('job-1');
    expect(await settled(read)).toBe('pending');
    expect(readerSyncs.started).toBe(1);
    readerSyncs.complete();
    expect((await read).map((e) => e.type)).toEqual(['JobCreated']);
    syncs.complete();
    await appended;
  });

  it('given a sync that fails, then the append is refused and so is everything after it', async () => {
    const { store, syncs } = storeWithHeldSyncs();
    const appended = store.appendToStream('job-1', [event('JobCreated')]);
    await settled(appended);
    syncs.complete(new Error('EIO: i/o error, fdatasync'));
    await expect(appended).rejects.toThrow(/could not be made durable/);
    await expect(store.readStream('job-1')).rejects.toThrow(/could not be made durable/);
    await expect(store.appendToStream('job-2', [event('JobCreated')])).rejects.toThrow(/could not be made durable/);
  });

  it('given the default WAL sync on a real file, then appends are answered and read back in order', async () => {
    const dir = tempDir();
    const store = new SqliteEventStore(join(dir.path, 'events.db'));
    cleanups.push(dir.remove, () => store.close());
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.appendToStream(`job-${i}`, [event('JobCreated')])),
    );
    const positions = results.map((r) => r.position);
    expect([...positions].sort()).toEqual(positions);
    expect(await store.readAll({ maxCount: 100 })).toHaveLength(20);
  });
});
