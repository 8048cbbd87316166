/**
 * Audit and replay: who and why on every event, time travel, and the
 * `trialog` command line run as a separate process (export, import, replay
 * --verify, verify), including an old log written in earlier event versions.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';
import { openTrialog } from '../../src/trialog.js';
import { COMPLETE, HEARTBEAT, REPORT_METRICS, claim, createJob } from '../helpers/jobs.js';
import { dumpTable, readModelTables } from '../helpers/read-models.js';
import { trialogCli } from '../helpers/process.js';
import { collect, gqlClient, ok, startTestServer, tempDir, wsClient, type TestServer } from '../helpers/server.js';

const fixture = fileURLToPath(new URL('../fixtures/log-v1.ndjson', import.meta.url));

let t: TestServer;
const dir = tempDir();

/** A history with every kind of event: jobs through their lives, an experiment with pruning, mappings migrated. */
async function scenario(server: TestServer) {
  const { gql } = server;
  for (let i = 0; i < 3; i++) {
    const job = await createJob(gql, { labels: ['audit'], hyperparameters: { i } });
    const c = (await claim(gql, { workerId: `w${i}`, labels: ['audit'] }))!;
    const lease = { jobId: job.id, leaseToken: c.leaseToken };
    ok(await gql(HEARTBEAT, { input: { ...lease, progress: 0.5 } }));
    ok(await gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'loss', value: 1 / (i + 1) }] } }));
    ok(
      await gql(`mutation($i: AppendLogInput!) { appendLog(input: $i) { nextOffset } }`, {
        i: { ...lease, lines: [`line ${i}`] },
      }),
    );
    ok(await gql(COMPLETE, { input: { ...lease, result: { i } } }));
  }
  const e = ok(
    await gql(`mutation { createExperiment(input: { name: "audited", objective: { metric: "loss", direction: MINIMIZE },
    scheduler: { random: { seed: 3, maxJobs: 4, space: [{ name: "x", distribution: { uniform: { low: 0, high: 1 } } }] } },
    earlyStopping: { successiveHalving: { minSteps: 1, reductionFactor: 2 } } }) { id } }`),
  ).createExperiment;
  for (let i = 0; i < 4; i++) {
    const c = ok(
      await gql(`mutation($e: ID) { claimJob(input: { workerId: "x", experimentId: $e }) { leaseToken job { id } } }`, {
        e: e.id,
      }),
    ).claimJob;
    if (!c) break;
    const lease = { jobId: c.job.id, leaseToken: c.leaseToken };
    const r = ok(await gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'loss', value: 4 - i, step: 1 }] } }));
    if (!r.reportMetrics.shouldStop) ok(await gql(COMPLETE, { input: { ...lease, result: { loss: 4 - i } } }));
  }
  ok(
    await gql(
      `mutation { registerAlgorithm(input: { interactionId: "Text", algorithmId: "TC", algorithmVersion: 1 }) { algorithmId } }`,
    ),
  );
  ok(
    await gql(
      `mutation { createTrainingJobs(input: { entityId: "e", entityVersion: 1, states: [{ stateName: "s", interactionId: "Text", trainingData: [1] }] }) { stateName } }`,
    ),
  );
  ok(
    await gql(
      `mutation { registerAlgorithm(input: { interactionId: "Text", algorithmId: "TC", algorithmVersion: 2 }) { algorithmId } }`,
    ),
  );
  ok(await gql(`mutation { migrateMappings(input: {}) { examined } }`));
  return { experimentId: e.id as string };
}

let experimentId = '';
beforeAll(async () => {
  t = await startTestServer({ dbPath: join(dir.path, 'source.db') });
  ({ experimentId } = await scenario(t));
});
afterAll(async () => {
  await t.stop();
  dir.remove();
});

