/**
 * Bounded by design, for TPE: a proposal weighs every trial of its search (as
 * Optuna's does; the search is capped at TRIALOG_LIMIT_TPE_TRIALS), but reads
 * of each only the values of the parameters it models, so what a claim costs
 * follows the trials and parameters, never the bytes each job holds.
 *
 * Given a TPE search of N and one of 10N finished trials, each trial's job
 * carrying 32 KiB of other hyperparameters (3 MiB and 31 MiB of job states),
 * when a server process with a fixed heap hands out 20 TPE proposals, then
 * its peak resident memory is about the same at both sizes. Before the
 * read model kept trial values apart, each proposal parsed every trial's job
 * state: 31 MiB of JSON, about twice that parsed, per claim at the larger size.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTrialog } from '../../src/trialog.js';
import { COMPLETE } from '../helpers/jobs.js';
import { peakDuring } from '../helpers/memory.js';
import { withFixedHeapServer } from '../helpers/process.js';
import { gqlClient, ok, tempDir } from '../helpers/server.js';

const context = { actor: 'test', correlationId: 'tpe-proposal-memory' };
const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((dir) => dir.remove()));

const NOTES = ''.padEnd(32 * 1024, 'n');
/** As the other bounded-memory specs: a heap small enough that holding the states would show, or fail. */
const SERVER_HEAP_MIB = 96;
const SMALL = 100;
const PROPOSALS = 20;

const loss = (x: number, n: number) => (x - 1) ** 2 + Math.log(n);

/** A store with a TPE search whose first `trials` trials were added by hand, claimed and completed. */
async function seededSearch(trials: number): Promise<{ dbPath: string; experimentId: string }> {
  const dir = tempDir();
  dirs.push(dir);
  const dbPath = join(dir.path, 'trialog.db');
  const trialog = await openTrialog({ dbPath, eventStoreUrl: undefined, synchronous: 'NORMAL' });
  try {
    const experimentId = await trialog.experimentCommands.createExperiment(
      {
        name: 'wide-trials',
        objective: { metric: 'loss', direction: 'MINIMIZE' },
        scheduler: {
          tpe: {
            space: [
              { name: 'x', distribution: { uniform: { low: -5, high: 5 } } },
              { name: 'n', distribution: { intLogUniform: { low: 1, high: 256 } } },
              // Not modelled (a constant), but every trial's job holds it: what a proposal must not read.
              { name: 'notes', distribution: { constant: NOTES } },
            ],
            seed: 1,
            maxJobs: trials + PROPOSALS,
          },
        },
      },
      context,
    );
    for (let i = 0; i < trials; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, trials - i) }, async (_, k) => {
          const x = -5 + (((i + k) * 7.3) % 10);
          const n = 1 + (((i + k) * 13) % 256);
          // Added by hand, each trial takes the next slot with the hyperparameters given.
          await trialog.jobCommands.createJob({ experimentId, hyperparameters: { x, n, notes: NOTES } }, context);
          const claim = (await trialog.jobCommands.claimJob({ workerId: `seed${k}`, experimentId }, context))!;
          await trialog.jobCommands.completeJob(
            { jobId: claim.jobId, leaseToken: claim.leaseToken, result: { loss: loss(x, n) } },
            context,
          );
        }),
      );
    }
    return { dbPath, experimentId };
  } finally {
    await trialog.close();
  }
}

async function measure(trials: number): Promise<number> {
  const { dbPath, experimentId } = await seededSearch(trials);
  return withFixedHeapServer(dbPath, SERVER_HEAP_MIB, async (server) => {
    const gql = gqlClient(server.url);
    const decisions: { mode: string; finished: number }[] = [];
    const step = await peakDuring(server.child.pid!, async () => {
      for (let i = 0; i < PROPOSALS; i++) {
        const claimed = ok(
          await gql(
            `mutation($e: ID!) { claimJob(input: { workerId: "w", experimentId: $e }) {
               leaseToken job { id hyperparameters decision } } }`,
            { e: experimentId },
          ),
        ).claimJob;
        const { x, n } = claimed.job.hyperparameters as { x: number; n: number };
        decisions.push(claimed.job.decision);
        const lease = { jobId: claimed.job.id, leaseToken: claimed.leaseToken };
        ok(await gql(COMPLETE, { input: { ...lease, result: { loss: loss(x, n) } } }));
      }
    });
    // Every proposal was TPE's, weighing all the trials finished before it.
    expect(decisions.map((d) => [d.mode, d.finished])).toEqual(
      Array.from({ length: PROPOSALS }, (_, i) => ['TPE', trials + i]),
    );
    return step.peak;
  });
}

describe('TPE proposals over a search of N and of 10N trials whose jobs hold 32 KiB each', () => {
  it("cost the server the same memory: the trials' values are read, not their jobs", async () => {
    const small = await measure(SMALL);
    const large = await measure(SMALL * 10);
    console.log(
      `TPE proposals, server peak RSS MiB (heap ${SERVER_HEAP_MIB} MiB): ${SMALL} trials ${small.toFixed(0)}, ${SMALL * 10} trials ${large.toFixed(0)}`,
    );
    // The larger search's jobs hold 28 MiB more: parsed for each proposal, they would add that at least.
    expect(large - small).toBeLessThan(16);
  }, 240_000);
});
