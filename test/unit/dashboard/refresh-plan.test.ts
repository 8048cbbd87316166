/** Curves read again after metrics reports: at most once per interval per trial, in bounded batches. */
import { expect, it } from 'vitest';
import { RefreshPlan } from '../../../dashboard/src/logic/refresh-plan.js';

it('reads a newly reported trial at once', () => {
  const plan = new RefreshPlan(1000, 10);
  plan.mark('a');
  expect(plan.take(0)).toEqual({ keys: ['a'], nextAt: null });
});

it('given a trial read less than an interval ago, waits until the interval has passed, then reads it once', () => {
  const plan = new RefreshPlan(1000, 10);
  plan.mark('a');
  plan.take(0);
  plan.mark('a');
  plan.mark('a');
  expect(plan.take(400)).toEqual({ keys: [], nextAt: 1000 });
  expect(plan.take(1000)).toEqual({ keys: ['a'], nextAt: null });
  expect(plan.take(5000).keys).toEqual([]);
});

it('reads at most a batch at a time and says to come back for the rest', () => {
  const plan = new RefreshPlan(1000, 2);
  for (const key of ['a', 'b', 'c']) plan.mark(key);
  expect(plan.take(0)).toEqual({ keys: ['a', 'b'], nextAt: 0 });
  expect(plan.take(0)).toEqual({ keys: ['c'], nextAt: null });
});

it('forgets when trials were read once that no longer decides anything', () => {
  const plan = new RefreshPlan(1000, 2);
  for (let i = 0; i < 100; i += 1) {
    plan.mark(`t${i}`);
    plan.take(i * 2000);
  }
  plan.mark('t0');
  expect(plan.take(1_000_000).keys).toEqual(['t0']);
  expect((plan as unknown as { lastRead: Map<string, number> }).lastRead.size).toBeLessThanOrEqual(8);
});
