/** Live job changes merged into a paged list in place. */
import { describe, expect, it } from 'vitest';
import { latestById, mergeRows } from '../../../dashboard/src/logic/row-merge.js';

interface Row {
  id: string;
  revision: number;
  createdAt: string;
  status: string;
}
const row = (id: string, minute: number, status = 'QUEUED', revision = 1): Row => ({
  id,
  revision,
  createdAt: `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`,
  status,
});
const queuedOnly = { matches: (r: Row) => r.status === 'QUEUED', complete: true };

describe('merging live changes into the list', () => {
  const rows = [row('a', 1), row('c', 3), row('e', 5)];

  it('given a change to a listed row that still matches, replaces it where it is', () => {
    const merged = mergeRows(rows, [row('c', 3, 'QUEUED', 2)], queuedOnly);
    expect(merged.map((r) => [r.id, r.revision])).toEqual([
      ['a', 1],
      ['c', 2],
      ['e', 1],
    ]);
  });

  it('given a change after which a row no longer matches, removes it', () => {
    expect(mergeRows(rows, [row('c', 3, 'RUNNING', 2)], queuedOnly).map((r) => r.id)).toEqual(['a', 'e']);
  });

  it('given a row that now matches, inserts it in creation order', () => {
    expect(mergeRows(rows, [row('d', 4), row('b', 2), row('f', 6)], queuedOnly).map((r) => r.id)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
    ]);
  });

  it('when more pages remain, leaves a row beyond the last loaded one to "load more"', () => {
    const merged = mergeRows(rows, [row('b', 2), row('f', 6)], { ...queuedOnly, complete: false });
    expect(merged.map((r) => r.id)).toEqual(['a', 'b', 'c', 'e']);
  });

  it('never lets an older snapshot overwrite a newer one, whatever order they arrive in', () => {
    const newer = [row('a', 1, 'QUEUED', 5), row('c', 3), row('e', 5)];
    expect(mergeRows(newer, [row('a', 1, 'RUNNING', 3)], queuedOnly)).toBe(newer);
    expect(mergeRows(rows, [row('c', 3, 'RUNNING', 3), row('c', 3, 'QUEUED', 2)], queuedOnly).map((r) => r.id)).toEqual(
      ['a', 'e'],
    );
  });

  it('given changes that alter nothing shown, returns the same list (nothing to render)', () => {
    expect(mergeRows(rows, [row('x', 9, 'RUNNING')], queuedOnly)).toBe(rows);
    expect(mergeRows(rows, [], queuedOnly)).toBe(rows);
  });

  it('keeps the newest snapshot of each row in a batch', () => {
    expect(latestById([row('a', 1, 'QUEUED', 1), row('a', 1, 'RUNNING', 3), row('a', 1, 'QUEUED', 2)])).toEqual([
      row('a', 1, 'RUNNING', 3),
    ]);
  });
});
