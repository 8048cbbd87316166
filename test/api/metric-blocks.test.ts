/**
 * Buckets of a series as it is now are read from block summaries (counts,
 * minima and maxima of aligned blocks of 32 and 1,024 steps, see
 * projections/block-cover.ts) plus the few points at the edges; as it stood
 * at a past revision they are read by scanning its points. The scan is the
 * reference: for random sparse series (gaps, clusters, steps reported twice,
 * steps no read can serve) and random ranges and counts, both must give the
 * same buckets, and the blocks must always be what the stored points make.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_LEVELS, coverOf, rowsOf, type Span } from '../../projections/block-cover.js';
import { metricWriter } from '../../projections/metric-series.js';
import { MetricQueries, type MetricSeriesRef, type StepRange } from '../../projections/metrics-queries.js';
import { MAX_METRIC_STEP } from '../../src/domain/job/decide.js';
import { CLAIM, FAIL, createJob } from '../helpers/jobs.js';
import { ok, startTestServer, type TestServer } from '../helpers/server.js';
import { randomOf, type Random } from '../helpers/seeded-random.js';

type Point = { name: string; step: number; value: number; timestamp: string };

/** Steps in clusters of random density (some near the largest step), with gaps between them. */
function sparseSteps(random: Random, top: boolean): number[] {
  const steps: number[] = [];
  for (let cluster = random.int(1, 4); cluster > 0; cluster--) {
    const start = top && random.next() < 0.3 ? MAX_METRIC_STEP - random.int(0, 5000) : random.int(0, 40_000);
    const length = random.pick([1, 7, 33, 700, 5000]);
    const density = random.pick([1, 0.5, 0.1, 0.01]);
    for (let step = start; step < start + length && step <= MAX_METRIC_STEP; step++)
      if (random.next() < density) steps.push(step);
  }
  return steps;
}

/** Reports of a series in random order and sizes, some steps twice (with another value), some no read can serve. */
function reportsOf(random: Random, name: string, steps: number[]): Point[][] {
  const value = () =>
    random.next() < 0.02
      ? random.pick([-1e6, 1e6])
      : random.pick([Math.round(random.next() * 10), random.next() * 20 - 10]);
  const points: Point[] = steps.map((step) => ({
    name,
    step,
    value: value(),
    timestamp: `2026-01-01T00:00:${String(step % 60).padStart(2, '0')}.000Z`,
  }));
  for (let again = random.int(0, 50); again > 0 && steps.length > 0; again--)
    points.push({ ...random.pick(points), value: value() });
  // Older logs may hold steps GraphQL's Int cannot carry: the read model leaves them out, blocks included.
  for (const step of [-1, -33, -1025, MAX_METRIC_STEP + 1, 2 ** 40])
    if (random.next() < 0.3) points.push({ name, step, value: value(), timestamp: '2026-01-01T00:00:00.000Z' });
  for (let i = points.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [points[i], points[j]] = [points[j]!, points[i]!];
  }
  const reports: Point[][] = [];
  for (let at = 0; at < points.length;) {
    const size = random.pick([1, 10, 500, 5000]);
    reports.push(points.slice(at, at + size));
    at += size;
  }
  return reports;
}

function randomRange(random: Random, steps: number[]): StepRange {
  const near = () =>
    random.pick([
      () => random.int(-3000, 50_000),
      () => (steps.length ? random.pick(steps) + random.int(-40, 40) : 0),
      () => MAX_METRIC_STEP - random.int(0, 6000),
      () => null,
    ])();
  const [a, b] = [near(), near()];
  if (a !== null && b !== null && a > b) return { fromStep: b, toStep: a };
  return { fromStep: a, toStep: b };
}

