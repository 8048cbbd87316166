/** The Jobs list's filter: the URL both ways, the GraphQL input, and the server's matching rule. */
import { describe, expect, it } from 'vitest';
import {
  jobFilterFromParams,
  jobFilterInput,
  jobFilterToParams,
  jobMatches,
  type JobFilter,
} from '../../../dashboard/src/logic/job-filter.js';

const none: JobFilter = { status: [], label: null, experimentId: null, workerId: null, algorithmId: null };

describe('the jobs filter in the URL', () => {
  it('given every field in the query string, reads each one, statuses in any case and order, unknown ones dropped', () => {
    const params = new URLSearchParams(
      'status=failed,RUNNING,EXPLODED&label=gpu&experiment=exp_1&worker=w-7&algorithm=xgb',
    );
    expect(jobFilterFromParams(params)).toEqual({
      status: ['RUNNING', 'FAILED'],
      label: 'gpu',
      experimentId: 'exp_1',
      workerId: 'w-7',
      algorithmId: 'xgb',
    });
  });

  it('given no parameters, filters nothing', () => {
    expect(jobFilterFromParams(new URLSearchParams(''))).toEqual(none);
    expect(jobFilterInput(none)).toEqual({});
  });

  it('written back, a filter gives the same filter when read again, and empty fields remove their parameter', () => {
    const filter: JobFilter = {
      status: ['QUEUED', 'PRUNED'],
      label: 'a b',
      experimentId: null,
      workerId: 'w',
      algorithmId: null,
    };
    const changes = jobFilterToParams(filter);
    expect(changes).toEqual({ status: 'QUEUED,PRUNED', label: 'a b', experiment: null, worker: 'w', algorithm: null });
    const params = new URLSearchParams(Object.entries(changes).filter((e): e is [string, string] => e[1] !== null));
    expect(jobFilterFromParams(params)).toEqual(filter);
  });

  it('as the GraphQL input, holds only the fields set', () => {
    expect(jobFilterInput({ ...none, status: ['RUNNING'], workerId: 'w' })).toEqual({
      status: ['RUNNING'],
      workerId: 'w',
    });
  });
});

describe('a job matches the filter as the server would list it', () => {
  const job = {
    status: 'RUNNING',
    labels: ['gpu', 'big'],
    experiment: { id: 'exp_1' },
    workerId: 'w1',
    algorithmId: 'xgb',
  };

  it('when every set field agrees', () => {
    expect(jobMatches(job, none)).toBe(true);
    expect(
      jobMatches(job, {
        status: ['QUEUED', 'RUNNING'],
        label: 'big',
        experimentId: 'exp_1',
        workerId: 'w1',
        algorithmId: 'xgb',
      }),
    ).toBe(true);
  });

  it('not when any one of them differs', () => {
    expect(jobMatches(job, { ...none, status: ['SUCCEEDED'] })).toBe(false);
    expect(jobMatches(job, { ...none, label: 'cpu' })).toBe(false);
    expect(jobMatches(job, { ...none, experimentId: 'exp_2' })).toBe(false);
    expect(jobMatches({ ...job, experiment: null }, { ...none, experimentId: 'exp_1' })).toBe(false);
    expect(jobMatches(job, { ...none, workerId: 'w2' })).toBe(false);
    expect(jobMatches(job, { ...none, algorithmId: 'lgbm' })).toBe(false);
  });
});