describe('who and why', () => {
  it("every mutation's events carry the actor and the request's correlation id, which the response echoes", async () => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'trace-audit-1' },
      body: JSON.stringify({ query: `mutation { createJob(input: { labels: ["who"] }) { id } }` }),
    });
    expect(response.headers.get('x-correlation-id')).toBe('trace-audit-1');
    const { data } = (await response.json()) as { data: { createJob: { id: string } } };
    const made = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(made.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/); // one is made up when none is given
    const events = ok(
      await t.gql(`query($s: String) { events(filter: { streamId: $s }) { edges { node { metadata } } } }`, {
        s: `job-${data.createJob.id}`,
      }),
    ).events.edges;
    expect(events[0].node.metadata).toMatchObject({ actor: 'anonymous', correlationId: 'trace-audit-1' });
    const all = ok(await t.gql(`{ events(first: 1000) { edges { node { metadata } } } }`)).events.edges;
    for (const { node } of all) {
      expect(typeof node.metadata.actor).toBe('string');
      expect(typeof node.metadata.correlationId).toBe('string');
      expect(typeof node.metadata.causationId).toBe('string');
    }
  });

  it('events caused by other events name them: a pruning names the metrics report that triggered it', async () => {
    const log = ok(
      await t.gql(`{ events(first: 1000) { edges { node { id type streamId metadata } } } }`),
    ).events.edges.map((e: any) => e.node);
    const pruned = log.find((e: any) => e.type === 'JobPruned' || e.type === 'JobRungsReached');
    const report = log.find((e: any) => e.id === pruned.metadata.causationId);
    expect(report).toMatchObject({ type: 'JobMetricsReported', streamId: pruned.streamId });
  });

  it('events filter by a time range', async () => {
    const log = ok(await t.gql(`{ events(first: 1000) { edges { node { timestamp } } } }`)).events.edges.map(
      (e: any) => e.node.timestamp,
    );
    const middle = log[Math.floor(log.length / 2)];
    const later = ok(
      await t.gql(
        `query($f: DateTime) { events(first: 1000, filter: { from: $f }) { edges { node { timestamp } } } }`,
        { f: middle },
      ),
    ).events.edges;
    expect(later.length).toBeGreaterThan(0);
    expect(later.length).toBeLessThan(log.length);
    expect(later.every((e: any) => e.node.timestamp >= middle)).toBe(true);
    const earlier = ok(
      await t.gql(`query($t: DateTime) { events(first: 1000, filter: { to: $t }) { edges { node { timestamp } } } }`, {
        t: middle,
      }),
    ).events.edges;
    expect(earlier.every((e: any) => e.node.timestamp <= middle)).toBe(true);
    expect(earlier.length + later.length).toBeGreaterThanOrEqual(log.length);
  });

  it('time travel by time stops at the first event past it, even when a later event is stamped earlier', async () => {
    const store = t.trialog.store;
    const meta = { actor: 'test', correlationId: 'skew', causationId: 'skew', schemaVersion: 2 };
    const created = JSON.parse(readFileSync(fixture, 'utf8').split('\n')[0]!);
    const data = {
      ...created.data,
      jobId: 'job_skewed',
      generation: 0,
      parentId: null,
      trialIndex: null,
      decision: null,
    };
    await store.appendToStream('job-job_skewed', [
      { id: 'skew-0', type: 'JobCreated', data, metadata: meta, timestamp: '2026-01-05T10:05:00.000Z' },
      // Written by a server whose clock was behind: stamped before the creation.
      {
        id: 'skew-1',
        type: 'JobCancelled',
        data: { reason: null, from: 'QUEUED' },
        metadata: { ...meta, schemaVersion: 1 },
        timestamp: '2026-01-05T10:02:00.000Z',
      },
    ]);
    const at = (time: string) =>
      t.gql(`query($at: DateTime) { jobAt(id: "job_skewed", at: $at) { status revision } }`, { at: time });
    expect(ok(await at('2026-01-05T10:04:00Z')).jobAt).toBeNull();
    expect(ok(await at('2026-01-05T10:06:00Z')).jobAt).toEqual({ status: 'CANCELLED', revision: 1 });
  });
});

describe('time travel', () => {
  it('experimentAt and mappingAt rebuild from their streams at a revision or a time', async () => {
    const first = ok(
      await t.gql(`query($id: ID!) { experimentAt(id: $id, revision: 0) { status } experiment(id: $id) { status } }`, {
        id: experimentId,
      }),
    );
    expect(first.experimentAt.status).toBe('RUNNING');
    expect(first.experiment.status).toBe('DONE'); // 4 trials, all ended
    const m = ok(
      await t.gql(`{ before: mappingAt(entityId: "e", entityVersion: 1, stateName: "s", revision: 0) { jobs { job { id } } }
      now: mapping(entityId: "e", entityVersion: 1, stateName: "s") { jobs { job { algorithmVersion } } history { edges { node { type } } } }
      never: mappingAt(entityId: "e", entityVersion: 1, stateName: "s", at: "2000-01-01T00:00:00Z") { stateName } }`),
    );
    expect(m.before.jobs).toHaveLength(1);
    expect(m.now.history.edges.map((e: any) => e.node.type)).toEqual(['MappingCreated', 'MappingJobUpgraded']);
    expect(m.never).toBeNull();
  });
});

