/**
 * The experiment page's trials: pages and live changes merged by the job's revision, so the table is the
 * same whatever order they arrive in, and a snapshot changes only when something shown changed.
 */
import { describe, expect, it } from 'vitest';
import { countTrials, curveFromBuckets, TrialSet, type TrialJob } from '../../../dashboard/src/logic/trials.js';

function job(id: string, revision: number, fields: Partial<TrialJob> = {}): TrialJob {
  return {
    id,
    status: 'QUEUED',
    hyperparameters: { lr: 0.1 },
    objectiveValue: null,
    createdAt: '2025-01-01T00:00:00Z',
    finishedAt: null,
    generation: 0,
    parent: null,
    revision,
    ...fields,
  };
}

describe('loading pages and live changes', () => {
  it('numbers trials in the order the pages give them', () => {
    const set = new TrialSet();
    set.addPage([job('a', 0), job('b', 0)]);
    set.addPage([job('c', 0)]);
    set.finishLoading();
    expect(set.snapshot().map((t) => [t.id, t.index])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
  });

  it('given a change newer than the page, keeps the change; given an older one, keeps the page', () => {
    const set = new TrialSet();
    set.addPage([job('a', 1, { status: 'RUNNING' }), job('b', 5, { status: 'SUCCEEDED' })]);
    set.applyChange(job('a', 2, { status: 'SUCCEEDED', objectiveValue: 0.3 }));
    set.applyChange(job('b', 4, { status: 'RUNNING' }));
    expect(set.snapshot().map((t) => [t.status, t.objectiveValue])).toEqual([
      ['SUCCEEDED', 0.3],
      ['SUCCEEDED', null],
    ]);
  });

  it('holds a change for a job no page has shown until loading ends, then places it by the page if one shows it', () => {
    const set = new TrialSet();
    set.addPage([job('a', 0)]);
    set.applyChange(job('c', 3, { status: 'RUNNING' }));
    set.applyChange(job('b', 2, { status: 'RUNNING' }));
    expect(set.size).toBe(1);
    set.addPage([job('b', 1)]);
    set.finishLoading();
    expect(set.snapshot().map((t) => [t.id, t.index, t.status])).toEqual([
      ['a', 0, 'QUEUED'],
      ['b', 1, 'RUNNING'],
      ['c', 2, 'RUNNING'],
    ]);
  });

  it('after loading, adds a new job at the end', () => {
    const set = new TrialSet();
    set.finishLoading();
    set.applyChange(job('a', 0));
    expect(set.get('a')?.index).toBe(0);
  });

  it('keeps the parent and pruning the job carries', () => {
    const set = new TrialSet();
    const pruning = { rule: 'median', step: 3, value: 0.9, threshold: 0.5, comparedTrials: 4 };
    set.addPage([job('b', 0, { parent: { id: 'a' }, generation: 1, status: 'PRUNED', pruning })]);
    expect(set.get('b')).toMatchObject({ parentId: 'a', generation: 1, pruning });
  });
});

describe('snapshots', () => {
  it('given a change that moves only the revision (a heartbeat), keeps the same snapshot and trial', () => {
    const set = new TrialSet();
    set.addPage([job('a', 1, { status: 'RUNNING' })]);
    const before = set.snapshot();
    const trial = before[0];
    set.applyChange(job('a', 2, { status: 'RUNNING' }));
    expect(set.snapshot()).toBe(before);
    expect(set.snapshot()[0]).toBe(trial);
  });

  it('given a visible change, gives a new array with only the changed trial replaced', () => {
    const set = new TrialSet();
    set.addPage([job('a', 1), job('b', 1)]);
    const before = set.snapshot();
    set.applyChange(job('b', 2, { status: 'RUNNING' }));
    const after = set.snapshot();
    expect(after).not.toBe(before);
    expect(after[0]).toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(before[1]!.status).toBe('QUEUED');
  });

  it('keeps a loaded curve when the job changes, and replaces the trial when the curve does', () => {
    const set = new TrialSet();
    set.addPage([job('a', 1, { status: 'RUNNING' })]);
    const curve = { steps: [1, 2], values: [0.5, 0.4] };
    set.setCurve('a', curve);
    set.applyChange(job('a', 2, { status: 'SUCCEEDED' }));
    expect(set.get('a')).toMatchObject({ status: 'SUCCEEDED', curve });
  });
});

it('counts trials by status', () => {
  const set = new TrialSet();
  set.addPage([
    job('a', 0),
    job('b', 0, { status: 'RUNNING' }),
    job('c', 0, { status: 'PRUNED' }),
    job('d', 0, { status: 'PRUNED' }),
  ]);
  expect(countTrials(set.snapshot())).toEqual({
    queued: 1,
    running: 1,
    succeeded: 0,
    failed: 0,
    pruned: 2,
    cancelled: 0,
    total: 4,
  });
});

it("draws a curve from each bucket's last point and keeps its extremes", () => {
  expect(
    curveFromBuckets([
      { last: { step: 9, value: 0.5 }, min: 0.4, max: 3 },
      { last: { step: 19, value: 0.3 }, min: 0.3, max: 0.6 },
    ]),
  ).toEqual({ steps: [9, 19], values: [0.5, 0.3], min: [0.4, 0.3], max: [3, 0.6] });
});
