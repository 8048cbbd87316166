/**
 * Metric reads, bounded by what a request asks for: points by step range with
 * a cursor, buckets that keep min, max and last (so spikes survive), `last`
 * and the series list from the series index, `names` filtered in the query,
 * a job's past series at a revision, TOO_LARGE (never a silent truncation) for
 * an unpaged read over the limit, and the server's memory for these reads at
 * two sizes of series 10x apart.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrialogClient } from '../../src/client/client.js';
import { defaultLimits as limits } from '../../src/limits.js';
import { READ_MODEL_VERSION } from '../../projections/read-model-version.js';
import { claim, createJob } from '../helpers/jobs.js';
import { peakDuring } from '../helpers/memory.js';
import { chattyValue, writeChattyJobs } from '../helpers/metric-log.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { dumpTable, readModelTables, rebuildReadModels } from '../helpers/read-models.js';
import { errorCode, gqlClient, ok, startTestServer, tempDir, type Gql, type TestServer } from '../helpers/server.js';
import { readModelPathOf } from '../../src/read-model-db.js';

const REPORT = `mutation($input: ReportMetricsInput!) { reportMetrics(input: $input) { shouldStop job { revision } } }`;
const SERIES = `query($id: ID!, $names: [String!]) { job(id: $id) { metrics(names: $names) {
  name count firstStep lastStep min max last { step value } } } }`;
/** `job` reads the series now; `jobAt` as they stood at a revision. */
const jobNowOrAt = (revision: boolean) =>
  revision
    ? { vars: '$id: ID!, $revision: Int', root: 'job: jobAt(id: $id, revision: $revision)' }
    : { vars: '$id: ID!', root: 'job(id: $id)' };
const pageOf = (revision: boolean) => {
  const { vars, root } = jobNowOrAt(revision);
  return `query(${vars}, $first: Int, $after: String, $fromStep: Int, $toStep: Int) { ${root} { metrics(names: ["loss"]) {
    pointsPage(first: $first, after: $after, fromStep: $fromStep, toStep: $toStep) {
      pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { step value } } } } } }`;
};
const PAGE = pageOf(false);
const POINTS = `query($id: ID!, $first: Int, $fromStep: Int, $toStep: Int) { job(id: $id) { metrics(names: ["loss"]) {
  points(first: $first, fromStep: $fromStep, toStep: $toStep) { step value } } } }`;
const bucketsOf = (revision: boolean) => {
  const { vars, root } = jobNowOrAt(revision);
  return `query(${vars}, $name: String!, $count: Int!, $fromStep: Int, $toStep: Int) { ${root} { metrics(names: [$name]) {
    buckets(count: $count, fromStep: $fromStep, toStep: $toStep) { fromStep toStep count min max last { step value } } } } }`;
};
const BUCKETS = bucketsOf(false);

type Point = { step: number; value: number };
type Bucket = { fromStep: number; toStep: number; count: number; min: number; max: number; last: Point };

/** The loss series of the scenario: a slow decay with a spike up at 4321 and one down at 7777. */
const SPIKE_UP = 4321;
const SPIKE_DOWN = 7777;
const lossAt = (step: number) => (step === SPIKE_UP ? 1000 : step === SPIKE_DOWN ? -1000 : 1 / (1 + step));

/** Every page of a series' points from the start (or within a range), following the cursors. */
async function allPages(gql: Gql, vars: Record<string, unknown>): Promise<{ points: Point[]; pages: number }> {
  const points: Point[] = [];
  let after: string | null = null;
  for (let pages = 1; ; pages++) {
    const page: any = ok(await gql(pageOf('revision' in vars), { ...vars, after })).job.metrics[0].pointsPage;
    expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
    points.push(...page.edges.map((e: any) => e.node));
    if (!page.pageInfo.hasNextPage) return { points, pages };
    after = page.pageInfo.endCursor;
  }
}