describe('the cover of a step range by blocks', () => {
  it('given any range (negative, huge, tiny, empty), then its pieces hold each step once, with at most 62 points and 62 small blocks', () => {
    const random = randomOf(14);
    const sizeOf = (level: number) => 2 ** level;
    for (let trial = 0; trial < 3000; trial++) {
      const from = random.pick([
        () => random.int(-5000, 5000),
        () => random.int(-(2 ** 40), 2 ** 40),
        () => random.int(0, 64),
      ])();
      const to = from + random.pick([-1, 0, 1, 31, 32, 33, 1023, 1024, 2047, 2048, random.int(0, 20_000)]);
      const cover = coverOf({ from, to });
      // As step spans, the pieces must tile [from, to] exactly.
      const spans: Span[] = [...cover.points];
      for (const level of BLOCK_LEVELS) {
        for (const span of cover.blocks[level]) {
          spans.push(
            span.from > span.to ? span : { from: span.from * sizeOf(level), to: (span.to + 1) * sizeOf(level) - 1 },
          );
        }
      }
      const tiles = spans.filter((span) => span.from <= span.to).sort((x, y) => x.from - y.from);
      if (to < from) {
        expect(tiles).toEqual([]);
        continue;
      }
      expect(tiles[0]!.from, `[${from}, ${to}]`).toBe(from);
      for (let i = 1; i < tiles.length; i++) expect(tiles[i]!.from, `[${from}, ${to}]`).toBe(tiles[i - 1]!.to + 1);
      expect(tiles[tiles.length - 1]!.to, `[${from}, ${to}]`).toBe(to);
      const width = (span: Span) => Math.max(0, span.to - span.from + 1);
      expect(width(cover.points[0]) + width(cover.points[1])).toBeLessThanOrEqual(62);
      expect(width(cover.blocks[5][0]) + width(cover.blocks[5][1])).toBeLessThanOrEqual(62);
      expect(width(cover.blocks[10][0]) + width(cover.blocks[10][1])).toBeLessThanOrEqual(
        Math.floor((to - from + 1) / 1024),
      );
      // So a range of 500 steps or more is always read by its cover (a quarter of its rows or fewer), never scanned.
      if (to - from + 1 >= 500) expect(rowsOf(cover) * 4, `[${from}, ${to}]`).toBeLessThanOrEqual(to - from + 1);
    }
  });
});

describe('buckets from blocks against buckets from a scan, over random sparse series', () => {
  it('given random series, ranges and counts, when buckets are read now (blocks) and by scan, then they are equal', () => {
    let bucketsCompared = 0;
    let bucketsWithLargeBlocks = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const random = randomOf(seed);
      const db = new Database(':memory:');
      const writer = metricWriter(db);
      const queries = new MetricQueries(db);
      // Two jobs with a series of the same name, and two series in one job: blocks must not mix them.
      const seriesSteps = new Map<string, number[]>();
      const reports: { jobId: string; points: Point[] }[] = [];
      for (const [jobId, name] of [
        ['a', 'loss'],
        ['a', 'acc'],
        ['b', 'loss'],
      ] as const) {
        const steps = sparseSteps(random, seed % 4 === 0);
        seriesSteps.set(`${jobId}/${name}`, steps);
        for (const points of reportsOf(random, name, steps)) reports.push({ jobId, points });
      }
      // Interleaved as workers' reports would be; each report its own revision, a few reports per batch (the
      // runner's transaction), so the index and the blocks are written from what several reports added.
      reports.sort(() => random.next() - 0.5);
      const perBatch = 1 + (seed % 5);
      for (let from = 0; from < reports.length; from += perBatch) {
        db.transaction(() => {
          reports
            .slice(from, from + perBatch)
            .forEach(({ jobId, points }, i) => writer.record(jobId, points, from + i));
          writer.flush();
        })();
      }

      expect(blocksIn(db), `seed ${seed}: blocks as the stored points make them`).toEqual(blocksFromPoints(db));
      for (const jobId of ['a', 'b']) {
        for (const now of queries.series(jobId, null, null)) {
          const scanned: MetricSeriesRef = { ...now, upToRevision: Number.MAX_SAFE_INTEGER };
          const steps = seriesSteps.get(`${jobId}/${now.name}`)!;
          for (let read = 0; read < 10; read++) {
            const range = randomRange(random, steps);
            const count = random.pick([1, 2, 3, 7, 20, 50, 600, 2000, random.int(1, 300)]);
            const fromBlocks = queries.buckets(now, count, range);
            const context = `seed ${seed}, ${jobId}/${now.name}, count ${count}, range ${JSON.stringify(range)}`;
            expect(fromBlocks, context).toEqual(queries.buckets(scanned, count, range));
            bucketsCompared += fromBlocks.length;
            bucketsWithLargeBlocks += fromBlocks.filter((b) => {
              const [large] = coverOf({ from: b.fromStep, to: b.toStep }).blocks[10];
              return large.from <= large.to;
            }).length;
          }
        }
      }
      db.close();
    }
    // The comparison reached every kind of piece: not only point scans.
    expect(bucketsCompared).toBeGreaterThan(10_000);
    expect(bucketsWithLargeBlocks).toBeGreaterThan(100);
  });
});

