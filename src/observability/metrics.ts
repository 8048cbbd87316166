/**
 * Prometheus metrics (prom-client): one registry per Trialog, so that two
 * servers in one process (tests) count apart, plus the Node process's default
 * metrics in one registry per process. `/metrics` serves both (metrics-route.ts).
 *
 * Every label is bounded by design: operation names by `OperationLabels`
 * (operations.ts), codes by the contract's list, statuses by the domain's
 * enum, stores and transports by what exists. No id, key or path is a label.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const GROUP_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

export type Transport = 'http' | 'sse' | 'ws';

export class TrialogMetrics {
  readonly registry = new Registry();

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) {
    return new Histogram<L>({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  readonly requests = this.counter(
    'trialog_graphql_requests_total',
    'GraphQL operations answered, by operation name (bounded), type, result code (OK or extensions.code) and transport',
    ['operation', 'type', 'code', 'transport'],
  );

  readonly requestSeconds = this.histogram(
    'trialog_graphql_request_duration_seconds',
    'Time to answer a query or mutation, from the request to its result (subscriptions are not timed here)',
    LATENCY_BUCKETS,
    ['operation', 'type'],
  );

  readonly subscriptionsOpen = new Gauge({
    name: 'trialog_graphql_subscriptions_open',
    help: 'GraphQL subscriptions open now, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly appends = this.counter(
    'trialog_store_appends_total',
    'Appends to the event store, by store and outcome (ok, conflict: a lost race on the expected revision, error)',
    ['store', 'outcome'],
  );

  readonly appendedEvents = this.counter(
    'trialog_store_appended_events_total',
    'Events written by successful appends, by store',
    ['store'],
  );

  readonly appendSeconds = this.histogram(
    'trialog_store_append_duration_seconds',
    "An append's time as its caller waits for it (SQLite: the group commit's wait and fsync included)",
    LATENCY_BUCKETS,
    ['store'],
  );

  readonly groupCommitAppends = this.histogram(
    'trialog_sqlite_group_commit_appends',
    'Appends written together in one SQLite transaction (group commit): they share one fsync',
    GROUP_BUCKETS,
  );

  readonly commitSeconds = this.histogram(
    'trialog_sqlite_commit_duration_seconds',
    "From a group commit's COMMIT until it is durable: the WAL fsync with TRIALOG_SYNCHRONOUS=FULL, shared by the groups committed while it ran",
    COMMIT_BUCKETS,
  );

  readonly claims = this.counter(
    'trialog_job_claims_total',
    'Jobs claimed by workers (JobClaimed events in the log, seen since this server started)',
  );

  readonly leaseExpiries = this.counter(
    'trialog_job_lease_expiries_total',
    'Leases found expired, from the log: taken_over (another worker claimed the job) or failed (no attempts left)',
    ['outcome'],
  );

  readonly subscribersEndedTooSlow = this.counter(
    'trialog_live_subscribers_ended_total',
    'Live subscribers ended because their backlog passed TRIALOG_MAX_SUBSCRIBER_BACKLOG(_BYTES)',
  );

  constructor() {
    // Zero from the start, so a rate() over them has a first sample.
    this.leaseExpiries.inc({ outcome: 'taken_over' }, 0);
    this.leaseExpiries.inc({ outcome: 'failed' }, 0);
  }

  /** A gauge computed at scrape time by `read` (which may be async): nothing is kept up to date between scrapes. */
  gaugeAtScrape<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (gauge: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        return read(this);
      },
    });
  }
}

let processRegistry: Registry | undefined;

/** The Node process's default metrics (CPU, memory, event loop, GC, handles), registered once per process. */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}
