import { describe, expect, it } from 'vitest';
import { formatNumber, inferAxis, position, ticks, valueAt } from '../../../dashboard/src/logic/axis-scale.js';

describe('parallel coordinates axes', () => {
  it('given values spanning two decades or more, uses a log axis', () => {
    const axis = inferAxis('lr', [1e-4, 1e-3, 1e-2]);
    expect(axis).toEqual({ kind: 'log', name: 'lr', min: 1e-4, max: 1e-2 });
    expect(position(axis, 1e-3)).toBeCloseTo(0.5);
    expect(ticks(axis).map((t) => t.label)).toEqual(['1e-4', '0.001', '0.01']);
  });

  it('given values within a decade, or reaching zero, uses a linear axis', () => {
    expect(inferAxis('dropout', [0.1, 0.5]).kind).toBe('linear');
    expect(inferAxis('layers', [0, 1000]).kind).toBe('linear');
    const axis = inferAxis('layers', [2, 4, 6]);
    expect(position(axis, 5)).toBeCloseTo(0.75);
    if (axis.kind !== 'categorical') expect(valueAt(axis, 0.75)).toBeCloseTo(5);
  });

  it('given strings, booleans or mixed values, uses a categorical axis in natural order', () => {
    const axis = inferAxis('optimizer', ['sgd', 'adam', null, 'adam', 'rmsprop']);
    expect(axis).toEqual({ kind: 'categorical', name: 'optimizer', categories: ['adam', 'rmsprop', 'sgd'] });
    expect(position(axis, 'rmsprop')).toBe(0.5);
    expect(inferAxis('n', ['10', '9', 2]).kind === 'categorical' && inferAxis('n', ['10', '9', 2])).toMatchObject({
      categories: ['2', '9', '10'],
    });
    expect(inferAxis('flag', [true, false])).toMatchObject({ categories: ['false', 'true'] });
  });

  it('places missing values nowhere, and a single value mid-axis', () => {
    const axis = inferAxis('x', [3, 3]);
    expect(position(axis, 3)).toBe(0.5);
    expect(position(axis, undefined)).toBeNull();
    expect(position(inferAxis('lr', [1e-4, 1e-2]), -1)).toBeNull();
  });

  it('labels numbers short: three significant digits, exponents when tiny or huge', () => {
    expect(formatNumber(0.0123456)).toBe('0.0123');
    expect(formatNumber(0.00001234)).toBe('1.23e-5');
    expect(formatNumber(1234567)).toBe('1.23e+6');
    expect(ticks(inferAxis('x', [0, 10])).map((t) => t.label)).toEqual(['0', '2', '4', '6', '8', '10']);
  });
});