/** The blocks table, in a canonical order. */
function blocksIn(db: Database.Database): unknown[] {
  return db
    .prepare(
      'SELECT job_id, name, level, block, count, min_value, max_value FROM metric_blocks ORDER BY job_id, name, level, block',
    )
    .all();
}

/** What the blocks must be: the stored points grouped by block, computed here from scratch. */
function blocksFromPoints(db: Database.Database): unknown[] {
  const levels = BLOCK_LEVELS.map(
    (level) => `SELECT job_id, name, ${level} AS level, step >> ${level} AS block, count(*) AS count,
      min(value) AS min_value, max(value) AS max_value FROM metric_points GROUP BY job_id, name, step >> ${level}`,
  );
  return db.prepare(`SELECT * FROM (${levels.join(' UNION ALL ')}) ORDER BY job_id, name, level, block`).all();
}

// ----------------------------------------------------------- over the server

const REPORT = `mutation($input: ReportMetricsInput!) { reportMetrics(input: $input) { job { revision } } }`;
const BUCKETS_NOW_AND_THEN = `query($id: ID!, $revision: Int, $count: Int!, $fromStep: Int, $toStep: Int) {
  now: job(id: $id) { metrics(names: ["loss"]) { ...buckets } }
  then: jobAt(id: $id, revision: $revision) { metrics(names: ["loss"]) { ...buckets } } }
  fragment buckets on MetricSeries { count buckets(count: $count, fromStep: $fromStep, toStep: $toStep) {
    fromStep toStep count min max last { step value timestamp } } }`;

describe('buckets over the server, for a job reported in two attempts (a retry) with steps reported twice', () => {
  let t: TestServer;
  let jobId: string;
  let revision: number;
  let steps: number[];

  beforeAll(async () => {
    t = await startTestServer();
    jobId = (await createJob(t.gql, { labels: ['blocks'], maxAttempts: 2 })).id;
    const random = randomOf(2026);
    steps = sparseSteps(random, true);
    const reports = reportsOf(random, 'loss', steps).map((points) =>
      points.filter((p) => p.step >= 0 && p.step <= MAX_METRIC_STEP),
    );
    const half = Math.ceil(reports.length / 2);
    for (const [attempt, batch] of [reports.slice(0, half), reports.slice(half)].entries()) {
      const claimed = ok(await t.gql(CLAIM, { input: { workerId: `w${attempt}`, labels: ['blocks'] } })).claimJob;
      const lease = { jobId, leaseToken: claimed.leaseToken };
      for (const points of batch) {
        // The server stamps the timestamps: they differ from what was generated.
        for (let at = 0; at < points.length; at += 10_000) {
          const input = {
            ...lease,
            points: points.slice(at, at + 10_000).map(({ name, step, value }) => ({ name, step, value })),
          };
          revision = ok(await t.gql(REPORT, { input })).reportMetrics.job.revision;
        }
      }
      // The first attempt fails and is retried: the job keeps its points; the second attempt reports more.
      if (attempt === 0) ok(await t.gql(FAIL, { input: { ...lease, error: 'node lost', retry: true } }));
    }
  }, 60_000);
  afterAll(() => t.stop());

  it('given random ranges and counts, when buckets are read now and at the current revision, then both answers are equal', async () => {
    const random = randomOf(7);
    let buckets = 0;
    for (let read = 0; read < 25; read++) {
      const range = randomRange(random, steps);
      const count = random.pick([1, 5, 40, 600, 2000]);
      const answer = ok(await t.gql(BUCKETS_NOW_AND_THEN, { id: jobId, revision, count, ...range }));
      expect(answer.now.metrics[0].count).toBe(new Set(steps).size);
      expect(answer.now.metrics[0].buckets, `count ${count}, range ${JSON.stringify(range)}`).toEqual(
        answer.then.metrics[0].buckets,
      );
      buckets += answer.now.metrics[0].buckets.length;
    }
    expect(buckets).toBeGreaterThan(1000);
  });
});
