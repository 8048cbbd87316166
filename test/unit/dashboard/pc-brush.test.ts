import { describe, expect, it } from 'vitest';
import { inferAxis } from '../../../dashboard/src/logic/axis-scale.js';
import {
  brushBetween,
  formatBrushes,
  inBrush,
  parseBrushes,
  passesAll,
} from '../../../dashboard/src/logic/pc-brush.js';

describe('brushed ranges of the parallel coordinates in the URL', () => {
  it('reads numeric ranges and category sets from the pc parameter', () => {
    const brushes = parseBrushes('lr:0.001..0.01,optimizer:adam|sgd');
    expect(brushes.get('lr')).toEqual({ kind: 'range', min: 0.001, max: 0.01 });
    expect(brushes.get('optimizer')).toEqual({ kind: 'categories', values: ['adam', 'sgd'] });
  });

  it('writes what it reads, escaping separators in names and categories', () => {
    const brushes = parseBrushes(null);
    brushes.set('a:b', { kind: 'range', min: -1, max: 2.5e-7 });
    brushes.set('odd,name', { kind: 'categories', values: ['x|y', '100%'] });
    const text = formatBrushes(brushes)!;
    expect(parseBrushes(text)).toEqual(brushes);
    expect(formatBrushes(new Map())).toBeNull();
  });

  it('given a hand-edited, malformed parameter, keeps what makes sense and ignores the rest', () => {
    const brushes = parseBrushes('lr:0.1..x,:1..2,nocolon,depth:9..3,%E0%A4%A:1..2');
    expect([...brushes.keys()].sort()).toEqual(['%E0%A4%A', 'depth', 'lr']);
    expect(brushes.get('depth')).toEqual({ kind: 'range', min: 3, max: 9 });
    // "0.1..x" is no range: taken as a category name, which no number matches.
    expect(inBrush(brushes.get('lr')!, 0.1)).toBe(false);
  });

  it('filters a trial only when every brushed axis holds its value', () => {
    const brushes = parseBrushes('lr:0.001..0.01,optimizer:adam');
    const trial = { lr: 0.005, optimizer: 'adam' } as Record<string, unknown>;
    expect(passesAll(brushes, (n) => trial[n])).toBe(true);
    expect(passesAll(brushes, (n) => ({ ...trial, optimizer: 'sgd' })[n])).toBe(false);
    expect(passesAll(brushes, (n) => ({ ...trial, lr: undefined })[n])).toBe(false);
  });

  it('a drag along an axis becomes a range in its units (log axes too) or the categories it covers', () => {
    const lr = inferAxis('lr', [1e-4, 1e-2]);
    const brush = brushBetween(lr, 0.5, 1);
    expect(brush.kind === 'range' && brush.min).toBeCloseTo(1e-3);
    expect(brush.kind === 'range' && brush.max).toBeCloseTo(1e-2);
    const optimizer = inferAxis('optimizer', ['adam', 'rmsprop', 'sgd']);
    expect(brushBetween(optimizer, 1, 0.4)).toEqual({ kind: 'categories', values: ['rmsprop', 'sgd'] });
  });
});
