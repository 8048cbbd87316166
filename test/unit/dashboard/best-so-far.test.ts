import { describe, expect, it } from 'vitest';
import { bestSoFar } from '../../../dashboard/src/logic/best-so-far.js';

const done = (objectiveValue: number | null) => ({ objectiveValue, counts: true });
const pruned = (objectiveValue: number) => ({ objectiveValue, counts: false });

describe('the best-so-far line of the optimization history', () => {
  it('when minimizing, follows the lowest value of the finished trials so far', () => {
    expect(bestSoFar([done(3), done(5), done(2), done(4)], 'MINIMIZE')).toEqual([3, 3, 2, 2]);
  });

  it('when maximizing, follows the highest', () => {
    expect(bestSoFar([done(3), done(5), done(2), done(6)], 'MAXIMIZE')).toEqual([3, 5, 5, 6]);
  });

  it('is empty until a trial counts, and ignores pruned trials and missing or non-finite values', () => {
    expect(bestSoFar([pruned(0), done(null), done(4), pruned(1), done(Number.NaN), done(3)], 'MINIMIZE')).toEqual([
      null,
      null,
      4,
      4,
      4,
      3,
    ]);
  });
});
