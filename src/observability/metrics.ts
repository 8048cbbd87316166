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

  readonly requests = new Counter({
    name: 'trialog_graphql_requests_total',
    help: 'GraphQL operations answered, by operation name (bounded), type, result code (OK or extensions.code) and transport',
    labelNames: ['operation', 'type', 'code', 'transport'] as const,
    registers: [this.registry],
  });

  readonly requestSeconds = new Histogram({
    name: 'trialog_graphql_request_duration_seconds',
    help: 'Time to answer a query or mutation, from the request to its result (subscriptions are not timed here)',
    labelNames: ['operation', 'type'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly subscriptionsOpen = new Gauge({
    name: 'trialog_graphql_subscriptions_open',
    help: 'GraphQL subscriptions open now, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly appends = new Counter({
    name: 'trialog_store_appends_total',
    help: 'Appends to the event store, by store and outcome (ok, conflict: a lost race on the expected revision, error)',
    labelNames: ['store', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly appendedEvents = new Counter({
    name: 'trialog_store_appended_events_total',
    help: 'Events written by successful appends, by store',
    labelNames: ['store'] as const,
    registers: [this.registry],
  });

  readonly appendSeconds = new Histogram({
    name: 'trialog_store_append_duration_seconds',
    help: "An append's time as its caller waits for it (SQLite: the group commit's wait and fsync included)",
    labelNames: ['store'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly groupCommitAppends = new Histogram({
    name: 'trialog_sqlite_group_commit_appends',
    help: 'Appends written together in one SQLite transaction (group commit): they share one fsync',
    buckets: GROUP_BUCKETS,
    registers: [this.registry],
  });

  readonly commitSeconds = new Histogram({
    name: 'trialog_sqlite_commit_duration_seconds',
    help: "Time of a group commit's COMMIT: the fsync with TRIALOG_SYNCHRONOUS=FULL",
    buckets: COMMIT_BUCKETS,
    registers: [this.registry],
  });

  readonly claims = new Counter({
    name: 'trialog_job_claims_total',
    help: 'Jobs claimed by workers (JobClaimed events in the log, seen since this server started)',
    registers: [this.registry],
  });

  readonly leaseExpiries = new Counter({
    name: 'trialog_job_lease_expiries_total',
    help: 'Leases found expired, from the log: taken_over (another worker claimed the job) or failed (no attempts left)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly subscribersEndedTooSlow = new Counter({
    name: 'trialog_live_subscribers_ended_total',
    help: 'Live subscribers ended because their backlog passed TRIALOG_MAX_SUBSCRIBER_BACKLOG(_BYTES)',
    registers: [this.registry],
  });

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
