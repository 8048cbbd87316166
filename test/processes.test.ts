/**
 * Separate server processes, as operators run them: two on one SQLite file,
 * one killed with SIGKILL and restarted, one given a bad configuration.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMPLETE, claim } from './helpers/jobs.js';
import { startServerProcess, runMain, type ServerProcess } from './helpers/process.js';
import { collect, gqlClient, ok, tempDir, wsClient } from './helpers/server.js';

const running: ServerProcess[] = [];
const dirs: { remove(): void }[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
  for (const dir of dirs.splice(0)) dir.remove();
});

async function start(dbPath: string): Promise<ServerProcess> {
  const server = await startServerProcess(dbPath);
  running.push(server);
  return server;
}

function freshDb(): string {
  const dir = tempDir();
  dirs.push(dir);
  return join(dir.path, 'trialog.db');
}

async function createJobs(url: string, count: number, label: string): Promise<string[]> {
  const gql = gqlClient(url);
  const ids: string[] = [];
  for (let done = 0; done < count; done += 50) {
    const fields = Array.from({ length: Math.min(50, count - done) }, (_, i) => `j${i}: createJob(input: { labels: ["${label}"] }) { id }`);
    ids.push(...Object.values(ok(await gql(`mutation { ${fields.join('\n')} }`)) as Record<string, { id: string }>).map((j) => j.id));
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
      const streams = ok(await gqlClient(url)(`{ events(first: 1000, filter: { types: ["JobClaimed"] }) { edges { node { streamId } } } }`))
        .events.edges.map((e: any) => e.node.streamId);
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
    const seenFromA = () => sub.items.some((i) => created.has(i.jobStatusChanged.job.id) && i.jobStatusChanged.to === 'QUEUED');
    // Keep creating through A until B's subscriber reports one (it may take a moment to be live).
    for (let i = 0; i < 100 && !seenFromA(); i++) {
      created.add((await createJobs(a.url, 1, 'cross'))[0]!);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    sub.stop();
    expect(seenFromA()).toBe(true);
    await ws.dispose();
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

describe('configuration', () => {
  for (const [name, value, pattern] of [
    ['PORT', 'abc', /PORT must be a whole number/],
    ['PORT', '70000', /PORT must be a whole number/],
    ['EVENTSTORE_URL', 'http://localhost:2113', /EVENTSTORE_URL must be an esdb:\/\/ connection string/],
    ['TRIALOG_SYNCHRONOUS', 'SOMETIMES', /TRIALOG_SYNCHRONOUS must be FULL or NORMAL/],
  ] as const) {
    it(`${name}=${value} stops the server at start with one clear line`, async () => {
      const { output, exit } = runMain({ [name]: value, TRIALOG_DB: ':memory:' });
      expect(await exit).toBe(2);
      const lines = output().trim().split('\n').filter((line) => !line.startsWith('npm warn'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^trialog: invalid configuration: /);
      expect(lines[0]).toMatch(pattern);
    });
  }
});