/** Buckets computed here from the points themselves: what the server must answer. */
function expectedBuckets(points: Point[], count: number, fromStep: number, toStep: number): Bucket[] {
  const inRange = points.filter((p) => p.step >= fromStep && p.step <= toStep);
  const first = inRange[0]!.step;
  const last = inRange[inRange.length - 1]!.step;
  const width = Math.ceil((last - first + 1) / count);
  const buckets: Bucket[] = [];
  for (let from = first; from <= last; from += width) {
    const to = Math.min(last, from + width - 1);
    const inside = inRange.filter((p) => p.step >= from && p.step <= to);
    if (inside.length === 0) continue;
    const values = inside.map((p) => p.value);
    buckets.push({
      fromStep: from,
      toStep: to,
      count: inside.length,
      min: Math.min(...values),
      max: Math.max(...values),
      last: inside[inside.length - 1]!,
    });
  }
  return buckets;
}

describe('metric reads over a job with 20,000 points in three series', () => {
  let t: TestServer;
  let jobId: string;
  /** The job's revision after its first report (loss 0..9999 and acc), before the second (loss 10000..19999, lr). */
  let revisionAfterFirst: number;
  const loss: Point[] = Array.from({ length: 20_000 }, (_, step) => ({ step, value: lossAt(step) }));

  beforeAll(async () => {
    t = await startTestServer();
    const job = await createJob(t.gql, { labels: ['metrics-reads'] });
    jobId = job.id;
    const lease = { jobId, leaseToken: (await claim(t.gql, { workerId: 'w', labels: ['metrics-reads'] }))!.leaseToken };
    const first = loss.slice(0, 10_000).map((p) => ({ name: 'loss', ...p }));
    const acc = [0.1, 0.5, 0.9].map((value) => ({ name: 'acc', value }));
    // 10,000 points per call is the report limit: acc comes in a call of its own.
    ok(await t.gql(REPORT, { input: { ...lease, points: first } }));
    revisionAfterFirst = ok(await t.gql(REPORT, { input: { ...lease, points: acc } })).reportMetrics.job.revision;
    ok(await t.gql(REPORT, { input: { ...lease, points: loss.slice(10_000).map((p) => ({ name: 'loss', ...p })) } }));
    // A step reported again keeps its first value; a new series appears after the first reports.
    ok(
      await t.gql(REPORT, {
        input: {
          ...lease,
          points: [
            { name: 'loss', step: 5, value: 999 },
            { name: 'lr', value: 0.01 },
          ],
        },
      }),
    );
  }, 60_000);
  afterAll(() => t.stop());

  it('given pages of 1,000, when the cursors are followed, then every point comes once, in step order, with its first value', async () => {
    const { points, pages } = await allPages(t.gql, { id: jobId, first: 1000 });
    expect(pages).toBe(20);
    expect(points).toEqual(loss);
  });

  it('given a step range, when paged, then only its points come, each once, and the range holds across pages', async () => {
    const { points, pages } = await allPages(t.gql, { id: jobId, first: 300, fromStep: 15_000, toStep: 15_999 });
    expect(pages).toBe(4);
    expect(points).toEqual(loss.slice(15_000, 16_000));
  });

  it('given a range within the limit, when its points are read as a list, then they come whole', async () => {
    const series = ok(await t.gql(POINTS, { id: jobId, fromStep: 0, toStep: limits.metricPointsPerRead - 1 })).job
      .metrics[0];
    expect(series.points).toEqual(loss.slice(0, limits.metricPointsPerRead));
    const firstFive = ok(await t.gql(POINTS, { id: jobId, first: 5 })).job.metrics[0].points;
    expect(firstFive).toEqual(loss.slice(0, 5));
  });

  it('given a range over the limit, when its points are read as a list, then TOO_LARGE names the paged and bucketed reads', async () => {
    for (const range of [{}, { fromStep: 0, toStep: limits.metricPointsPerRead }]) {
      const answer = await t.gql(POINTS, { id: jobId, ...range });
      expect(errorCode(answer)).toBe('TOO_LARGE');
      expect(answer.errors![0]!.message).toMatch(/pointsPage.*buckets/);
    }
  });

  it('when buckets are asked for, then each keeps count, min, max and its last point, so both spikes survive', async () => {
    const buckets: Bucket[] = ok(await t.gql(BUCKETS, { id: jobId, name: 'loss', count: 10 })).job.metrics[0].buckets;
    expect(buckets).toEqual(expectedBuckets(loss, 10, 0, 19_999));
    expect(buckets).toHaveLength(10);
    expect(buckets.map((b) => b.count).reduce((a, b) => a + b)).toBe(20_000);
    expect(buckets.find((b) => b.fromStep <= SPIKE_UP && SPIKE_UP <= b.toStep)!.max).toBe(1000);
    expect(buckets.find((b) => b.fromStep <= SPIKE_DOWN && SPIKE_DOWN <= b.toStep)!.min).toBe(-1000);
  });

  it('given a step range and a count that does not divide it, when buckets are asked for, then they cover just the range', async () => {
    const buckets = ok(await t.gql(BUCKETS, { id: jobId, name: 'loss', count: 7, fromStep: 4300, toStep: 4399 })).job
      .metrics[0].buckets;
    expect(buckets).toEqual(expectedBuckets(loss, 7, 4300, 4399));
    expect(buckets[0].fromStep).toBe(4300);
    expect(buckets[buckets.length - 1].toStep).toBe(4399);
  });

  it('given fewer points than buckets, when buckets are asked for, then one bucket per point', async () => {
    const buckets = ok(await t.gql(BUCKETS, { id: jobId, name: 'acc', count: 2000 })).job.metrics[0].buckets;
    expect(buckets.map((b: Bucket) => [b.fromStep, b.toStep, b.count, b.last.value])).toEqual([
      [0, 0, 1, 0.1],
      [1, 1, 1, 0.5],
      [2, 2, 1, 0.9],
    ]);
  });

  it('when series are asked for by name, then only those come, by name; unknown names are no series', async () => {
    const all = ok(await t.gql(SERIES, { id: jobId })).job.metrics;
    expect(all.map((s: { name: string }) => s.name)).toEqual(['acc', 'loss', 'lr']);
    const named = ok(await t.gql(SERIES, { id: jobId, names: ['lr', 'nope', 'acc'] })).job.metrics;
    expect(named.map((s: { name: string }) => s.name)).toEqual(['acc', 'lr']);
    expect(ok(await t.gql(SERIES, { id: jobId, names: [] })).job.metrics).toEqual([]);
  });

  it('the series index answers last, count, step range and value range; a step reported twice counts once', async () => {
    const [series] = ok(await t.gql(SERIES, { id: jobId, names: ['loss'] })).job.metrics;
    expect(series).toEqual({
      name: 'loss',
      count: 20_000,
      firstStep: 0,
      lastStep: 19_999,
      min: -1000,
      max: 1000,
      last: loss[19_999],
    });
  });

  it('given a past revision, when its metrics are read, then they are the series as they stood: paged, bucketed and last alike', async () => {
    const past = ok(
      await t.gql(
        `query($id: ID!, $r: Int) { jobAt(id: $id, revision: $r) { revision metrics {
      name count firstStep lastStep min max last { step value } } } }`,
        { id: jobId, r: revisionAfterFirst },
      ),
    ).jobAt;
    expect(past.revision).toBe(revisionAfterFirst);
    expect(past.metrics.map((s: { name: string }) => s.name)).toEqual(['acc', 'loss']);
    expect(past.metrics[1]).toEqual({
      name: 'loss',
      count: 10_000,
      firstStep: 0,
      lastStep: 9999,
      min: -1000,
      max: 1000,
      last: loss[9999],
    });
    const then = loss.slice(0, 10_000);
    expect((await allPages(t.gql, { id: jobId, revision: revisionAfterFirst, first: 1000 })).points).toEqual(then);
    const buckets = ok(
      await t.gql(bucketsOf(true), { id: jobId, revision: revisionAfterFirst, name: 'loss', count: 4 }),
    ).job.metrics[0].buckets;
    expect(buckets).toEqual(expectedBuckets(then, 4, 0, 9999));
    // Before the first report there was no series at all.
    const claimed = ok(
      await t.gql(`query($id: ID!) { jobAt(id: $id, revision: 1) { status metrics { name } } }`, { id: jobId }),
    ).jobAt;
    expect(claimed).toEqual({ status: 'RUNNING', metrics: [] });
  });

  it("the typed client's jobMetrics reads every point of a series over the limit, a page at a time", async () => {
    const [series] = await new TrialogClient({ url: t.url }).jobMetrics(jobId, ['loss']);
    expect(series!.last).toMatchObject(loss[19_999]!);
    expect(series!.points!.map(({ step, value }) => ({ step, value }))).toEqual(loss);
  });

  it('hostile arguments get BAD_USER_INPUT', async () => {
    const cases = [
      t.gql(PAGE, { id: jobId, after: 'not-a-step' }),
      t.gql(PAGE, { id: jobId, after: '99999999999' }),
      t.gql(PAGE, { id: jobId, first: limits.pageSize + 1 }),
      t.gql(POINTS, { id: jobId, fromStep: 10, toStep: 9 }),
      t.gql(POINTS, { id: jobId, first: limits.metricPointsPerRead + 1 }),
      t.gql(POINTS, { id: jobId, first: -1 }),
      t.gql(BUCKETS, { id: jobId, name: 'loss', count: 0 }),
      t.gql(BUCKETS, { id: jobId, name: 'loss', count: limits.metricBucketsPerRead + 1 }),
    ];
    for (const answer of await Promise.all(cases)) expect(errorCode(answer)).toBe('BAD_USER_INPUT');
  });
});

