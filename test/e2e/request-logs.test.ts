/**
 * The server's log, read from a real server process's stdout as an operator's
 * collector would: every line is JSON; each GraphQL operation (HTTP, SSE,
 * graphql-ws) has one request line with its name, type, duration, result code,
 * correlation id and actor; and no API key or lease token used in the
 * requests appears anywhere in the output, wherever the client put it.
 */
import { describe, expect, it } from 'vitest';
import { runMain, serverProcessesPerTest } from '../helpers/process.js';
import { gqlClient, ok, sleep, wsClient } from '../helpers/server.js';

const ADMIN_KEY = 'request-logs-admin-key-0123456789abcdefgh';
const { start, freshDb } = serverProcessesPerTest();

interface RequestLine {
  level: string;
  msg: string;
  operationName: string | null;
  operationType: string | null;
  transport: string;
  code: string;
  durationMs: number;
  correlationId: string | null;
  actor: string | null;
}

const linesOf = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a line of the server's output is not JSON: ${line}`);
      }
    });

const requestLines = (output: string) =>
  linesOf(output).filter((line) => 'operationName' in line) as unknown as RequestLine[];

/** Waits (at most 10 s) until the server has logged `n` request lines: the line comes as the answer goes. */
async function untilRequestLines(output: () => string, n: number): Promise<RequestLine[]> {
  for (let i = 0; i < 200 && requestLines(output()).length < n; i++) await sleep(50);
  return requestLines(output());
}

