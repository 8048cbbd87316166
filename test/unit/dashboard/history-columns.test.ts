import { describe, expect, it } from 'vitest';
import { bestSoFar } from '../../../dashboard/src/logic/best-so-far.js';
import { HistoryColumns, type HistoryTrial } from '../../../dashboard/src/logic/history-columns.js';

const STATUSES = ['SUCCEEDED', 'PRUNED', 'RUNNING'];
const counts = (t: HistoryTrial) => t.status === 'SUCCEEDED';

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

/** The columns as the chart computed them before: sort, one column per status, best so far from the start. */
function fullColumns(trials: readonly HistoryTrial[], direction: 'MINIMIZE' | 'MAXIMIZE') {
  const sorted = [...trials].sort((a, b) => a.index - b.index);
  return {
    x: sorted.map((t) => t.index),
    byStatus: STATUSES.map((s) => sorted.map((t) => (t.status === s ? t.objectiveValue : null))),
    best: bestSoFar(
      sorted.map((t) => ({ objectiveValue: t.objectiveValue, counts: counts(t) })),
      direction,
    ),
  };
}

describe('the optimization history patched by live changes', () => {
  it('given a sequence of changes, appends and removals in creation order, the columns equal a full recompute', () => {
    const r = rng(7);
    let trials: HistoryTrial[] = Array.from({ length: 50 }, (_, index) => ({
      index,
      status: 'RUNNING',
      objectiveValue: null,
    }));
    const columns = new HistoryColumns(STATUSES, counts);
    columns.update(trials, 'MINIMIZE');
    const arrays = { x: columns.x, best: columns.best };
    for (let step = 0; step < 300; step++) {
      const next = trials.slice();
      const roll = r();
      const i = Math.floor(r() * next.length);
      if (roll < 0.6)
        next[i] = { ...next[i]!, status: STATUSES[Math.floor(r() * 3)]!, objectiveValue: r() < 0.1 ? null : r() * 10 };
      else if (roll < 0.9)
        next.push({
          index: next.length ? next[next.length - 1]!.index + 1 : 0,
          status: 'RUNNING',
          objectiveValue: null,
        });
      else next.pop();
      trials = next;
      const changed = columns.update(trials, 'MINIMIZE');
      expect(changed).toBe(true);
      expect({ x: columns.x, byStatus: columns.byStatus, best: columns.best }).toEqual(fullColumns(trials, 'MINIMIZE'));
    }
    // Patched in place: uPlot is handed the same arrays again.
    expect(columns.x).toBe(arrays.x);
    expect(columns.best).toBe(arrays.best);
  });

  it('given the same trials again, nothing changed', () => {
    const trials = [{ index: 0, status: 'SUCCEEDED', objectiveValue: 1 }];
    const columns = new HistoryColumns(STATUSES, counts);
    expect(columns.update(trials, 'MINIMIZE')).toBe(true);
    expect(columns.update(trials, 'MINIMIZE')).toBe(false);
    expect(columns.update(trials.slice(), 'MINIMIZE')).toBe(false);
  });

  it('given trials out of creation order or a new direction, rows follow the index and the best its direction', () => {
    const a = { index: 2, status: 'SUCCEEDED', objectiveValue: 5 };
    const b = { index: 0, status: 'SUCCEEDED', objectiveValue: 3 };
    const c = { index: 1, status: 'PRUNED', objectiveValue: 1 };
    const columns = new HistoryColumns(STATUSES, counts);
    columns.update([a, b, c], 'MINIMIZE');
    expect(columns.x).toEqual([0, 1, 2]);
    expect(columns.rows).toEqual([b, c, a]);
    expect(columns.best).toEqual([3, 3, 3]);
    const better = { ...a, objectiveValue: 2 };
    columns.update([better, b, c], 'MINIMIZE');
    expect(columns.best).toEqual([3, 3, 2]);
    columns.update([better, b, c], 'MAXIMIZE');
    expect(columns.best).toEqual([3, 3, 3]);
  });
});
