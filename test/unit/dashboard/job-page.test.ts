import { describe, expect, it } from 'vitest';
import { formatDuration, leaseCountdown } from '../../../dashboard/src/logic/durations.js';
import { highlightSegments, matchesQuery } from '../../../dashboard/src/logic/highlight.js';
import { jobPageParams, parseJobPageState } from '../../../dashboard/src/logic/job-url.js';
import { formatValue, pruningSentence } from '../../../dashboard/src/logic/pruning.js';

describe('the job page state in its URL', () => {
  it('given ?tab=logs&q=loss&rev=12, opens the log tab searching "loss" at revision 12', () => {
    expect(parseJobPageState('?tab=logs&q=loss&rev=12')).toEqual({ tab: 'logs', query: 'loss', revision: 12 });
  });

  it('given an unknown tab or an unreadable revision, falls back to the overview of the live job', () => {
    expect(parseJobPageState('?tab=nope&rev=-3')).toEqual({ tab: 'overview', query: '', revision: null });
    expect(parseJobPageState('?rev=1e3').revision).toBeNull();
  });

  it('leaves defaults out of the URL', () => {
    expect(jobPageParams({ tab: 'overview', query: '', revision: null })).toEqual({ tab: null, q: null, rev: null });
    expect(jobPageParams({ tab: 'history', revision: 0 })).toEqual({ tab: 'history', rev: '0' });
  });
});

describe('log search', () => {
  it('given "LOSS", matches "val_loss=0.3" whatever the case and marks the match', () => {
    expect(matchesQuery('val_loss=0.3', 'LOSS')).toBe(true);
    expect(highlightSegments('val_loss=0.3 loss', 'LOSS')).toEqual([
      { text: 'val_', match: false },
      { text: 'loss', match: true },
      { text: '=0.3 ', match: false },
      { text: 'loss', match: true },
    ]);
  });

  it('given search text with regular-expression characters, matches it literally', () => {
    expect(matchesQuery('a.b', '.*')).toBe(false);
    expect(highlightSegments('x (1) y', '(1)')).toEqual([
      { text: 'x ', match: false },
      { text: '(1)', match: true },
      { text: ' y', match: false },
    ]);
  });

  it('given no search, shows the line whole', () => {
    expect(highlightSegments('abc', '')).toEqual([{ text: 'abc', match: false }]);
  });
});

describe('why a trial was pruned, in words', () => {
  it('given the median rule, names the step, value, median and number of trials', () => {
    expect(
      pruningSentence({ rule: 'median', step: 12, value: 0.4213, threshold: 0.31, comparedTrials: 7, rung: null }),
    ).toBe('Pruned at step 12: value 0.4213 was worse than the median 0.31 of 7 completed trials at that step');
  });

  it("given successive halving, names the rung's cutoff", () => {
    expect(
      pruningSentence({ rule: 'successiveHalving', step: 16, value: 0.9, threshold: 0.5, comparedTrials: 4, rung: 2 }),
    ).toBe('Pruned at step 16: value 0.9 was worse than the cutoff 0.5 of rung 2 (4 trials at that rung)');
  });

  it('given a pruning recorded before thresholds were, says so without inventing one', () => {
    expect(
      pruningSentence({ rule: 'median', step: 3, value: 2, threshold: null, comparedTrials: null, rung: null }),
    ).toBe('Pruned at step 3: value 2 was worse than the median of completed trials at that step');
  });

  it('given numbers of any size, writes them readably', () => {
    expect(formatValue(0.0000125)).toBe('1.25e-5');
    expect(formatValue(2 / 3)).toBe('0.6667');
    expect(formatValue(42)).toBe('42');
  });
});

describe('durations and lease countdowns', () => {
  it('writes durations in the largest sensible units', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(185_000)).toBe('3 m 05 s');
    expect(formatDuration(7_440_000)).toBe('2 h 04 m');
  });

  it('counts a lease down, then says how long ago it expired', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(leaseCountdown('2026-01-01T00:00:42Z', now)).toBe('expires in 42 s');
    expect(leaseCountdown('2025-12-31T23:59:57Z', now)).toBe('expired 3 s ago');
  });
});
