/**
 * The read side parses each recorded event once per process: the projection
 * runner's parse is the one every live subscriber is handed, however many
 * there are. Counted on the zod schema itself, so a parse anywhere counts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jobEventSchemas } from '../../src/domain/job/events.js';
import { APPEND_LOG, claim, createJob } from '../helpers/jobs.js';
import { collect, ok, startTestServer, wsClient, type TestServer } from '../helpers/server.js';

const LOGS = `subscription($jobId: ID!) { jobLogs(jobId: $jobId) { offset text } }`;
const APPENDS = 20;

let server: TestServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await server?.stop();
  server = undefined;
});

/** How many times the log-lines schema parses while `APPENDS` batches are appended and every subscriber has them. */
async function parsesOfLogLines(subscribers: number): Promise<number> {
  server = await startTestServer();
  const t = server;
  await createJob(t.gql, { labels: ['parsed'] });
  const lease = (await claim(t.gql, { workerId: 'w', labels: ['parsed'] }))!;
  const input = { jobId: lease.job.id, leaseToken: lease.leaseToken };
  ok(await t.gql(APPEND_LOG, { input: { ...input, lines: ['joined'] } }));
  const clients = Array.from({ length: subscribers }, () => wsClient(t.url));
  // Each subscriber has the first line (from the backlog) before counting starts: it follows the feed from then on.
  const feeds = clients.map((client) =>
    collect<{ jobLogs: { offset: number } }>(client, LOGS, { jobId: lease.job.id }, (items) => items.length > APPENDS),
  );
  await vi.waitFor(() => expect(feeds.every((feed) => feed.items.length === 1)).toBe(true), {
    timeout: 30_000,
    interval: 20,
  });
  const parse = vi.spyOn(jobEventSchemas.JobLogAppended, 'parse');
  for (let i = 0; i < APPENDS; i++) ok(await t.gql(APPEND_LOG, { input: { ...input, lines: [`line ${i}`] } }));
  await Promise.all(feeds.map((feed) => feed.done));
  const count = parse.mock.calls.length;
  parse.mockRestore();
  for (const client of clients) await client.dispose();
  return count;
}

describe('parsing recorded events on the read side', () => {
  it('given three jobLogs subscribers, when log lines are appended, then no event is parsed more often than with none', async () => {
    const alone = await parsesOfLogLines(0);
    await server!.stop();
    server = undefined;
    const watched = await parsesOfLogLines(3);
    expect(alone).toBeGreaterThanOrEqual(APPENDS); // the projection's parse is counted: the count sees the read side
    expect(watched).toBe(alone);
  });
});
