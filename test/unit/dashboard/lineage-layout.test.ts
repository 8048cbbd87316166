import { describe, expect, it } from 'vitest';
import {
  DiffCache,
  hyperparameterDiff,
  layoutMayDiffer,
  lineageLayout,
  type LineageInput,
} from '../../../dashboard/src/logic/lineage-layout.js';

const trial = (
  id: string,
  index: number,
  generation: number,
  parentId: string | null,
  hyperparameters = {},
): LineageInput => ({
  id,
  index,
  generation,
  parentId,
  hyperparameters,
});

describe('the PBT lineage layout', () => {
  // A population of three over three generations. In generation 1, member c exploited a (copying
  // a's hyperparameters, lr explored to 0.12); in generation 2, member a exploited b (lr to 0.24).
  const trials = [
    trial('a0', 0, 0, null, { lr: 0.1 }),
    trial('b0', 1, 0, null, { lr: 0.2 }),
    trial('c0', 2, 0, null, { lr: 0.3 }),
    trial('a1', 3, 1, 'a0', { lr: 0.1 }),
    trial('b1', 4, 1, 'b0', { lr: 0.2 }),
    trial('c1', 5, 1, 'a0', { lr: 0.12 }),
    trial('a2', 6, 2, 'b1', { lr: 0.24 }),
    trial('b2', 7, 2, 'b1', { lr: 0.2 }),
    trial('c2', 8, 2, 'c1', { lr: 0.12 }),
  ];
  const layout = lineageLayout(trials);
  const at = (id: string) => layout.nodes.find((n) => n.id === id)!;

  it('puts each generation in its own column and links every trial to its parent', () => {
    expect(layout.columns).toBe(3);
    expect(layout.rows).toBe(3);
    expect(trials.map((t) => at(t.id).column)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    expect(layout.edges).toHaveLength(6);
    expect(layout.edges).toContainEqual({ from: 'a0', to: 'c1' });
  });

  it('keeps a member that continues itself on its row, so only exploits jump rows', () => {
    expect(['a0', 'b0', 'c0'].map((id) => at(id).row)).toEqual([0, 1, 2]);
    // a1 and b1 kept their parents' hyperparameters: level. c1 exploited a0: the free row left.
    expect(['a1', 'b1', 'c1'].map((id) => at(id).row)).toEqual([0, 1, 2]);
    // b2 continues b1 (row 1) and c2 continues c1 (row 2); a2 exploited b1 and takes row 0.
    expect(['a2', 'b2', 'c2'].map((id) => at(id).row)).toEqual([0, 1, 2]);
  });

  it('given two children that both kept everything, the first keeps the row and the other sits nearest', () => {
    const twins = lineageLayout([
      trial('p', 0, 0, null),
      trial('q', 1, 0, null),
      trial('p1', 2, 1, 'p'),
      trial('p2', 3, 1, 'p'),
      trial('q1', 4, 1, 'q'),
    ]);
    const row = (id: string) => twins.nodes.find((n) => n.id === id)!.row;
    expect([row('p1'), row('q1'), row('p2')]).toEqual([0, 1, 2]);
  });

  it('given a trial whose parent is not loaded, shows it without an edge, in the first free row', () => {
    const partial = lineageLayout([trial('x1', 5, 1, 'gone'), trial('a0', 0, 0, null), trial('a1', 3, 1, 'a0')]);
    expect(partial.nodes.find((n) => n.id === 'x1')).toEqual({ id: 'x1', column: 1, row: 1, parentId: null });
    expect(partial.edges).toEqual([{ from: 'a0', to: 'a1' }]);
  });

  it('given no trials, lays out nothing', () => {
    expect(lineageLayout([])).toEqual({ nodes: [], edges: [], columns: 0, rows: 0 });
  });
});

describe('the explore step between a parent and its child', () => {
  it('tells a perturbed number (with its factor) from a resampled value, and leaves out what was kept', () => {
    const diff = hyperparameterDiff(
      { lr: 0.01, momentum: 0.9, optimizer: 'sgd', layers: [1, 2] },
      { lr: 0.012, momentum: 0.9, optimizer: 'adam', layers: [1, 2] },
    );
    expect(diff).toEqual([
      { name: 'lr', kind: 'scaled', from: 0.01, to: 0.012, factor: expect.closeTo(1.2) },
      { name: 'optimizer', kind: 'changed', from: 'sgd', to: 'adam' },
    ]);
  });

  it('reports parameters added or removed, and a sign change as a change, not a factor', () => {
    expect(hyperparameterDiff({ a: 1, b: 2 }, { a: -1, c: 3 })).toEqual([
      { name: 'a', kind: 'changed', from: 1, to: -1 },
      { name: 'b', kind: 'removed', from: 2 },
      { name: 'c', kind: 'added', to: 3 },
    ]);
  });

  it('given a child that kept everything, reports no change', () => {
    expect(hyperparameterDiff({ lr: 0.1 }, { lr: 0.1 })).toEqual([]);
  });
});

describe('the lineage tree under live changes', () => {
  const trial = (id: string, generation: number, parentId: string | null, lr: number, index = 0) => ({
    id,
    index,
    generation,
    parentId,
    hyperparameters: { lr },
  });

  it('given only objective or status changes, keeps the layout; given a new parent, generation, hyperparameters or trial, lays it out again', () => {
    const a = trial('a', 0, null, 0.1);
    const b = trial('b', 1, 'a', 0.1, 1);
    const before = [a, b];
    const scored = [a, { ...b, objectiveValue: 3 }];
    expect(layoutMayDiffer(before, scored, [1])).toBe(false);
    expect(layoutMayDiffer(before, [a, { ...b, hyperparameters: { lr: 0.1 } }], [1])).toBe(false);
    expect(layoutMayDiffer(before, [a, { ...b, hyperparameters: { lr: 0.2 } }], [1])).toBe(true);
    expect(layoutMayDiffer(before, [a, { ...b, parentId: null }], [1])).toBe(true);
    expect(layoutMayDiffer(before, [a, { ...b, generation: 2 }], [1])).toBe(true);
    expect(layoutMayDiffer(before, [a, b, trial('c', 1, 'a', 0.1, 2)], [2])).toBe(true);
    expect(layoutMayDiffer(before, scored, null)).toBe(true);
  });

  it('remembers a diff per child object, and computes it again for a new parent object', () => {
    const cache = new DiffCache();
    const parent = trial('a', 0, null, 0.1);
    const child = trial('b', 1, 'a', 0.2);
    const first = cache.of(parent, child);
    expect(first).toEqual([{ name: 'lr', kind: 'scaled', from: 0.1, to: 0.2, factor: 2 }]);
    expect(cache.of(parent, child)).toBe(first);
    const replaced = { ...parent, hyperparameters: { lr: 0.2 } };
    expect(cache.of(replaced, child)).toEqual([]);
  });

  it('lays out the same with a diff cache as without', () => {
    const cache = new DiffCache();
    const trials = [
      trial('a', 0, null, 0.1),
      trial('b', 0, null, 0.3, 1),
      trial('c', 1, 'a', 0.1, 2),
      trial('d', 1, 'a', 0.12, 3),
      trial('e', 1, 'b', 0.3, 4),
    ];
    expect(lineageLayout(trials, cache.of)).toEqual(lineageLayout(trials));
  });
});
