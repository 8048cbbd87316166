/**
 * DurableHead: when a commit counts as durable. One sync covers every commit
 * made before it started; commits made while it runs wait for the next one;
 * a failed sync is final.
 */
import { describe, expect, it } from 'vitest';
import { DurableHead } from '../../src/store/durable-head.js';
import { heldSyncs, settled } from '../helpers/held-syncs.js';

describe('a commit made durable off the event loop', () => {
  it('given a position already durable, when asked, then it resolves without a sync', async () => {
    const syncs = heldSyncs();
    const head = new DurableHead(() => 5, syncs.sync, 5);
    expect(await settled(head.through(5))).toBe('resolved');
    expect(syncs.started).toBe(0);
  });

  it('given a commit, then it is durable only once a sync started after it completes', async () => {
    const syncs = heldSyncs();
    let committed = 1;
    const head = new DurableHead(() => committed, syncs.sync, 0);
    const first = head.through(1);
    expect(syncs.started).toBe(1);
    expect(await settled(first)).toBe('pending');
    syncs.complete();
    expect(await settled(first)).toBe('resolved');
    committed = 2;
    expect(await settled(head.through(2))).toBe('pending');
  });

  it('given commits made while a sync runs, then they share the next sync, not that one', async () => {
    const syncs = heldSyncs();
    let committed = 1;
    const head = new DurableHead(() => committed, syncs.sync, 0);
    const first = head.through(1);
    committed = 3; // two more commits while the first sync runs
    const second = head.through(2);
    const third = head.through(3);
    expect(syncs.started).toBe(1);
    syncs.complete();
    expect(await settled(first)).toBe('resolved');
    expect(await settled(second)).toBe('pending');
    expect(syncs.started).toBe(1); // the next sync, already started for both
    syncs.complete();
    expect([await settled(second), await settled(third)]).toEqual(['resolved', 'resolved']);
    expect(syncs.started).toBe(0);
  });

  it('given a sync that fails, then what waited and every later request is refused', async () => {
    const syncs = heldSyncs();
    const head = new DurableHead(() => 1, syncs.sync, 0);
    const waiting = head.through(1);
    syncs.complete(new Error('EIO'));
    await expect(waiting).rejects.toThrow(/could not be made durable: EIO/);
    await expect(head.through(0)).rejects.toThrow(/EIO/);
    expect(syncs.started).toBe(0);
  });

  it('given a sync running, then idle resolves only once it and the syncs it chains have completed', async () => {
    const syncs = heldSyncs();
    let committed = 1;
    const head = new DurableHead(() => committed, syncs.sync, 0);
    void head.through(1);
    committed = 2;
    void head.through(2);
    const idle = head.idle();
    syncs.complete();
    expect(await settled(idle)).toBe('pending');
    syncs.complete();
    expect(await settled(idle)).toBe('resolved');
  });
});
