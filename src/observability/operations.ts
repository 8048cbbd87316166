/**
 * One record per GraphQL operation, whatever its transport: when it ends, one
 * log line (name, type, duration, result code, correlation id, actor) and the
 * request metrics. The transports fill the record in (graphql-observer-plugin.ts
 * for HTTP and SSE, websocket-observer.ts for graphql-ws).
 *
 * What a record holds is chosen field by field: never variables, results or
 * headers, so a key or a lease token has no way into a line.
 */
import { getOperationAST, type DocumentNode } from 'graphql';
import { ERROR_CODES } from '../domain/errors.js';
import type { Logger } from './logger.js';
import type { TrialogMetrics, Transport } from './metrics.js';

const CONTRACT_CODES = new Set<string>(ERROR_CODES);
/** A client's operation name is logged up to this many characters. */
const MAX_LOGGED_NAME = 128;
/** Operation names labelled in metrics: the first this many distinct ones; later ones count as `(other)`. */
export const MAX_OPERATION_LABELS = 100;
/** Longer names are never a label of their own. */
const MAX_LABEL_LENGTH = 100;

type OperationType = 'query' | 'mutation' | 'subscription';

export class OperationRecord {
  readonly startedAt = performance.now();
  /** From the parsed document when it names the operation, else as the client sent it. */
  name: string | undefined;
  type: OperationType | undefined;
  /** The document parsed and validated against the schema: only then may its name be a metric label. */
  validated = false;
  code = 'OK';
  actor: string | undefined;
  correlationId: string | undefined;
  /** Counted in the open-subscriptions gauge, so taken off it when it ends. */
  streaming = false;
  finished = false;

  constructor(public transport: Transport) {}

  noteDocument(document: DocumentNode, operationName: string | null | undefined): void {
    const operation = getOperationAST(document, operationName);
    if (!operation) return;
    this.type = operation.operation;
    this.name = operation.name?.value;
  }

  /** The first error's code decides the outcome (OK when there is none). */
  noteErrors(errors: readonly { extensions?: Record<string, unknown> | undefined }[] | undefined): void {
    const first = errors?.[0];
    if (!first || this.code !== 'OK') return;
    const code = first.extensions?.code;
    this.code = typeof code === 'string' && CONTRACT_CODES.has(code) ? code : 'INTERNAL_SERVER_ERROR';
  }

  noteError(error: unknown): void {
    this.noteErrors([error as { extensions?: Record<string, unknown> }]);
  }
}

/** Operation names as metric labels, bounded whatever clients send. */
export class OperationLabels {
  private readonly known = new Set<string>();

  constructor(private readonly max = MAX_OPERATION_LABELS) {}

  of(record: OperationRecord): string {
    if (!record.validated) return '(invalid)';
    const name = record.name;
    if (!name) return '(anonymous)';
    if (this.known.has(name)) return name;
    // Parentheses cannot occur in a GraphQL name: these never clash with a client's.
    if (this.known.size >= this.max || name.length > MAX_LABEL_LENGTH) return '(other)';
    this.known.add(name);
    return name;
  }

  get size(): number {
    return this.known.size;
  }
}

export class OperationObserver {
  readonly labels: OperationLabels;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: TrialogMetrics,
    maxOperationLabels = MAX_OPERATION_LABELS,
  ) {
    this.labels = new OperationLabels(maxOperationLabels);
  }

  /** A subscription's stream has begun: it counts as open until it ends. */
  streaming(record: OperationRecord): void {
    if (record.streaming || record.finished) return;
    record.streaming = true;
    this.metrics.subscriptionsOpen.inc({ transport: record.transport });
  }

  finish(record: OperationRecord): void {
    if (record.finished) return;
    record.finished = true;
    const seconds = (performance.now() - record.startedAt) / 1000;
    if (record.streaming) this.metrics.subscriptionsOpen.dec({ transport: record.transport });
    const operation = this.labels.of(record);
    const type = record.type ?? 'unknown';
    this.metrics.requests.inc({ operation, type, code: record.code, transport: record.transport });
    if (type === 'query' || type === 'mutation') this.metrics.requestSeconds.observe({ operation, type }, seconds);
    if (!this.logger.isLevelEnabled('info')) return;
    const name = record.name?.slice(0, MAX_LOGGED_NAME);
    const durationMs = Math.round(seconds * 1e4) / 10;
    this.logger.info(
      {
        operationName: name ?? null,
        operationType: record.type ?? null,
        transport: record.transport,
        code: record.code,
        durationMs,
        correlationId: record.correlationId ?? null,
        actor: record.actor ?? null,
      },
      `${type} ${name ?? '(anonymous)'} ${record.code} ${durationMs} ms`,
    );
  }
}
