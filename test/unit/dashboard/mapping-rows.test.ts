/** The training mappings table and the migration form. */
import { describe, expect, it } from 'vitest';
import {
  mappingRows,
  migrationInput,
  withJobStatus,
  type MappingNode,
} from '../../../dashboard/src/logic/mapping-rows.js';

const mapping = (stateName: string, jobs: [string, string, string][], revision = 1): MappingNode => ({
  entityId: 'customer',
  entityVersion: 2,
  stateName,
  interactionId: 'churn',
  carriedFrom: null,
  jobs: jobs.map(([algorithmId, id, status]) => ({ algorithmId, job: { id, status, revision, algorithmVersion: 1 } })),
});

describe('mapping rows', () => {
  it('gives one row per mapped job, algorithms in order, and one row for a mapping without jobs', () => {
    const rows = mappingRows([
      mapping('active', [
        ['xgb', 'j2', 'RUNNING'],
        ['lgbm', 'j1', 'SUCCEEDED'],
      ]),
      mapping('gone', []),
    ]);
    expect(rows.map((r) => [r.stateName, r.algorithmId, r.jobId, r.jobStatus])).toEqual([
      ['active', 'lgbm', 'j1', 'SUCCEEDED'],
      ['active', 'xgb', 'j2', 'RUNNING'],
      ['gone', null, null, null],
    ]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(3);
  });

  it("writes a job's new status into the mappings holding it, and returns the same list when none does", () => {
    const list = [mapping('a', [['xgb', 'j1', 'QUEUED']]), mapping('b', [['xgb', 'j2', 'QUEUED']])];
    const next = withJobStatus(list, 'j2', 'RUNNING', 2);
    expect(next[0]).toBe(list[0]);
    expect(next[1]!.jobs[0]!.job).toMatchObject({ status: 'RUNNING', revision: 2 });
    expect(withJobStatus(list, 'j9', 'RUNNING', 2)).toBe(list);
  });

  it('given a row already showing a later revision of the job, when an older or repeated change arrives, then the row keeps what it shows', () => {
    // The page was read after the job succeeded (revision 5); the feed, catching up, still delivers
    // its start (revision 3) and then the change the page already showed (revision 5).
    const list = [mapping('a', [['xgb', 'j1', 'SUCCEEDED']], 5)];
    expect(withJobStatus(list, 'j1', 'RUNNING', 3)).toBe(list);
    expect(withJobStatus(list, 'j1', 'SUCCEEDED', 5)).toBe(list);
    expect(withJobStatus(list, 'j1', 'QUEUED', 6)[0]!.jobs[0]!.job).toMatchObject({ status: 'QUEUED', revision: 6 });
  });
});

describe('the migration form', () => {
  it('sends only the fields filled in, the version as a number', () => {
    expect(migrationInput({ entityId: ' customer ', entityVersion: '3', stateName: '' }, true)).toEqual({
      input: { dryRun: true, entityId: 'customer', entityVersion: 3 },
      error: null,
    });
    expect(migrationInput({ entityId: '', entityVersion: '', stateName: '' }, false).input).toEqual({ dryRun: false });
  });

  it('refuses a version that is not a whole number before asking the server', () => {
    expect(migrationInput({ entityId: '', entityVersion: '2.5', stateName: '' }, true).error).toMatch(/whole number/);
  });
});
