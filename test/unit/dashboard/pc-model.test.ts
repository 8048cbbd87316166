import { describe, expect, it } from 'vitest';
import { AxisColumn } from '../../../dashboard/src/logic/axis-column.js';
import { inferAxis, position } from '../../../dashboard/src/logic/axis-scale.js';
import { PcModel, type PcTrial } from '../../../dashboard/src/logic/pc-model.js';

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

const pick = <T>(r: () => number, options: readonly T[]): T => options[Math.floor(r() * options.length)]!;

describe('parallel coordinates patched by live changes', () => {
  it('given a sequence of values set and taken away, an axis column answers what inferAxis would', () => {
    const r = rng(17);
    const column = new AxisColumn('x');
    const values: unknown[] = [];
    const kinds = new Set<string>();
    for (let step = 0; step < 600; step++) {
      const roll = r();
      // Mostly numbers (spanning decades or not), sometimes a missing value, a string or a boolean.
      const value =
        roll < 0.5
          ? 10 ** (r() * (step % 100 < 50 ? 4 : 0.5))
          : roll < 0.65
            ? null
            : roll < 0.75
              ? pick(r, ['adam', 'sgd', '10', '2'])
              : roll < 0.8
                ? true
                : pick(r, [0, 1, 2]);
      const slot = r() < 0.3 ? values.length : Math.floor(r() * (values.length + 1));
      if (r() < 0.08 && values.length) {
        const length = Math.floor(r() * values.length);
        values.length = length;
        column.truncate(length);
      } else {
        values[slot] = value;
        column.set(slot, value);
      }
      const expected = inferAxis('x', values);
      kinds.add(expected.kind);
      expect(column.axis()).toEqual(expected);
    }
    expect(kinds).toEqual(new Set(['linear', 'log', 'categorical']));
  });

  it('keeps the same axis object while the axis does not change', () => {
    const column = new AxisColumn('x');
    column.set(0, 1);
    column.set(1, 5);
    const axis = column.axis();
    column.set(2, 3);
    expect(column.axis()).toBe(axis);
    column.set(2, 7);
    expect(column.axis()).not.toBe(axis);
  });

  it('given live changes, rows equal positions computed from scratch, and only changed rows are placed again while no axis moves', () => {
    const r = rng(23);
    const bucketOf = (at: number | null) => (at === null ? -1 : Math.min(9, Math.floor(at * 10)));
    const model = new PcModel<PcTrial>(['lr', 'optimizer'], 'loss', bucketOf);
    const trial = (): PcTrial => ({
      hyperparameters: { lr: 10 ** (-4 + 3 * r()), optimizer: pick(r, ['adam', 'sgd']) },
      objectiveValue: r() < 0.2 ? null : r(),
    });
    let trials = Array.from({ length: 100 }, trial);
    expect(model.update(trials)).toBe('all');
    let patched = 0;
    for (let step = 0; step < 200; step++) {
      const next = trials.slice();
      const i = Math.floor(r() * next.length);
      if (r() < 0.8) next[i] = { ...next[i]!, objectiveValue: r() * 1.02 };
      else next.push(trial());
      const before = model.rows.slice();
      const changed = model.update(next);
      if (changed !== 'all') {
        patched++;
        const expectedChanged = next.flatMap((t, k) => (t !== trials[k] ? [k] : []));
        expect(changed).toEqual(expectedChanged);
        // Rows not changed are the same objects: a drawing keeping them is still right.
        expect(model.rows.filter((row, k) => !expectedChanged.includes(k) && row !== before[k])).toEqual([]);
      }
      trials = next;
      const axes = ['lr', 'optimizer'].map((name) =>
        inferAxis(
          name,
          trials.map((t) => t.hyperparameters[name]),
        ),
      );
      axes.push(
        inferAxis(
          'loss',
          trials.map((t) => t.objectiveValue),
        ),
      );
      expect(model.axes).toEqual(axes);
      const expected = trials.map((t) => {
        const values = [t.hyperparameters.lr, t.hyperparameters.optimizer, t.objectiveValue];
        return {
          positions: values.map((v, a) => position(axes[a]!, v) ?? Number.NaN),
          bucket: bucketOf(position(axes[2]!, t.objectiveValue)),
          lr: t.hyperparameters.lr,
        };
      });
      expect(
        model.rows.map((row, k) => ({ positions: [...row.positions], bucket: row.bucket, lr: model.value(k, 0) })),
      ).toEqual(expected);
    }
    expect(patched).toBeGreaterThan(100);
  });
});
