/** The Experiments list: its URL state, its progress bar, and which rows a batch of live events reads again. */
import { expect, it } from 'vitest';
import {
  experimentOfStream,
  parseStatusFilter,
  progressToward,
  rowsToRefresh,
} from '../../../dashboard/src/logic/experiments-list.js';

it('reads one status from the URL, any case, and ignores an unknown one', () => {
  expect(parseStatusFilter('RUNNING')).toBe('RUNNING');
  expect(parseStatusFilter('paused')).toBe('PAUSED');
  expect(parseStatusFilter('EXPLODED')).toBeNull();
  expect(parseStatusFilter(null)).toBeNull();
});

it("finds the experiment of an event from its stream's name", () => {
  expect(experimentOfStream('experiment-abc-1')).toBe('abc-1');
  expect(experimentOfStream('experiment-')).toBeNull();
  expect(experimentOfStream('job-abc')).toBeNull();
});

it('measures progress toward maxJobs, capped at the whole, and none without a bound', () => {
  expect(progressToward(25, 50)).toBe(0.5);
  expect(progressToward(60, 50)).toBe(1);
  expect(progressToward(3, null)).toBeNull();
});

it('given events for shown and hidden experiments, reads again each shown one once', () => {
  const events = [
    { experimentId: 'a', created: false },
    { experimentId: 'b', created: false },
    { experimentId: 'a', created: false },
    { experimentId: null, created: false },
  ];
  expect(rowsToRefresh(events, new Set(['a', 'c']), true)).toEqual({ page: false, ids: ['a'] });
});

it('given a new experiment, reads the page again only when it is the last page', () => {
  const events = [{ experimentId: 'new', created: true }];
  expect(rowsToRefresh(events, new Set(['a']), true)).toEqual({ page: true, ids: [] });
  expect(rowsToRefresh(events, new Set(['a']), false)).toEqual({ page: false, ids: [] });
});