// ----------------------------------------------------------------- memory

/** The server's peak resident memory during one request, above what it held before it (MiB). */
async function peakGrowth<T>(server: ServerProcess, request: () => Promise<T>): Promise<{ growth: number; answer: T }> {
  let answer: T | undefined;
  const { before, peak } = await peakDuring(server.child.pid!, async () => {
    answer = await request();
  });
  return { growth: peak - before, answer: answer! };
}

describe('server memory for metric reads: a series of 200,000 points against one of 2,000,000', () => {
  const SIZES = { small: 200_000, big: 2_000_000 } as const;
  const spikeOf = (points: number) => Math.floor(points * 0.61803);
  const dir = tempDir();
  let server: ServerProcess;

  beforeAll(async () => {
    const dbPath = join(dir.path, 'trialog.db');
    await writeChattyJobs(dbPath, [
      { jobId: 'job_small', points: SIZES.small, spikeStep: spikeOf(SIZES.small) },
      { jobId: 'job_big', points: SIZES.big, spikeStep: spikeOf(SIZES.big) },
    ]);
    server = await startServerProcess(dbPath);
  }, 120_000);
  afterAll(async () => {
    await server?.kill('SIGKILL');
    dir.remove();
  });

  it('last, 500 buckets and a page of 1,000 points cost the same memory at both sizes (well under what a 2M-point series takes)', async () => {
    const gql = gqlClient(server.url);
    const reads = {
      last: (id: string) =>
        gql(`query($id: ID!) { job(id: $id) { metrics { name count last { step value } } } }`, { id }),
      buckets: (id: string) =>
        gql(
          `query($id: ID!) { job(id: $id) { metrics(names: ["loss"]) { buckets(count: 500) { count min max last { step value } } } } }`,
          { id },
        ),
      page: (id: string, points: number) =>
        gql(
          `query($id: ID!, $after: String) { job(id: $id) { metrics(names: ["loss"]) {
          pointsPage(first: 1000, after: $after) { edges { node { step value } } } } } }`,
          { id, after: String(Math.floor(points / 2)) },
        ),
    };
    const growth: Record<string, Record<keyof typeof SIZES, number>> = {
      last: { small: 0, big: 0 },
      buckets: { small: 0, big: 0 },
      page: { small: 0, big: 0 },
    };
    for (const size of ['small', 'big'] as const) {
      const id = `job_${size}`;
      const points = SIZES[size];
      const last = await peakGrowth(server, () => reads.last(id));
      const lastPoint = { step: points - 1, value: chattyValue(points - 1, spikeOf(points)) };
      expect(ok(last.answer).job.metrics).toEqual([{ name: 'loss', count: points, last: lastPoint }]);
      growth.last![size] = last.growth;

      const buckets = await peakGrowth(server, () => reads.buckets(id));
      const answered: Bucket[] = ok(buckets.answer).job.metrics[0].buckets;
      expect(answered).toHaveLength(500);
      expect(answered.reduce((sum, b) => sum + b.count, 0)).toBe(points);
      expect(Math.max(...answered.map((b) => b.max))).toBe(1000); // the one-step spike survives 500-fold downsampling
      growth.buckets![size] = buckets.growth;

      const page = await peakGrowth(server, () => reads.page(id, points));
      const edges = ok(page.answer).job.metrics[0].pointsPage.edges;
      expect(edges.map((e: { node: Point }) => e.node.step)).toEqual(
        Array.from({ length: 1000 }, (_, i) => Math.floor(points / 2) + 1 + i),
      );
      growth.page![size] = page.growth;
    }
    console.log(
      'server peak RSS growth per read (MiB), 200k / 2M points: ' +
        Object.entries(growth)
          .map(([read, g]) => `${read} ${g.small.toFixed(1)} / ${g.big.toFixed(1)}`)
          .join('; '),
    );
    // Reading every point of the 2M series took +680 MiB: a read that scaled with the series breaks both bounds.
    for (const [read, g] of Object.entries(growth)) {
      expect(g.big, `${read} at 2M points`).toBeLessThan(48);
      expect(g.big - g.small, `${read}: growth from 200k to 2M points`).toBeLessThan(24);
    }
  }, 60_000);
});

