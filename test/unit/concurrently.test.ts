/**
 * The helpers bulk commands write side by side with: a bounded number of
 * items in flight, and a byte budget shared by the items in flight.
 */
import { describe, expect, it } from 'vitest';
import { ByteBudget, forEachConcurrently, laterPosition } from '../../src/app/concurrently.js';

/** Lets every pending promise callback run, then a turn of the event loop. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('forEachConcurrently', () => {
  it('runs every item, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachConcurrently(
      Array.from({ length: 50 }, (_, i) => i),
      8,
      async (i) => {
        running++;
        most = Math.max(most, running);
        await turn();
        running--;
        done.push(i);
      },
    );
    expect(most).toBe(8);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('after a failure starts nothing new, lets the items running finish, then throws the first failure', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = forEachConcurrently(
      Array.from({ length: 20 }, (_, i) => i),
      4,
      async (i) => {
        started.push(i);
        await turn();
        if (i === 1) throw new Error('item 1 failed');
        if (i === 2) throw new Error('item 2 failed');
        await turn();
        finished.push(i);
      },
    );
    await expect(run).rejects.toThrow('item 1 failed');
    expect(started).toEqual([0, 1, 2, 3]);
    expect(finished.sort()).toEqual([0, 3]);
  });
});

describe('ByteBudget', () => {
  it('given items of 40 bytes and a budget of 100, runs two at a time', async () => {
    const budget = new ByteBudget(100);
    let held = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        budget.use(40, async () => {
          held += 40;
          most = Math.max(most, held);
          await turn();
          held -= 40;
        }),
      ),
    );
    expect(most).toBe(80);
  });

  it('runs an item larger than the whole budget alone, and serves waiters in order', async () => {
    const budget = new ByteBudget(100);
    const events: string[] = [];
    const item = (name: string, bytes: number) =>
      budget.use(bytes, async () => {
        events.push(`${name} starts`);
        await turn();
        events.push(`${name} ends`);
      });
    await Promise.all([item('small', 10), item('huge', 500), item('after', 10)]);
    expect(events).toEqual(['small starts', 'small ends', 'huge starts', 'huge ends', 'after starts', 'after ends']);
  });

  it('gives the bytes back when the work fails', async () => {
    const budget = new ByteBudget(100);
    await expect(budget.use(100, async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await budget.use(100, async () => 'ran')).toBe('ran');
  });
});

describe('laterPosition', () => {
  it('is the later of two positions, either of which may be absent', () => {
    expect(laterPosition(undefined, undefined)).toBeUndefined();
    expect(laterPosition('0000000000000002', undefined)).toBe('0000000000000002');
    expect(laterPosition(undefined, '0000000000000002')).toBe('0000000000000002');
    expect(laterPosition('0000000000000010', '0000000000000009')).toBe('0000000000000010');
  });
});
