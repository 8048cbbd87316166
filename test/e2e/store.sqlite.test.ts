import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DuplicateEventIdError, WrongExpectedRevisionError } from '../../src/store/port.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { sleep, tempDir } from '../helpers/server.js';
import { event, eventStoreContract } from '../helpers/store-contract.js';
import { appendLimitsContract } from '../helpers/store-contract-limits.js';

eventStoreContract('SQLite, file-backed', async () => {
  const dir = tempDir();
  return { store: new SqliteEventStore(join(dir.path, 'events.db')), cleanup: dir.remove };
});

eventStoreContract('SQLite, in memory', async () => ({ store: new SqliteEventStore(':memory:') }));

// At a largest append small enough to build in a test (SQLite's own is 512 MiB).
appendLimitsContract('SQLite, largest append 64 KiB', async () => ({
  store: new SqliteEventStore(':memory:', { maxAppendBytes: 64 * 1024 }),
}));

describe('SQLite event store specifics', () => {
  it('refuses an append that reuses an event id of another append, writing nothing', async () => {
    const store = new SqliteEventStore(':memory:');
    const reused = event('A');
    await store.appendToStream('dup-1', [reused]);
    await expect(store.appendToStream('dup-2', [event('B'), reused])).rejects.toBeInstanceOf(DuplicateEventIdError);
    expect(await store.readStream('dup-2')).toEqual([]);
    await store.close();
  });

  it('two connections on one file: expected revisions hold across them', async () => {
    const dir = tempDir();
    const file = join(dir.path, 'shared.db');
    const a = new SqliteEventStore(file);
    const b = new SqliteEventStore(file);
    await a.appendToStream('shared-1', [event('Created')]);
    const outcomes = await Promise.allSettled([
      a.appendToStream('shared-1', [event('FromA')], { expectedRevision: 0n }),
      b.appendToStream('shared-1', [event('FromB')], { expectedRevision: 0n }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect(await b.readStream('shared-1')).toHaveLength(2);
    await a.close();
    await b.close();
    dir.remove();
  });

  it("a subscriber on one connection sees another connection's appends", async () => {
    const dir = tempDir();
    const file = join(dir.path, 'shared.db');
    const writer = new SqliteEventStore(file);
    const reader = new SqliteEventStore(file, { pollIntervalMs: 5 });
    const stream = `seen-${randomUUID()}`;
    const subscription = reader.subscribeToAll({ filter: { streamId: stream } });
    const iterator = subscription[Symbol.asyncIterator]();
    const first = iterator.next();
    await writer.appendToStream(stream, [event('Hello')]);
    expect((await first).value?.type).toBe('Hello');
    await subscription.close();
    await writer.close();
    await reader.close();
    dir.remove();
  });

  it('events survive closing and reopening the file', async () => {
    const dir = tempDir();
    const file = join(dir.path, 'durable.db');
    const first = new SqliteEventStore(file);
    await first.appendToStream('keep-1', [event('A'), event('B')]);
    await first.close();
    const second = new SqliteEventStore(file);
    expect((await second.readStream('keep-1')).map((e) => e.type)).toEqual(['A', 'B']);
    await second.close();
    dir.remove();
  });
});

describe('a process following the log', () => {
  it("stays alive while it waits for another process's append, and exits once it has it and closes", async () => {
    const dir = tempDir();
    const file = join(dir.path, 'followed.db');
    const writer = new SqliteEventStore(file);
    const follower = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('../fixtures/processes/follow-log.ts', import.meta.url)), file],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    follower.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    follower.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => follower.once('exit', resolve));
    // Let it reach its wait (no event is coming yet), then append from this process.
    while (!output.includes('following') && follower.exitCode === null) await sleep(20);
    await sleep(300);
    await writer.appendToStream(`followed-${randomUUID()}`, [event('FromAnotherProcess')]);
    expect(await exit).toBe(0);
    expect(output).toBe('following\nsaw FromAnotherProcess\n');
    await writer.close();
    dir.remove();
  });
});
