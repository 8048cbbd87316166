/**
 * OpenTelemetry tracing of GraphQL operations, through envelop's plugin: one
 * span per operation (`query.Jobs`, `mutation.ClaimJob`, ...), named by the
 * operation, with its type, marked as an error when the result carries one.
 *
 * Off by default, and then this module is never imported (main.ts loads it
 * with `import()` only when TRIALOG_OTEL is set): the SDK costs nothing at
 * start. Neither variables, documents nor results are recorded: they can hold
 * lease tokens and keys. A `traceparent` header (W3C Trace Context) on the
 * request makes the operation's span a child of the caller's.
 *
 * The exporter reads the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), OTEL_EXPORTER_OTLP_HEADERS, and
 * OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES for the resource.
 */
import type { IncomingMessage } from 'node:http';
import { useOpenTelemetry, setCurrentOtelContext } from '@envelop/opentelemetry';
import { ROOT_CONTEXT, defaultTextMapGetter, type TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource, envDetectorSync } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Plugin } from 'graphql-yoga';

export interface Tracing {
  /** The envelop plugins to add to yoga's list. */
  plugin: Plugin;
  /** Sends what is still batched and stops. */
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
const headerGetter: TextMapGetter<IncomingMessage['headers']> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

/** The caller's trace context, from the HTTP request (or the WebSocket's upgrade request). */
function callerContext(context: { request?: Request; req?: IncomingMessage }) {
  if (context.request) {
    const headers = Object.fromEntries(context.request.headers);
    return propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  }
  if (context.req) return propagator.extract(ROOT_CONTEXT, context.req.headers, headerGetter);
  return ROOT_CONTEXT;
}

/**
 * `exporter`: where spans go; by default from the mode: OTLP over HTTP (batched), or the console
 * (printed as they end). Tests pass an in-memory one.
 */
export function startTracing(mode: 'otlp' | 'console', exporter?: SpanExporter): Tracing {
  const resource = new Resource({ 'service.name': 'trialog' }).merge(envDetectorSync.detect());
  let processor: SpanProcessor;
  if (exporter) processor = new SimpleSpanProcessor(exporter);
  else if (mode === 'console') processor = new SimpleSpanProcessor(new ConsoleSpanExporter());
  else processor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });

  const joinCallersTrace: Plugin = {
    onContextBuilding() {
      return ({ context }) => {
        setCurrentOtelContext(context, callerContext(context));
      };
    },
  };
  const spans = useOpenTelemetry(
    { resolvers: false, variables: false, result: false, document: false, traceIdInResult: undefined },
    provider,
    undefined,
    {},
    'trialog',
  ) as Plugin;
  return {
    plugin: { onPluginInit: ({ addPlugin }) => (addPlugin(joinCallersTrace), addPlugin(spans)) },
    shutdown: () => provider.shutdown(),
  };
}
