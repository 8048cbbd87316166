/**
 * OpenTelemetry tracing (TRIALOG_OTEL): off by default, when not even the SDK
 * is loaded; on, one span per GraphQL operation named by it, over HTTP and
 * graphql-ws, joined to the caller's trace when the request carries one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { startTracing } from '../../src/observability/tracing.js';
import { startServer } from '../../src/server.js';
import { openTrialog } from '../../src/trialog.js';
import { serverProcessesPerTest } from '../helpers/process.js';
import { gqlClient, ok, sleep, tempDir, wsClient } from '../helpers/server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('tracing on', () => {
  it('each operation over HTTP and WebSocket makes a span named by it; a traceparent header makes it a child of the caller', async () => {
    const dir = tempDir();
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing('otlp', exporter);
    const trialog = await openTrialog({
      dbPath: join(dir.path, 'trialog.db'),
      eventStoreUrl: undefined,
      synchronous: 'FULL',
    });
    const server = await startServer(trialog, { port: 0, host: '127.0.0.1', tracing: tracing.plugin });
    cleanups.push(async () => {
      await server.close();
      await trialog.close();
      await tracing.shutdown();
      dir.remove();
    });

    const gql = gqlClient(server.url);
    ok(await gql(`mutation CreateJob { createJob(input: { hyperparameters: { secretish: 1 } }) { id } }`));
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    ok(await gql(`query Jobs { jobs { totalCount } }`, {}, { traceparent: `00-${traceId}-${callerSpan}-01` }));
    const client = wsClient(server.url);
    await new Promise((resolve, reject) =>
      client.subscribe(
        { query: `query OverSocket { viewer { name } }` },
        { next: resolve, error: reject, complete: () => {} },
      ),
    );
    await client.dispose();

    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((span) => [span.name, span]));
    expect([...byName.keys()].sort()).toEqual(['mutation.CreateJob', 'query.Jobs', 'query.OverSocket']);
    expect(byName.get('query.Jobs')!.attributes).toMatchObject({
      'graphql.execute.operationName': 'Jobs',
      'graphql.execute.operationType': 'query',
    });
    expect(byName.get('query.Jobs')!.spanContext().traceId).toBe(traceId);
    expect(byName.get('query.Jobs')!.parentSpanId).toBe(callerSpan);
    expect(byName.get('mutation.CreateJob')!.spanContext().traceId).not.toBe(traceId);
    // Neither the document nor the variables are recorded.
    for (const span of spans)
      expect(JSON.stringify(span.attributes)).not.toMatch(/secretish|graphql\.execute\.(document|variables)/);
    expect(spans[0]!.resource.attributes['service.name']).toBe('trialog');
  });
});

describe('tracing in a server process', () => {
  const { start, freshDb } = serverProcessesPerTest();
  const recorder = fileURLToPath(new URL('../fixtures/processes/record-module-loads.mjs', import.meta.url));
  const tracingModules = (loaded: string) =>
    loaded.split('\n').filter((url) => /@opentelemetry\/sdk-|@envelop\/opentelemetry|observability\/tracing/.test(url));

  it(
    'given TRIALOG_OTEL unset, the OpenTelemetry SDK and the tracing module are never loaded',
    { timeout: 60_000 },
    async () => {
      const db = freshDb();
      const log = join(db, '..', 'modules.log');
      const server = await start(db, { NODE_OPTIONS: `--import ${recorder}`, TRIALOG_TEST_MODULE_LOG: log });
      ok(await gqlClient(server.url)(`query Jobs { jobs { totalCount } }`));
      const loaded = readFileSync(log, 'utf8');
      expect(loaded).toMatch(/observability\/metrics\.ts/); // the recorder sees the server's own modules
      expect(tracingModules(loaded)).toEqual([]);
    },
  );

  it(
    'given TRIALOG_OTEL=console, the SDK is loaded and each operation prints its span',
    { timeout: 60_000 },
    async () => {
      const db = freshDb();
      const log = join(db, '..', 'modules.log');
      const server = await start(db, {
        NODE_OPTIONS: `--import ${recorder}`,
        TRIALOG_TEST_MODULE_LOG: log,
        TRIALOG_OTEL: 'console',
      });
      ok(await gqlClient(server.url)(`query Jobs { jobs { totalCount } }`));
      for (let i = 0; i < 100 && !/name: 'query\.Jobs'/.test(server.output()); i++) await sleep(50);
      expect(server.output()).toMatch(/name: 'query\.Jobs'/);
      expect(tracingModules(readFileSync(log, 'utf8')).length).toBeGreaterThan(0);
    },
  );
});