// ---------------------------------------------------------------- upgrade

describe('read models built before the metric index', () => {
  it('given metric points without their revision and no series index, when a server starts on them, then it rebuilds the read models from the log', async () => {
    const dir = tempDir();
    try {
      const dbPath = join(dir.path, 'trialog.db');
      let t = await startTestServer({ dbPath });
      const job = await createJob(t.gql, { labels: ['upgrade'] });
      const lease = {
        jobId: job.id,
        leaseToken: (await claim(t.gql, { workerId: 'w', labels: ['upgrade'] }))!.leaseToken,
      };
      ok(
        await t.gql(REPORT, {
          input: {
            ...lease,
            points: [
              { name: 'loss', value: 0.5 },
              { name: 'loss', value: 0.25 },
            ],
          },
        }),
      );
      await t.stop();

      // What the previous version left: its metric_points shape, no metric_series, its version.
      const old = new Database(readModelPathOf(dbPath));
      old.exec(`DROP TABLE metric_series; ALTER TABLE metric_points DROP COLUMN revision;`);
      old.prepare('UPDATE read_model_version SET version = ?').run(READ_MODEL_VERSION - 1);
      old.close();

      t = await startTestServer({ dbPath });
      try {
        const [series] = ok(await t.gql(SERIES, { id: job.id })).job.metrics;
        expect(series).toMatchObject({ name: 'loss', count: 2, last: { step: 1, value: 0.25 } });
        const rebuilt = await rebuildReadModels(t.trialog.store);
        for (const table of readModelTables(rebuilt)) {
          expect(dumpTable(t.trialog.readDb, table), `table ${table}`).toEqual(dumpTable(rebuilt, table));
        }
        rebuilt.close();
      } finally {
        await t.stop();
      }
    } finally {
      dir.remove();
    }
  });
});
