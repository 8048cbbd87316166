/** The experiment page's leaderboard: which trials it shows, in what order, and how the URL holds that. */
import { describe, expect, it } from 'vitest';
import {
  leaderboardParams,
  leaderboardRows,
  parameterNames,
  parseLeaderboardQuery,
  pruningReason,
  rankTrials,
  toggleSort,
  type LeaderboardQuery,
} from '../../../dashboard/src/logic/leaderboard.js';
import type { Trial } from '../../../dashboard/src/views/experiment/trial.js';

function trial(index: number, fields: Partial<Trial> = {}): Trial {
  return {
    id: `t${index}`,
    index,
    status: 'SUCCEEDED',
    hyperparameters: {},
    objectiveValue: null,
    createdAt: `2025-01-01T00:00:${String(index).padStart(2, '0')}Z`,
    finishedAt: null,
    generation: 0,
    parentId: null,
    curve: null,
    pruning: null,
    ...fields,
  };
}

const query = (fields: Partial<LeaderboardQuery> = {}): LeaderboardQuery => ({
  sort: 'rank',
  dir: 'asc',
  status: [],
  text: '',
  ...fields,
});
const ids = (rows: { trial: Trial }[]) => rows.map((row) => row.trial.id);
const MINIMIZE = { metric: 'loss', direction: 'MINIMIZE' } as const;
const MAXIMIZE = { metric: 'acc', direction: 'MAXIMIZE' } as const;

describe('ranking', () => {
  const trials = [
    trial(0, { objectiveValue: 0.5 }),
    trial(1, { objectiveValue: 0.2 }),
    trial(2, { objectiveValue: 0.1, status: 'PRUNED' }),
    trial(3, { objectiveValue: null }),
    trial(4, { objectiveValue: 0.2 }),
  ];

  it('given a minimized objective, ranks succeeded trials lowest first, ties in creation order', () => {
    expect([...rankTrials(trials, MINIMIZE)]).toEqual([
      ['t1', 1],
      ['t4', 2],
      ['t0', 3],
    ]);
  });

  it('given a maximized objective, ranks highest first', () => {
    expect(rankTrials(trials, MAXIMIZE).get('t0')).toBe(1);
  });

  it('leaves pruned, unfinished and valueless trials unranked, as the server leaderboard does', () => {
    const ranks = rankTrials(trials, MINIMIZE);
    expect(ranks.has('t2')).toBe(false);
    expect(ranks.has('t3')).toBe(false);
  });

  it('ranks nothing without an objective', () => {
    expect(rankTrials(trials, null).size).toBe(0);
  });
});

describe('sorting', () => {
  const trials = [
    trial(0, { objectiveValue: 0.5, hyperparameters: { lr: 0.01, opt: 'sgd' }, finishedAt: '2025-01-01T00:03:00Z' }),
    trial(1, { objectiveValue: 0.2, hyperparameters: { lr: 0.1, opt: 'adam' }, finishedAt: '2025-01-01T00:01:00Z' }),
    trial(2, { status: 'RUNNING', hyperparameters: { lr: 0.001 } }),
    trial(3, { objectiveValue: 0.3, hyperparameters: { lr: 0.05, opt: 'adamw' }, finishedAt: '2025-01-01T00:02:00Z' }),
  ];

  it('by default shows the best first and unranked trials last', () => {
    expect(ids(leaderboardRows(trials, MINIMIZE, query()))).toEqual(['t1', 't3', 't0', 't2']);
  });

  it('keeps trials without a value last in either direction', () => {
    expect(ids(leaderboardRows(trials, MINIMIZE, query({ sort: 'objective', dir: 'desc' })))).toEqual([
      't0',
      't3',
      't1',
      't2',
    ]);
    expect(ids(leaderboardRows(trials, MINIMIZE, query({ sort: 'finished', dir: 'asc' })))).toEqual([
      't1',
      't3',
      't0',
      't2',
    ]);
  });

  it('sorts a numeric hyperparameter numerically and a text one alphabetically', () => {
    expect(ids(leaderboardRows(trials, MINIMIZE, query({ sort: 'hp.lr', dir: 'desc' })))).toEqual([
      't1',
      't3',
      't0',
      't2',
    ]);
    expect(ids(leaderboardRows(trials, MINIMIZE, query({ sort: 'hp.opt' })))).toEqual(['t1', 't3', 't0', 't2']);
  });

  it('sorts by trial id in creation order, so trial 10 follows trial 9', () => {
    const many = Array.from({ length: 12 }, (_, i) => trial(11 - i)).reverse();
    expect(ids(leaderboardRows(many, null, query({ sort: 'id', dir: 'desc' })))[0]).toBe('t11');
  });
});