describe('pages read what they select', () => {
  const nodes = (connection: any) => connection.edges.map((edge: any) => edge.node);
  /** A second server on the same log whose pages hold at most 1 byte of data: smaller than any event, so one a page. */
  let onePerPage: TestServer;
  beforeAll(async () => {
    onePerPage = await startTestServer({ dbPath: t.dbPath, limits: { eventPageBytes: 1 } });
  });
  afterAll(async () => {
    await onePerPage.stop();
  });

  /** Every large part of an event reached another way: a named fragment, an inline one, aliases and directives. */
  const THROUGH_FRAGMENTS = `query($withMeta: Boolean!, $skipData: Boolean!) { events(first: 50) { ...Page } }
    fragment Page on EventConnection { edges { node { id ...Payload meta: metadata @include(if: $withMeta) } } }
    fragment Payload on Event { ... on Event { payload: data @skip(if: $skipData) } }`;

  it('data and metadata selected through fragments, aliases and @include/@skip are read; left out, they are not there', async () => {
    const plain = nodes(ok(await t.gql(`{ events(first: 50) { edges { node { id data metadata } } } }`)).events);
    const through = nodes(ok(await t.gql(THROUGH_FRAGMENTS, { withMeta: true, skipData: false })).events);
    expect(through).toEqual(plain.map((n: any) => ({ id: n.id, payload: n.data, meta: n.metadata })));
    const without = nodes(ok(await t.gql(THROUGH_FRAGMENTS, { withMeta: false, skipData: true })).events);
    expect(without).toEqual(plain.map((n: any) => ({ id: n.id })));
  });

  it('a page that selects data stops at the byte budget with hasNextPage true, and paging on visits every event once', async () => {
    const all = ok(
      await t.gql(
        `{ events(first: 1000, filter: { category: "job" }) { edges { node { id } } pageInfo { hasNextPage } } }`,
      ),
    ).events;
    expect(all.pageInfo.hasNextPage).toBe(false);
    const visited: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages <= all.edges.length; pages++) {
      const page: any = ok(
        await onePerPage.gql(
          `query($after: String) { events(first: 1000, after: $after, filter: { category: "job" }) {
        edges { node { id data } } pageInfo { hasNextPage endCursor } } }`,
          { after },
        ),
      ).events;
      expect(page.edges).toHaveLength(1);
      visited.push(page.edges[0].node.id);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(visited).toEqual(nodes(all).map((n: any) => n.id));
    // A page without data is not cut.
    const headers = ok(
      await onePerPage.gql(`{ events(first: 1000, filter: { category: "job" }) { edges { node { type metadata } } } }`),
    ).events;
    expect(headers.edges).toHaveLength(all.edges.length);
  });

  it('the events subscription reads its backlog in pages cut at the byte budget, and hands out all of it once, in order', async () => {
    const log = nodes(
      ok(await t.gql(`{ events(first: 1000, filter: { category: "job" }) { edges { node { id } } } }`)).events,
    );
    const client = wsClient(onePerPage.url); // every backlog page holds one event
    try {
      for (const selection of ['id data', 'id']) {
        const tail = collect<any>(
          client,
          `subscription { events(filter: { category: "job" }) { ${selection} } }`,
          {},
          (items) => items.length >= log.length,
        );
        const received = (await tail.done).map((item) => item.events);
        expect(received.map((e: any) => e.id)).toEqual(log.map((e: any) => e.id));
        if (selection.includes('data')) expect(received.every((e: any) => e.data !== undefined)).toBe(true);
      }
    } finally {
      await client.dispose();
    }
  }, 20_000); // a backlog cut short waits for live events that never come

  it("a job's history that selects data stops at the byte budget too, and as of a past revision ends at that revision", async () => {
    const job = ok(await t.gql(`{ jobs(first: 1, filter: { label: "audit" }) { edges { node { id revision } } } }`))
      .jobs.edges[0].node;
    expect(job.revision).toBeGreaterThanOrEqual(2);
    const HISTORIES = `query($id: ID!, $after: String) {
      now: job(id: $id) { history(first: 10, after: $after) { edges { cursor node { revision data } } pageInfo { hasNextPage } } }
      past: jobAt(id: $id, revision: 1) { history(first: 10, after: $after) { edges { node { revision data } } pageInfo { hasNextPage } } } }`;
    const first = ok(await onePerPage.gql(HISTORIES, { id: job.id, after: null }));
    expect(first.now.history.edges.map((e: any) => e.node.revision)).toEqual([0]);
    expect(first.now.history.pageInfo.hasNextPage).toBe(true);
    expect(first.past.history.pageInfo.hasNextPage).toBe(true);
    const second = ok(await onePerPage.gql(HISTORIES, { id: job.id, after: '0' }));
    expect(second.now.history.edges.map((e: any) => e.node.revision)).toEqual([1]);
    expect(second.now.history.pageInfo.hasNextPage).toBe(true);
    expect(second.past.history.edges.map((e: any) => e.node.revision)).toEqual([1]);
    expect(second.past.history.pageInfo.hasNextPage).toBe(false); // revision 2 is past the revision asked for
  });
});

