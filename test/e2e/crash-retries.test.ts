/**
 * Retries across crashes and processes, as operators and workers meet them:
 * a server killed with SIGKILL in the middle of a bulk call, and a claim
 * resent to another server process while the first is still in flight.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { claim } from '../helpers/jobs.js';
import { serverProcessesPerTest, trialogCli } from '../helpers/process.js';
import { errorCode, gqlClient, ok, sleep } from '../helpers/server.js';

const { start, freshDb } = serverProcessesPerTest();

/** Counts events of a type in the log, read straight from the file as another process sees it. */
function countEvents(dbPath: string, type: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM events WHERE type = ?').get(type)!.n;
  } finally {
    db.close();
  }
}

const CREATE = `mutation($i: CreateTrainingJobsInput!) { createTrainingJobs(input: $i) { stateName jobs { job { id trainingData } } } }`;

describe('createTrainingJobs across a crash', () => {
  it('given a server killed with SIGKILL halfway through 1,000 states, when the same call is retried, then it completes: every state mapped once, each with its own job', async () => {
    const db = freshDb();
    const first = await start(db);
    const gql = gqlClient(first.url);
    ok(
      await gql(
        `mutation { registerAlgorithm(input: { interactionId: "Text", algorithmId: "Classifier", algorithmVersion: 1 }) { algorithmId } }`,
      ),
    );
    // Training data of a few KiB per state, so that the call takes long enough to be cut.
    const states = Array.from({ length: 1000 }, (_, i) => ({
      stateName: `S${i}`,
      interactionId: 'Text',
      trainingData: [{ answer: `a${i} ${'x'.repeat(4000)}`, label: i % 2 }],
    }));
    const call = { i: { entityId: 'lesson', entityVersion: 1, states } };

    const cut = gql(CREATE, call).catch((error: Error) => ({ cut: error.message }));
    let mapped: number;
    while ((mapped = countEvents(db, 'MappingCreated')) < 100) await sleep(5);
    await first.kill('SIGKILL');
    await cut;
    const left = countEvents(db, 'MappingCreated');
    expect(left, 'the kill came after the call had finished: nothing to resume').toBeLessThan(1000);
    expect(left).toBeGreaterThanOrEqual(mapped);
    console.log(`createTrainingJobs killed with ${left} of 1000 states mapped`);

    const second = await start(db);
    const again = gqlClient(second.url);
    // Retrying only some of the missing states works at once, as does the whole call after it.
    const missing = states.slice(999);
    ok(await again(CREATE, { i: { entityId: 'lesson', entityVersion: 1, states: missing } }));
    const retried = ok(await again(CREATE, call)).createTrainingJobs;
    expect(retried).toHaveLength(1000);
    expect(retried.map((m: any) => m.stateName)).toEqual(states.map((s) => s.stateName));
    for (const [i, mapping] of retried.entries())
      expect(mapping.jobs[0].job.trainingData).toEqual(states[i]!.trainingData);

    expect(countEvents(db, 'MappingCreated')).toBe(1000);
    expect(countEvents(db, 'JobCreated')).toBe(1000);
    const jobIds = new Set(retried.map((m: any) => m.jobs[0].job.id));
    expect(jobIds.size).toBe(1000);
    // Other content for a mapped state is still refused.
    const other = await again(CREATE, {
      i: { entityId: 'lesson', entityVersion: 1, states: [{ ...states[0]!, trainingData: ['other'] }] },
    });
    expect(errorCode(other)).toBe('CONFLICT');
  }, 120_000);
});

describe('a claim resent with the same lease token to another server process', () => {
  it('given two server processes on one file, when the same claim is sent to both at once, then one job is claimed and both answers name it, round after round', async () => {
    const db = freshDb();
    const a = await start(db);
    const b = await start(db);
    const [gqlA, gqlB] = [gqlClient(a.url), gqlClient(b.url)];
    const ROUNDS = 24;
    for (let i = 0; i < ROUNDS * 2; i += 24) {
      const fields = Array.from({ length: 24 }, (_, j) => `j${j}: createJob(input: { labels: ["token"] }) { id }`);
      ok(await gqlA(`mutation { ${fields.join(' ')} }`));
    }
    const different: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const input = { workerId: `w${round}`, labels: ['token'], leaseToken: randomBytes(32).toString('base64url') };
      const [x, y] = await Promise.all([claim(gqlA, input), claim(gqlB, input)]);
      if (!x || !y || x.job.id !== y.job.id) different.push(`round ${round}: ${x?.job.id} and ${y?.job.id}`);
      // A resend after both answered still names the same job.
      expect((await claim(round % 2 ? gqlA : gqlB, input))?.job.id).toBe(x?.job.id);
    }
    expect(different).toEqual([]);
    expect(countEvents(db, 'JobClaimed')).toBe(ROUNDS);
    // The tokens' streams are a known kind of the log.
    const verified = await trialogCli(['verify'], db);
    expect(verified.stdout + verified.stderr).not.toMatch(/no known kind/);
  }, 120_000);
});