describe('filtering', () => {
  const trials = [
    trial(0, { hyperparameters: { lr: 0.01, opt: 'sgd' } }),
    trial(1, { status: 'PRUNED', hyperparameters: { lr: 0.1, opt: 'adam' } }),
    trial(2, { status: 'FAILED', hyperparameters: { lr: 0.001, opt: 'Adam' } }),
  ];

  it('shows only the statuses asked for', () => {
    expect(ids(leaderboardRows(trials, null, query({ status: ['PRUNED', 'FAILED'] })))).toEqual(['t1', 't2']);
  });

  it('matches a bare word anywhere in name=value, ignoring case', () => {
    expect(ids(leaderboardRows(trials, null, query({ text: 'ADAM' })))).toEqual(['t1', 't2']);
    expect(ids(leaderboardRows(trials, null, query({ text: 'lr=0.1' })))).toEqual(['t1']);
  });

  it('compares a hyperparameter with <, <=, >, >=, = and != numerically', () => {
    expect(ids(leaderboardRows(trials, null, query({ text: 'lr<0.05' })))).toEqual(['t0', 't2']);
    expect(ids(leaderboardRows(trials, null, query({ text: 'lr>=0.01' })))).toEqual(['t0', 't1']);
    expect(ids(leaderboardRows(trials, null, query({ text: 'lr=0.010' })))).toEqual(['t0']);
    expect(ids(leaderboardRows(trials, null, query({ text: 'opt!=sgd' })))).toEqual(['t1', 't2']);
  });

  it('needs every term to hold, and a comparison on a missing parameter holds for no trial', () => {
    expect(ids(leaderboardRows(trials, null, query({ text: 'adam lr<0.05' })))).toEqual(['t2']);
    expect(ids(leaderboardRows(trials, null, query({ text: 'momentum>0' })))).toEqual([]);
  });
});

describe('the URL', () => {
  const from = (search: string) => {
    const params = new URLSearchParams(search);
    return parseLeaderboardQuery((name) => params.get(name));
  };

  it('reads sort, direction, statuses and text', () => {
    expect(from('?sort=objective&dir=desc&status=PRUNED,failed&q=lr<0.1')).toEqual({
      sort: 'objective',
      dir: 'desc',
      status: ['PRUNED', 'FAILED'],
      text: 'lr<0.1',
    });
    expect(from('?sort=hp.lr').sort).toBe('hp.lr');
  });

  it('falls back to the defaults for what is missing or unknown', () => {
    expect(from('?sort=secret&dir=sideways&status=BOGUS')).toEqual(query());
  });

  it('writes only what differs from the defaults, and reads back what it wrote', () => {
    expect(leaderboardParams(query())).toEqual({ sort: null, dir: null, status: null, q: null });
    const written = query({ sort: 'hp.batch', dir: 'desc', status: ['SUCCEEDED'], text: 'adam' });
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(leaderboardParams(written))) if (value) params.set(name, value);
    expect(from(`?${params}`)).toEqual(written);
  });

  it('flips the direction on the same column and starts ascending on another', () => {
    expect(toggleSort(query(), 'rank').dir).toBe('desc');
    expect(toggleSort(query({ sort: 'rank', dir: 'desc' }), 'objective')).toMatchObject({
      sort: 'objective',
      dir: 'asc',
    });
  });
});

it('makes one column per hyperparameter, in the order first seen', () => {
  expect(
    parameterNames([
      trial(0, { hyperparameters: { lr: 1, batch: 2 } }),
      trial(1, { hyperparameters: { lr: 1, depth: 3 } }),
    ]),
  ).toEqual(['lr', 'batch', 'depth']);
});

describe('why a trial was pruned', () => {
  it('says the rule, the step, the value and the threshold with how many trials it came from', () => {
    expect(
      pruningReason({ rule: 'median', step: 4, value: 1.2859279324904502, threshold: 0.9, comparedTrials: 7 }),
    ).toBe('pruned by the median rule at step 4: value 1.28593, threshold 0.9 from 7 trials');
    expect(
      pruningReason({ rule: 'successiveHalving', step: 1, value: 2, threshold: 1.5, comparedTrials: 1, rung: 0 }),
    ).toBe('pruned by the successive halving (rung 0) at step 1: value 2, threshold 1.5 from 1 trial');
  });

  it('says so when no threshold was recorded (a pruning from before thresholds were kept)', () => {
    expect(pruningReason({ rule: 'median', step: 2, value: 1, threshold: null, comparedTrials: null })).toBe(
      'pruned by the median rule at step 2: value 1, no threshold recorded',
    );
    expect(pruningReason(null)).toBeNull();
  });
});