describe('trialog export and import', () => {
  it('export then import into a fresh SQLite store gives the same log and the same read models', async () => {
    const file = join(dir.path, 'log.ndjson');
    const exported = await trialogCli(['export', '--out', file], t.dbPath);
    expect(exported.code).toBe(0);
    const target = join(dir.path, 'copy.db');
    const imported = await trialogCli(['import', file], target);
    expect(imported.stdout).toMatch(/imported \d+ events/);
    expect(imported.code).toBe(0);

    const source = await t.trialog.store.readAll({ maxCount: 100_000 });
    const copyStore = new SqliteEventStore(target);
    const copy = await copyStore.readAll({ maxCount: 100_000 });
    await copyStore.close();
    const strip = (e: any) => ({
      id: e.id,
      stream: e.streamId,
      revision: e.revision,
      type: e.type,
      data: e.data,
      metadata: e.metadata,
      timestamp: e.timestamp,
    });
    expect(copy.map(strip)).toEqual(source.map(strip));

    const copyTrialog = await openTrialog({ dbPath: target, eventStoreUrl: undefined, synchronous: 'FULL' });
    for (const table of readModelTables(copyTrialog.readDb)) {
      expect(dumpTable(copyTrialog.readDb, table), `table ${table}`).toEqual(dumpTable(t.trialog.readDb, table));
    }
    await copyTrialog.close();

    // A store that holds events is refused, unless told to append.
    const again = await trialogCli(['import', join(dir.path, 'other.ndjson')], target);
    expect(again.code).toBe(1); // no such file
    writeFileSync(join(dir.path, 'other.ndjson'), readFileSync(fixture));
    const refused = await trialogCli(['import', join(dir.path, 'other.ndjson')], target);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not empty: pass --append/);
  });

  it('an import interrupted halfway and run again ends with every event exactly once', async () => {
    const file = join(dir.path, 'full.ndjson');
    expect((await trialogCli(['export', '--out', file], t.dbPath)).code).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    // The first run got through part of the file (mid-stream, so batches straddle the cut) and stopped.
    const partial = join(dir.path, 'partial.ndjson');
    writeFileSync(partial, `${lines.slice(0, Math.floor(lines.length / 2) + 1).join('\n')}\n`);
    const target = join(dir.path, 'resumed.db');
    expect((await trialogCli(['import', partial], target)).code).toBe(0);
    const resumed = await trialogCli(['import', file], target);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/resumed an earlier import/);
    const store = new SqliteEventStore(target);
    const events = await store.readAll({ maxCount: 100_000 });
    await store.close();
    expect(events.map((e) => e.id)).toEqual(lines.map((l) => JSON.parse(l).id));
  });
});

describe('trialog replay --verify', () => {
  it("says identical for a live server's read models, and finds a row changed by hand", async () => {
    const same = await trialogCli(['replay', '--verify'], t.dbPath);
    expect(same.stdout).toMatch(/^identical: [1-9]\d* events; rows: experiments 1, jobs [1-9]/);
    expect(same.code).toBe(0);
    t.trialog.readDb.prepare(`UPDATE jobs SET priority = priority + 1 WHERE id = (SELECT id FROM jobs LIMIT 1)`).run();
    const changed = await trialogCli(['replay', '--verify'], t.dbPath);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/^different: table jobs: live has \{.*"priority"/);
    t.trialog.readDb.prepare(`UPDATE jobs SET priority = priority - 1 WHERE id = (SELECT id FROM jobs LIMIT 1)`).run();
  });
});

