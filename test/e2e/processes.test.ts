/**
 * Separate server processes, as operators run them: two on one SQLite file,
 * one killed with SIGKILL and restarted, one given a bad configuration.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPLETE, REPORT_METRICS, claim } from '../helpers/jobs.js';
import { runMain, serverProcessesPerTest, trialogCli } from '../helpers/process.js';
import { collect, gqlClient, ok, wsClient } from '../helpers/server.js';

const { start, freshDb } = serverProcessesPerTest();

async function createJobs(url: string, count: number, label: string): Promise<string[]> {
  const gql = gqlClient(url);
  const ids: string[] = [];
  for (let done = 0; done < count; done += 50) {
    const fields = Array.from(
      { length: Math.min(50, count - done) },
      (_, i) => `j${i}: createJob(input: { labels: ["${label}"] }) { id }`,
    );
    ids.push(
      ...Object.values(ok<Record<string, { id: string }>>(await gql(`mutation { ${fields.join('\n')} }`))).map(
        (j) => j.id,
      ),
    );
  }
  return ids;
}

describe('two server processes on one SQLite file', () => {
  it('claiming concurrently through both: no job is held by two live leases', async () => {
    const db = freshDb();
    const a = await start(db);
    const b = await start(db);
    const jobs = await createJobs(a.url, 300, 'shared');

    const claims: { jobId: string; server: string }[] = [];
    const worker = async (url: string, name: string) => {
      const gql = gqlClient(url);
      for (;;) {
        const c = await claim(gql, { workerId: name, labels: ['shared'] });
        if (!c) return;
        claims.push({ jobId: c.job.id, server: url });
      }
    };
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => worker(a.url, `a${i}`)),
      ...Array.from({ length: 8 }, (_, i) => worker(b.url, `b${i}`)),
    ]);

    expect(claims).toHaveLength(300);
    expect(new Set(claims.map((c) => c.jobId))).toEqual(new Set(jobs));
    // Both processes took part.
    expect(new Set(claims.map((c) => c.server)).size).toBe(2);
    // Each job's stream holds exactly one claim, seen alike from both processes.
    for (const url of [a.url, b.url]) {
      const streams = ok(
        await gqlClient(url)(
          `{ events(first: 1000, filter: { types: ["JobClaimed"] }) { edges { node { streamId } } } }`,
        ),
      ).events.edges.map((e: any) => e.node.streamId);
      expect(streams).toHaveLength(300);
      expect(new Set(streams).size).toBe(300);
    }
  });

  it("a subscriber on one process sees the other process's changes", async () => {
    const db = freshDb();
    const a = await start(db);
    const b = await start(db);
    const ws = wsClient(b.url);
    type Change = { jobStatusChanged: { job: { id: string }; to: string } };
    const created = new Set<string>();
    const sub = collect<Change>(ws, `subscription { jobStatusChanged { job { id } to } }`, {}, () => false);
    const seenFromA = () =>
      sub.items.some((i) => created.has(i.jobStatusChanged.job.id) && i.jobStatusChanged.to === 'QUEUED');
    // Keep creating through A until B's subscriber reports one (it may take a moment to be live).
    for (let i = 0; i < 100 && !seenFromA(); i++) {
      created.add((await createJobs(a.url, 1, 'cross'))[0]!);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    sub.stop();
    expect(seenFromA()).toBe(true);
    await ws.dispose();
  });

  it('claiming one TPE search through both at once: each trial slot is created once, each with its decision', async () => {
    const db = freshDb();
    const a = await start(db);
    const b = await start(db);
    const slots = 24;
    const space = [
      { name: 'x', distribution: { uniform: { low: -5, high: 5 } } },
      { name: 'n', distribution: { intLogUniform: { low: 1, high: 256 } } },
    ];
    const experiment = ok(
      await gqlClient(a.url)(`mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id } }`, {
        input: {
          name: 'tpe-two-processes',
          objective: { metric: 'loss', direction: 'MINIMIZE' },
          scheduler: { tpe: { space, seed: 7, maxJobs: slots, startupTrials: 4 } },
        },
      }),
    ).createExperiment;

    const claims: { jobId: string; server: string }[] = [];
    const worker = async (url: string, name: string) => {
      const gql = gqlClient(url);
      for (;;) {
        const c = await claim(gql, { workerId: name, experimentId: experiment.id });
        if (!c) return;
        claims.push({ jobId: c.job.id, server: url });
        const lease = { jobId: c.job.id, leaseToken: c.leaseToken };
        const { x, n } = ok(await gql(`query($id: ID!) { job(id: $id) { hyperparameters } }`, { id: c.job.id })).job
          .hyperparameters as { x: number; n: number };
        const loss = (x - 1) ** 2 + Math.log(n);
        ok(await gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'loss', value: loss, step: 0 }] } }));
        ok(await gql(COMPLETE, { input: { ...lease, result: { loss } } }));
      }
    };
    await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => worker(a.url, `a${i}`)),
      ...Array.from({ length: 4 }, (_, i) => worker(b.url, `b${i}`)),
    ]);

    expect(claims).toHaveLength(slots);
    expect(new Set(claims.map((c) => c.server)).size).toBe(2);
    for (const url of [a.url, b.url]) {
      const created = ok(
        await gqlClient(url)(
          `{ events(first: 1000, filter: { types: ["JobCreated"] }) { edges { node { streamId } } } }`,
        ),
      ).events.edges.map((e: any) => e.node.streamId);
      expect(created).toHaveLength(slots);
      expect(new Set(created).size).toBe(slots);
      const trials = ok(
        await gqlClient(url)(
          `query($id: ID!) { experiment(id: $id) { status jobs(first: 100) { edges { node { trialIndex decision } } } } }`,
          { id: experiment.id },
        ),
      ).experiment;
      expect(trials.status).toBe('DONE');
      const bySlot = new Map<number, any>(trials.jobs.edges.map((e: any) => [e.node.trialIndex, e.node.decision]));
      expect([...bySlot.keys()].sort((p, q) => p - q)).toEqual(Array.from({ length: slots }, (_, i) => i));
      // Slots 0-3 are drawn before anything finished; the last ones come after at least four have.
      expect(bySlot.get(0)).toMatchObject({ sampler: 'TPE', version: 'optuna-4.6', mode: 'STARTUP' });
      expect(bySlot.get(slots - 1)).toMatchObject({ sampler: 'TPE', mode: 'TPE' });
    }
  });
});

describe('kill -9 and restart', () => {
  it('every acknowledged change is there after a SIGKILL', async () => {
    const db = freshDb();
    const first = await start(db);
    const gql = gqlClient(first.url);
    const jobs = await createJobs(first.url, 40, 'crash');
    const acknowledged: { id: string; result: number }[] = [];
    // Complete jobs until the kill lands in the middle of the stream of mutations.
    const load = (async () => {
      for (let i = 0; i < jobs.length; i++) {
        try {
          const c = await claim(gql, { workerId: 'w', labels: ['crash'] });
          if (!c) return;
          ok(await gql(COMPLETE, { input: { jobId: c.job.id, leaseToken: c.leaseToken, result: { i } } }));
          acknowledged.push({ id: c.job.id, result: i });
        } catch {
          return; // the server died under this request: it was never acknowledged
        }
      }
    })();
    while (acknowledged.length < 15) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.kill('SIGKILL');
    await load;

    const second = await start(db);
    const after = gqlClient(second.url);
    for (const { id, result } of acknowledged) {
      const job = ok(await after(`query($id: ID!) { job(id: $id) { status result } }`, { id })).job;
      expect(job).toEqual({ status: 'SUCCEEDED', result: { i: result } });
    }
    const total = ok(await after(`{ jobs(filter: { label: "crash" }) { totalCount } }`)).jobs.totalCount;
    expect(total).toBe(40);
  });
});

describe('kill -9 under load', () => {
  it('16 workers claiming, reporting and completing; after a SIGKILL and a restart every acknowledged change is there, no job had two live leases, and the read models match a replay', async () => {
    const db = freshDb();
    const first = await start(db);
    const jobs = await createJobs(first.url, 300, 'load');
    const completed = new Map<string, number>();
    const reported = new Map<string, number>();
    let stop = false;
    const worker = async (name: string) => {
      const gql = gqlClient(first.url);
      while (!stop) {
        try {
          const c = await claim(gql, { workerId: name, labels: ['load'] });
          if (!c) return;
          const lease = { jobId: c.job.id, leaseToken: c.leaseToken };
          ok(
            await gql(REPORT_METRICS, {
              input: {
                ...lease,
                sequence: 1,
                points: [
                  { name: 'loss', value: 1 },
                  { name: 'loss', value: 0.5 },
                ],
              },
            }),
          );
          reported.set(c.job.id, 2);
          const value = Math.random();
          ok(await gql(COMPLETE, { input: { ...lease, result: { value } } }));
          completed.set(c.job.id, value);
        } catch {
          return; // the server died under this request: it was never acknowledged
        }
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, (_, i) => worker(`w${i}`)));
    while (completed.size < 60) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.kill('SIGKILL');
    stop = true;
    await load;

    const second = await start(db);
    const after = gqlClient(second.url);
    for (const [id, value] of completed) {
      const job = ok(
        await after(`query($id: ID!) { job(id: $id) { status result metrics { name points { step } } } }`, { id }),
      ).job;
      expect(job.status).toBe('SUCCEEDED');
      expect(job.result).toEqual({ value });
    }
    for (const [id, points] of reported) {
      const job = ok(await after(`query($id: ID!) { job(id: $id) { metrics { points { step } } } }`, { id })).job;
      expect(job.metrics[0].points).toHaveLength(points);
    }
    expect(ok(await after(`{ jobs(filter: { label: "load" }) { totalCount } }`)).jobs.totalCount).toBe(jobs.length);
    // The log's own account: every job's transitions legal (a claim under a live lease would not be).
    const verified = await trialogCli(['verify'], db);
    expect(verified.stdout).toMatch(/; 0 problems/);
    const replayed = await trialogCli(['replay', '--verify'], db);
    expect(replayed.stdout).toMatch(/^identical: [1-9]/);
  });
});

describe('never open beyond loopback', () => {
  it('bound to every interface with no key configured, it makes an admin key, writes it for the owner only, and requires it', async () => {
    const db = freshDb();
    const server = await start(db, { HOST: '0.0.0.0' });
    const keyFile = join(dirname(db), 'admin.key');
    expect(server.output()).toContain(`wrote an admin key to ${keyFile}`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(key).toMatch(/^trialog_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const gql = gqlClient(server.url);
    expect((await gql(`{ jobs { totalCount } }`)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(ok(await gql(`{ apiKeys { name role } }`, undefined, { authorization: `Bearer ${key}` })).apiKeys).toEqual([
      { name: 'bootstrap-admin', role: 'ADMIN' },
    ]);
  });

  it('on loopback with no key it runs open, and says so', async () => {
    const server = await start(freshDb());
    expect(server.output()).toMatch(/running OPEN/);
  });
});

describe('configuration', () => {
  for (const [name, value, pattern] of [
    ['PORT', 'abc', /PORT must be a whole number/],
    ['PORT', '70000', /PORT must be a whole number/],
    ['EVENTSTORE_URL', 'http://localhost:2113', /EVENTSTORE_URL must be an esdb:\/\/ connection string/],
    ['TRIALOG_SYNCHRONOUS', 'SOMETIMES', /TRIALOG_SYNCHRONOUS must be FULL or NORMAL/],
    [
      'TRIALOG_SHUTDOWN_GRACE_SECONDS',
      '-1',
      /TRIALOG_SHUTDOWN_GRACE_SECONDS must be a whole number of seconds, 0 or more/,
    ],
    [
      'TRIALOG_READY_MAX_LAG_SECONDS',
      'soon',
      /TRIALOG_READY_MAX_LAG_SECONDS must be a whole number of seconds, 1 or more/,
    ],
  ] as const) {
    it(`${name}=${value} stops the server at start with one clear line`, async () => {
      const { output, exit } = runMain({ [name]: value, TRIALOG_DB: ':memory:' });
      expect(await exit).toBe(2);
      const lines = output()
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('npm warn'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^trialog: invalid configuration: /);
      expect(lines[0]).toMatch(pattern);
    });
  }
});
