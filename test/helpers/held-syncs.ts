/**
 * A WAL whose syncs complete (or fail) when a spec says so, and a look at
 * whether a promise has settled yet: for specs of what waits on durability.
 */
import type { SyncWal } from '../../src/store/durable-head.js';

export function heldSyncs() {
  const pending: ((error: Error | null) => void)[] = [];
  const sync: SyncWal = (done) => void pending.push(done);
  return {
    sync,
    /** Syncs started and not completed yet. */
    get started() {
      return pending.length;
    },
    /** Completes the oldest sync started, with an error or without. */
    complete: (error: Error | null = null) => pending.shift()!(error),
  };
}

/** Whether a promise has settled, after a few turns of the event loop. */
export async function settled(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  let state: 'resolved' | 'rejected' | 'pending' = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
  return state;
}