describe('the request line', () => {
  it(
    'given requests over HTTP, SSE and WebSocket carrying keys and lease tokens, each gets one JSON line with its fields, and no secret is printed',
    { timeout: 90_000 },
    async () => {
      const server = await start(freshDb(), { TRIALOG_ADMIN_KEY: ADMIN_KEY });
      const gql = gqlClient(server.url);
      const admin = (correlation: string) => ({
        authorization: `Bearer ${ADMIN_KEY}`,
        'x-correlation-id': correlation,
      });

      const workerKey = ok(
        await gql(
          `mutation MakeKey { createApiKey(input: { name: "gpu-worker", role: WORKER }) { key } }`,
          {},
          admin('corr-key'),
        ),
      ).createApiKey.key as string;
      const worker = (correlation: string) => ({
        authorization: `Bearer ${workerKey}`,
        'x-correlation-id': correlation,
      });
      ok(
        await gql(
          `mutation CreateJob { createJob(input: { hyperparameters: { lr: 0.1 } }) { id } }`,
          {},
          admin('corr-create'),
        ),
      );
      const claim = ok(
        await gql(
          `mutation ClaimJob { claimJob(input: { workerId: "w1", leaseSeconds: 60 }) { leaseToken job { id } } }`,
          {},
          worker('corr-claim'),
        ),
      ).claimJob;
      const leaseToken = claim.leaseToken as string;
      const jobId = claim.job.id as string;
      ok(
        await gql(
          `mutation Beat($input: HeartbeatInput!) { heartbeat(input: $input) { leaseExpiresAt } }`,
          { input: { jobId, leaseToken, progress: 0.5 } },
          worker('corr-beat'),
        ),
      );
      // A hostile or careless client puts a token in the document itself: the document is never logged either.
      const inlineToken = `forged-${leaseToken.slice(0, 8)}-lease-token-in-the-query-text`;
      const lost = await gql(
        `mutation StaleBeat { heartbeat(input: { jobId: "${jobId}", leaseToken: "${inlineToken}" }) { leaseExpiresAt } }`,
        {},
        worker('corr-stale'),
      );
      expect(lost.errors?.[0]?.extensions?.code).toBe('LEASE_LOST');

      // SSE: a subscription, ended by the client.
      const controller = new AbortController();
      const sse = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...admin('corr-sse') },
        body: JSON.stringify({ query: `subscription Follow { jobStatusChanged { to } }` }),
        signal: controller.signal,
      });
      expect(sse.status).toBe(200);
      // graphql-ws: the key travels in connectionParams.
      const client = wsClient(server.url, workerKey);
      const viewer = await new Promise<unknown>((resolve, reject) =>
        client.subscribe(
          { query: `query WhoAmI { viewer { name } }` },
          { next: resolve, error: reject, complete: () => {} },
        ),
      );
      expect(viewer).toEqual({ data: { viewer: { name: 'gpu-worker' } } });
      await client.dispose();
      controller.abort();

      const lines = await untilRequestLines(server.output, 7);
      const line = (name: string) => {
        const found = lines.filter((l) => l.operationName === name);
        expect(found, `request lines for ${name}`).toHaveLength(1);
        return found[0]!;
      };
      expect(line('MakeKey')).toMatchObject({
        level: 'info',
        operationType: 'mutation',
        transport: 'http',
        code: 'OK',
        correlationId: 'corr-key',
        actor: 'admin',
      });
      expect(line('CreateJob')).toMatchObject({
        operationType: 'mutation',
        transport: 'http',
        code: 'OK',
        correlationId: 'corr-create',
        actor: 'admin',
      });
      expect(line('ClaimJob')).toMatchObject({
        operationType: 'mutation',
        code: 'OK',
        correlationId: 'corr-claim',
        actor: 'gpu-worker',
      });
      expect(line('Beat')).toMatchObject({
        operationType: 'mutation',
        code: 'OK',
        correlationId: 'corr-beat',
        actor: 'gpu-worker',
      });
      expect(line('StaleBeat')).toMatchObject({
        operationType: 'mutation',
        code: 'LEASE_LOST',
        correlationId: 'corr-stale',
        actor: 'gpu-worker',
      });
      expect(line('Follow')).toMatchObject({
        operationType: 'subscription',
        transport: 'sse',
        code: 'OK',
        correlationId: 'corr-sse',
        actor: 'admin',
      });
      expect(line('WhoAmI')).toMatchObject({
        operationType: 'query',
        transport: 'ws',
        code: 'OK',
        actor: 'gpu-worker',
      });
      for (const each of lines) {
        expect(typeof each.durationMs).toBe('number');
        expect(each.durationMs).toBeGreaterThanOrEqual(0);
        expect(each.msg).toMatch(new RegExp(`^${each.operationType} ${each.operationName} ${each.code} `));
      }

      const output = server.output();
      for (const secret of [ADMIN_KEY, workerKey, secretOf(workerKey), leaseToken, inlineToken]) {
        expect(output.includes(secret), `the output holds a secret (${secret.slice(0, 6)}…)`).toBe(false);
      }
      // Every line is JSON, the start line among them: it still says where the server serves.
      expect(linesOf(output).some((l) => /^serving http:\/\/\S+\/graphql /.test(String(l.msg)))).toBe(true);
    },
  );
});

describe('TRIALOG_LOG_LEVEL', () => {
  it('given debug, yoga logs its own steps through the same JSON logger', { timeout: 60_000 }, async () => {
    const server = await start(freshDb(), { TRIALOG_LOG_LEVEL: 'debug' });
    ok(await gqlClient(server.url)(`query Count { jobs { totalCount } }`));
    await untilRequestLines(server.output, 1);
    const debug = linesOf(server.output()).filter((line) => line.level === 'debug');
    expect(debug.map((line) => line.msg)).toContain('Processing GraphQL Parameters');
  });

  it(
    'given a level pino does not have, the server stops at start with one line naming it',
    { timeout: 60_000 },
    async () => {
      const { output, exit } = runMain({ TRIALOG_DB: ':memory:', TRIALOG_LOG_LEVEL: 'loud' });
      expect(await exit).toBe(2);
      expect(output().trim().split('\n')).toEqual([
        'trialog: invalid configuration: TRIALOG_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      ]);
    },
  );
});

/** The secret part of a key `trialog_<id>_<secret>`: base64url, which may itself hold underscores. */
function secretOf(key: string): string {
  return key.split('_').slice(2).join('_');
}
