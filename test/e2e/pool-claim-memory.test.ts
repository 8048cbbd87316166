/**
 * Bounded by design, for a worker pool: a pool claim ranks every running
 * experiment, but by its labels, priority and whether it names a command
 * only, taken out of the read model by SQLite; it parses the settings of the
 * one experiment it then claims from, not of all of them.
 *
 * Given N and 10N running experiments, each with about 200 KB of settings (a
 * choice of 4,000 long values), when a server process with a fixed heap hands
 * out 20 pool claims, then its peak resident memory is about the same at
 * both sizes. Ranking by parsed settings held 40 MB of JSON per claim at the
 * larger size, about twice that parsed (measured: 24 MiB more at 100 KB each, 2,000 choices).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTrialog } from '../../src/trialog.js';
import { COMPLETE } from '../helpers/jobs.js';
import { peakDuring } from '../helpers/memory.js';
import { withFixedHeapServer } from '../helpers/process.js';
import { gqlClient, ok, tempDir } from '../helpers/server.js';

const context = { actor: 'test', correlationId: 'pool-claim-memory' };
const dirs: { remove(): void }[] = [];
afterAll(() => dirs.forEach((dir) => dir.remove()));

const SERVER_HEAP_MIB = 96;
const SMALL = 20;
const CLAIMS = 20;
/** About 200 KB of settings: 4,000 choices of 48 characters. */
const CHOICES = Array.from({ length: 4000 }, (_, i) => `${i}:`.padEnd(48, 'c'));

/** A store with `count` running RANDOM experiments, each with a command and wide settings. */
async function seededPool(count: number): Promise<string> {
  const dir = tempDir();
  dirs.push(dir);
  const dbPath = join(dir.path, 'trialog.db');
  const trialog = await openTrialog({ dbPath, eventStoreUrl: undefined, synchronous: 'NORMAL' });
  try {
    for (let i = 0; i < count; i++) {
      await trialog.experimentCommands.createExperiment(
        {
          name: `pool-${i}`,
          command: ['python', 'train.py'],
          priority: 1 + (i % 3),
          scheduler: { random: { space: [{ name: 'c', distribution: { choice: { values: CHOICES } } }], seed: i } },
        },
        context,
      );
    }
    return dbPath;
  } finally {
    await trialog.close();
  }
}

async function measure(experiments: number): Promise<number> {
  const dbPath = await seededPool(experiments);
  return withFixedHeapServer(dbPath, SERVER_HEAP_MIB, async (server) => {
    const gql = gqlClient(server.url);
    const served = new Set<string>();
    const leases: { jobId: string; leaseToken: string }[] = [];
    const step = await peakDuring(server.child.pid!, async () => {
      for (let i = 0; i < CLAIMS; i++) {
        const claimed = ok(
          await gql(
            `mutation { claimJob(input: { workerId: "w${i}", anyExperiment: true, withCommand: true }) {
               leaseToken job { id experiment { id } } } }`,
          ),
        ).claimJob;
        served.add(claimed.job.experiment.id);
        leases.push({ jobId: claimed.job.id, leaseToken: claimed.leaseToken });
      }
    });
    // Each claim went to an experiment with nothing running yet: the pool's fair share at work.
    expect(served.size).toBe(CLAIMS);
    for (const lease of leases) ok(await gql(COMPLETE, { input: { ...lease, result: {} } }));
    return step.peak;
  });
}

describe('pool claims among N and 10N running experiments of 200 KB settings each', () => {
  it('cost the server the same memory: experiments are ranked by columns, not parsed', async () => {
    const small = await measure(SMALL);
    const large = await measure(SMALL * 10);
    console.log(
      `pool claims, server peak RSS MiB (heap ${SERVER_HEAP_MIB} MiB): ${SMALL} experiments ${small.toFixed(0)}, ${SMALL * 10} experiments ${large.toFixed(0)}`,
    );
    // The larger pool's settings are 36 MB more: parsed for each claim, they would add that at least.
    expect(large - small).toBeLessThan(16);
  }, 240_000);
});
