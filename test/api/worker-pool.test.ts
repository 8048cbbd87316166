/**
 * One worker pool for every search: claims with anyExperiment take trials
 * from every running experiment the worker's labels allow, in fair shares
 * weighted by priority, each through the experiment's own claim (pause,
 * finish and maxConcurrent hold); trials carry their experiment's labels and
 * command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, ok, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const CREATE = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id labels priority command } }`;
const POOL_CLAIM = `mutation($w: String!, $labels: [String!], $withCommand: Boolean) {
  claimJob(input: { workerId: $w, anyExperiment: true, withCommand: $withCommand, labels: $labels }) {
    job { id labels params experiment { name } } } }`;

const space = [{ name: 'x', distribution: { uniform: { low: 0, high: 1 } } }];
async function experiment(name: string, extra: Record<string, unknown> = {}) {
  return ok(
    await t.gql(CREATE, {
      input: {
        name,
        scheduler: { random: { space, seed: 1, maxJobs: 100 } },
        command: ['python3', 'train.py'],
        ...extra,
      },
    }),
  ).createExperiment as { id: string; labels: string[]; priority: number; command: string[] | null };
}
async function poolClaim(labels: string[] = [], withCommand = true) {
  return ok(await t.gql(POOL_CLAIM, { w: 'pool', labels, withCommand })).claimJob as {
    job: { id: string; labels: string[]; params: Record<string, unknown>; experiment: { name: string } };
  } | null;
}
async function setStatus(mutation: 'pauseExperiment' | 'resumeExperiment' | 'finishExperiment', id: string) {
  ok(
    await t.gql(`mutation($input: ExperimentStatusInput!) { ${mutation}(input: $input) { id } }`, {
      input: { experimentId: id },
    }),
  );
}

describe('a worker pool', () => {
  it('given experiments of priority 1 and 3, when eight trials are claimed, then they split 2 to 6', async () => {
    const low = await experiment('pool-low');
    const high = await experiment('pool-high', { priority: 3 });
    expect([low.priority, high.priority, high.command]).toEqual([1, 3, ['python3', 'train.py']]);
    const taken: string[] = [];
    for (let i = 0; i < 8; i++) taken.push((await poolClaim())!.job.experiment.name);
    expect(taken.filter((n) => n === 'pool-low')).toHaveLength(2);
    expect(taken.filter((n) => n === 'pool-high')).toHaveLength(6);
    await setStatus('finishExperiment', low.id);
    await setStatus('finishExperiment', high.id);
  });

  it("hands out only what the worker's labels allow, and each trial carries its experiment's labels and command", async () => {
    const gpu = await experiment('pool-gpu', { labels: ['gpu'], command: ['./train.sh', '--fast'] });
    expect(await poolClaim(['cpu'])).toBeNull();
    const claimed = (await poolClaim(['gpu', 'cpu']))!;
    expect(claimed.job.experiment.name).toBe('pool-gpu');
    expect(claimed.job.labels).toEqual(['gpu']);
    expect(claimed.job.params.command).toEqual(['./train.sh', '--fast']);
    await setStatus('finishExperiment', gpu.id);
  });

  it('skips a paused experiment and one at its maxConcurrent, and, asked withCommand, one without a command', async () => {
    const paused = await experiment('pool-paused');
    const capped = await experiment('pool-capped', { maxConcurrent: 1 });
    const bare = await experiment('pool-bare', { command: null });
    await setStatus('pauseExperiment', paused.id);
    expect((await poolClaim())!.job.experiment.name).toBe('pool-capped');
    expect(await poolClaim()).toBeNull();
    expect((await poolClaim([], false))!.job.experiment.name).toBe('pool-bare');
    await setStatus('resumeExperiment', paused.id);
    expect((await poolClaim())!.job.experiment.name).toBe('pool-paused');
    for (const e of [paused, capped, bare]) await setStatus('finishExperiment', e.id);
  });

  it('refuses a claim naming an experiment and asking for any', async () => {
    const response = await t.gql(
      `mutation { claimJob(input: { workerId: "w", experimentId: "exp_x", anyExperiment: true }) { job { id } } }`,
    );
    expect(errorCode(response)).toBe('BAD_USER_INPUT');
  });
});
