/** How a batch is cut before it is handed to the read models' thread (projections/apply-thread.ts). */
import { describe, expect, it } from 'vitest';
import { slicesOf } from '../../projections/apply-thread.js';
import { eventWeight } from '../../src/event-weight.js';
import type { RecordedEvent } from '../../src/store/port.js';

const event = (position: number, bytes: number): RecordedEvent => ({
  id: `e${position}`,
  type: 'JobLogAppended',
  streamId: 'job-j',
  revision: BigInt(position),
  position: String(position).padStart(4, '0'),
  timestamp: '2026-01-01T00:00:00.000Z',
  data: { text: 'x'.repeat(bytes) },
  metadata: { actor: 't', correlationId: 'c', causationId: 'c', schemaVersion: 1 },
});

describe('slicing a batch for the hand-over', () => {
  it('given events under the bound together, then one slice holds them all, in order', () => {
    const batch = [event(1, 10), event(2, 10), event(3, 10)];
    expect(slicesOf(batch, 10_000)).toEqual([batch]);
  });

  it('given events over the bound together, then consecutive slices each within it keep every event once, in order', () => {
    const batch = Array.from({ length: 20 }, (_, i) => event(i + 1, 1000));
    const bound = 3 * eventWeight(batch[0]!);
    const slices = slicesOf(batch, bound);
    expect(slices.flat()).toEqual(batch);
    expect(slices.map((slice) => slice.length)).toEqual([3, 3, 3, 3, 3, 3, 2]);
    for (const slice of slices) expect(slice.reduce((n, e) => n + eventWeight(e), 0)).toBeLessThanOrEqual(bound);
  });

  it('given one event larger than the bound, then it is a slice of its own', () => {
    const batch = [event(1, 10), event(2, 50_000), event(3, 10)];
    expect(slicesOf(batch, 1000).map((slice) => slice.map((e) => e.id))).toEqual([['e1'], ['e2'], ['e3']]);
  });

  it('given no events, then no slice', () => {
    expect(slicesOf([], 1000)).toEqual([]);
  });
});
