/**
 * Many workers at once: every job is claimed exactly once. Then the read
 * models rebuilt from position zero equal the live ones, table by table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPEND_LOG, CANCEL, COMPLETE, FAIL, REPORT_METRICS, claim } from '../helpers/jobs.js';
import { dumpTable, readModelTables, rebuildReadModels } from '../helpers/read-models.js';
import { ok, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

describe('16 concurrent claimers over HTTP against 500 queued jobs', () => {
  it('claim every job exactly once', async () => {
    const JOBS = 500;
    const created: string[] = [];
    // Created in batches of aliased mutations: 10 requests instead of 500.
    for (let batch = 0; batch < JOBS / 50; batch++) {
      const fields = Array.from(
        { length: 50 },
        (_, i) => `j${i}: createJob(input: { labels: ["race"], priority: ${(batch * 50 + i) % 3} }) { id }`,
      );
      const data = ok(await t.gql(`mutation { ${fields.join('\n')} }`));
      created.push(...Object.values(data as Record<string, { id: string }>).map((j) => j.id));
    }
    expect(new Set(created).size).toBe(JOBS);

    const claimedBy = new Map<string, string[]>();
    const worker = async (name: string) => {
      for (;;) {
        const c = await claim(t.gql, { workerId: name, labels: ['race'] });
        if (!c) return;
        claimedBy.set(c.job.id, [...(claimedBy.get(c.job.id) ?? []), name]);
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, i) => worker(`w${i}`)));

    expect(claimedBy.size).toBe(JOBS);
    for (const [, workers] of claimedBy) expect(workers).toHaveLength(1);
    const counts = ok(
      await t.gql(`{ q: jobs(filter: { label: "race", status: [QUEUED] }) { totalCount }
                                     r: jobs(filter: { label: "race", status: [RUNNING] }) { totalCount } }`),
    );
    expect(counts).toEqual({ q: { totalCount: 0 }, r: { totalCount: JOBS } });
    // Each job's stream holds exactly one claim.
    const claims = ok(
      await t.gql(`{ events(first: 1000, filter: { types: ["JobClaimed"] }) { edges { node { streamId } } } }`),
    ).events.edges.map((e: any) => e.node.streamId);
    expect(claims).toHaveLength(JOBS);
    expect(new Set(claims).size).toBe(JOBS);
  });
});

describe('rebuilding the read models from position zero', () => {
  it('gives tables identical to the live ones', async () => {
    // A varied history: every kind of job event.
    const running = ok(
      await t.gql(`{ jobs(first: 20, filter: { status: [RUNNING] }) { edges { node { id } } } }`),
    ).jobs.edges.map((e: any) => e.node.id);
    expect(running.length).toBe(20);
    const leases: { jobId: string; leaseToken: string }[] = [];
    for (let i = 0; i < 4; i++) {
      ok(await t.gql(`mutation { createJob(input: { labels: ["rebuild"], hyperparameters: { i: ${i} } }) { id } }`));
      const c = (await claim(t.gql, { workerId: 'rebuilder', labels: ['rebuild'] }))!;
      leases.push({ jobId: c.job.id, leaseToken: c.leaseToken });
    }
    for (const lease of leases) {
      ok(
        await t.gql(REPORT_METRICS, {
          input: {
            ...lease,
            points: [
              { name: 'loss', value: 0.5 },
              { name: 'loss', value: 0.25, step: 7 },
            ],
          },
        }),
      );
      ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['one', 'two'], stream: 'STDERR' } }));
    }
    ok(await t.gql(COMPLETE, { input: { ...leases[0], result: { acc: 0.5 } } }));
    ok(await t.gql(FAIL, { input: { ...leases[1], error: 'boom', retry: true } }));
    ok(await t.gql(FAIL, { input: { ...leases[2], error: 'boom' } }));
    ok(await t.gql(CANCEL, { input: { jobId: leases[3]!.jobId, reason: 'enough' } }));
    ok(await t.gql(`mutation($id: ID!) { retryJob(input: { jobId: $id }) { id } }`, { id: leases[2]!.jobId }));

    const rebuilt = await rebuildReadModels(t.trialog.store);
    const tables = readModelTables(rebuilt);
    expect(tables).toEqual([
      'experiments',
      'jobs',
      'job_large_fields',
      'job_labels',
      'metric_points',
      'metric_series',
      'metric_blocks',
      'log_lines',
      'job_rungs',
      'trial_values',
      'algorithms',
      'mappings',
      'mapping_jobs',
      'api_keys',
      'projection_checkpoints',
    ]);
    // This scenario has no experiments (test/api/experiments.test.ts rebuilds those); the rest must have rows.
    const exercised = [
      'jobs',
      'job_large_fields',
      'job_labels',
      'metric_points',
      'metric_series',
      'metric_blocks',
      'log_lines',
      'projection_checkpoints',
    ];
    for (const table of tables) {
      const live = dumpTable(t.trialog.readDb, table);
      if (exercised.includes(table)) expect(live.length, `${table} has rows`).toBeGreaterThan(0);
      expect(dumpTable(rebuilt, table), `table ${table}`).toEqual(live);
    }
    rebuilt.close();
    // The live runner's way of building them (a subscription, small batches) agrees too.
    const followed = await rebuildReadModels(t.trialog.store, 'runner');
    for (const table of tables)
      expect(dumpTable(followed, table), `table ${table}`).toEqual(dumpTable(t.trialog.readDb, table));
    followed.close();
  });
});