describe('trialog replay --verify quoting rows that clients wrote', () => {
  it('given a differing row holding terminal control characters, then the difference shows them as escapes, never raw', async () => {
    const row = `(SELECT id FROM jobs LIMIT 1)`;
    const before = t.trialog.readDb.prepare(`SELECT worker_id FROM jobs WHERE id = ${row}`).pluck().get();
    // What a worker id (any client's choice) may hold: OSC 52 (write the clipboard), C1 CSI, a bidi override.
    t.trialog.readDb
      .prepare(`UPDATE jobs SET worker_id = ? WHERE id = ${row}`)
      .run('w\u001b]52;c;aGk=\u0007\u009b2J\u202e');
    try {
      const changed = await trialogCli(['replay', '--verify'], t.dbPath);
      expect(changed.code).toBe(1);
      expect(changed.stdout).toMatch(/^different: table jobs: live has /);
      // eslint-disable-next-line no-control-regex -- the control characters are what must not be there
      expect(changed.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
      expect(changed.stdout).toContain('\\x9b2J');
    } finally {
      t.trialog.readDb.prepare(`UPDATE jobs SET worker_id = ? WHERE id = ${row}`).run(before);
    }
  });
});

describe('trialog replay --verify against read models that stop short', () => {
  it('says different when the live read models are missing or behind the log', async () => {
    const target = join(dir.path, 'unprojected.db');
    expect((await trialogCli(['import', fixture], target)).code).toBe(0); // events, but no read models yet
    const result = await trialogCli(['replay', '--verify'], target);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^different: the live read models stop at nothing \(no checkpoint\), the log goes on to/,
    );
  });
});

describe('trialog import refuses a malformed file', () => {
  it('a stream whose revisions skip or repeat', async () => {
    const lines = readFileSync(fixture, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const gap = lines
      .filter((e: any) => e.stream === 'job-job_fixture1')
      .map((e: any, i: number) => ({ ...e, revision: i === 2 ? 5 : e.revision }));
    const file = join(dir.path, 'gap.ndjson');
    writeFileSync(file, gap.map((e: any) => JSON.stringify(e)).join('\n'));
    const result = await trialogCli(['import', file], join(dir.path, 'gap.db'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 3: job-job_fixture1 revision 5 where 2 was due/);
  });
});

describe('trialog verify', () => {
  it('passes a healthy log and names what is wrong with a broken one', async () => {
    const healthy = await trialogCli(['verify'], t.dbPath);
    expect(healthy.stdout).toMatch(/\d+ events in \d+ streams .*; 0 problems/);
    expect(healthy.code).toBe(0);
    const broken = join(dir.path, 'broken.db');
    const store = new SqliteEventStore(broken);
    const meta = { actor: 'test', correlationId: 'c', causationId: 'c', schemaVersion: 1 };
    const line = readFileSync(fixture, 'utf8').split('\n')[0]!;
    const created = JSON.parse(line);
    await store.appendToStream(created.stream, [
      { id: created.id, type: created.type, data: created.data, metadata: created.metadata },
    ]);
    // Completed without ever being claimed, and an event with data of the wrong shape.
    await store.appendToStream(created.stream, [
      {
        id: 'x1',
        type: 'JobCompleted',
        data: { result: null, artifacts: [] },
        metadata: { ...meta, schemaVersion: 1 },
      },
    ]);
    await store.appendToStream(created.stream, [
      { id: 'x2', type: 'JobHeartbeat', data: { nope: true }, metadata: meta },
    ]);
    await store.close();
    const result = await trialogCli(['verify'], broken);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/2 problems/);
    expect(result.stdout).toMatch(/JobCompleted on a QUEUED job/);
    expect(result.stdout).toMatch(/JobHeartbeat/);
  });
});

describe('a log written in older event versions', () => {
  it('loads, replays, verifies, and reads in the current shape', async () => {
    const target = join(dir.path, 'old.db');
    expect((await trialogCli(['import', fixture], target)).code).toBe(0);
    const verified = await trialogCli(['verify'], target);
    expect(verified.stdout).toMatch(/7 events in 2 streams .*; 0 problems/);
    const old = await startTestServer({ dbPath: target });
    try {
      const gql = gqlClient(old.url);
      const job = ok(
        await gql(`{ job(id: "job_fixture1") { status generation parent { id } result attempts metrics { name last { value } }
        history { edges { node { type data metadata } } } } }`),
      ).job;
      expect(job).toMatchObject({
        status: 'SUCCEEDED',
        generation: 0,
        parent: null,
        result: { accuracy: 0.93 },
        attempts: 1,
      });
      const claimed = job.history.edges[1].node;
      // Stored as version 1 (no lease duration); read in version 2, the duration recovered from the lease.
      expect(claimed.data).toMatchObject({ leaseSeconds: 300, takenOverFrom: null });
      expect(claimed.metadata).toMatchObject({ schemaVersion: 2, storedSchemaVersion: 1 });
      // Read without its data, the metadata is reported the same way.
      const headers = ok(await gql(`{ job(id: "job_fixture1") { history { edges { node { metadata } } } } }`)).job
        .history.edges;
      expect(headers.map((e: any) => e.node.metadata)).toEqual(job.history.edges.map((e: any) => e.node.metadata));
      expect((await trialogCli(['replay', '--verify'], target)).stdout).toMatch(/^identical: 7 events/);
    } finally {
      await old.stop();
    }
  });
});
