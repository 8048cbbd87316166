/**
 * Wires the metrics to the parts of one Trialog: the store's appends, SQLite's
 * group commits, the log as the projection runner applies it (claims, lease
 * expiries), and gauges read at scrape time (projection lag, jobs by status,
 * live subscribers and their backlogs).
 *
 * Claims and lease expiries are counted from the log, not where a mutation
 * decides them: every server sees every event, so two servers on one store
 * report the same counts (take one, or the max, never the sum), and an
 * expiry found by any server is counted by all.
 */
import type { Database } from 'better-sqlite3';
import { isLeaseExpiryFailure } from '../domain/job/decide.js';
import { JobStatus } from '../domain/job/events.js';
import type { LiveFeed } from '../live-feed.js';
import { WrongExpectedRevisionError, type EventStore, type RecordedEvent } from '../store/port.js';
import { SqliteEventStore } from '../store/sqlite-store.js';
import type { ProjectionRunner, RunnerState } from '../../projections/runner.js';
import { lagReader } from '../http/health.js';
import { TrialogMetrics } from './metrics.js';

const PROJECTION_STATES: readonly RunnerState[] = ['starting', 'running', 'reconnecting', 'failed', 'stopped'];

/** Counts and times every append, whatever the adapter: the adapters themselves know nothing of metrics. */
function timeAppends(store: EventStore, metrics: TrialogMetrics, kind: string): void {
  const append = store.appendToStream.bind(store);
  const seconds = metrics.appendSeconds.labels({ store: kind });
  const ok = metrics.appends.labels({ store: kind, outcome: 'ok' });
  const events = metrics.appendedEvents.labels({ store: kind });
  store.appendToStream = async (streamId, newEvents, options) => {
    const end = seconds.startTimer();
    try {
      const result = await append(streamId, newEvents, options);
      ok.inc();
      events.inc(newEvents.length);
      return result;
    } catch (error) {
      metrics.appends.inc({ store: kind, outcome: error instanceof WrongExpectedRevisionError ? 'conflict' : 'error' });
      throw error;
    } finally {
      end();
    }
  };
}

function countFromLog(metrics: TrialogMetrics, batch: readonly RecordedEvent[]): void {
  for (const event of batch) {
    if (event.type === 'JobClaimed') {
      metrics.claims.inc();
      if ((event.data as { takenOverFrom: string | null }).takenOverFrom !== null)
        metrics.leaseExpiries.inc({ outcome: 'taken_over' });
    } else if (event.type === 'JobFailed' && isLeaseExpiryFailure(event.data as { error: string; requeued: boolean })) {
      metrics.leaseExpiries.inc({ outcome: 'failed' });
    }
  }
}

export interface InstrumentedParts {
  store: EventStore;
  readDb: Database;
  runner: ProjectionRunner;
  feed: LiveFeed;
}

/** The command side's metrics, before the runner starts (so that nothing it does goes uncounted). */
export function instrumentStore(metrics: TrialogMetrics, store: EventStore): void {
  const sqlite = store instanceof SqliteEventStore;
  timeAppends(store, metrics, sqlite ? 'sqlite' : 'eventstoredb');
  if (sqlite) {
    store.onGroupCommit(({ appends, commitSeconds }) => {
      metrics.groupCommitAppends.observe(appends);
      metrics.commitSeconds.observe(commitSeconds);
    });
  }
}

/** The read side's metrics, once the read models have caught up at start (history is not counted as news). */
export function instrumentReadSide(metrics: TrialogMetrics, { readDb, runner, feed }: InstrumentedParts): void {
  runner.onApplied((batch) => countFromLog(metrics, batch));

  // The lag needs the store's head: read as /ready reads it, within a bound and shared by both gauges, so that a
  // store that hangs or fails leaves the lag unknown (NaN) instead of holding or failing the whole scrape.
  const readLag = lagReader(runner);
  metrics.gaugeAtScrape(
    'trialog_projection_lag_seconds',
    'How long ago the oldest event the read models have not applied was recorded (0: caught up; NaN: the store did not answer)',
    [],
    async (gauge) => {
      const reading = await readLag();
      gauge.set('lag' in reading ? reading.lag.behindSeconds : Number.NaN);
    },
  );
  metrics.gaugeAtScrape(
    'trialog_projection_state',
    "The projection runner's state: 1 for the current one",
    ['state'],
    async (gauge) => {
      const reading = await readLag();
      const state = 'lag' in reading ? reading.lag.state : reading.state;
      for (const each of PROJECTION_STATES) gauge.set({ state: each }, each === state ? 1 : 0);
    },
  );

  // One grouped count over the jobs_queue index (status first): cheap, and exact across servers.
  const byStatus = readDb.prepare<[], { status: string; jobs: number }>(
    'SELECT status, count(*) AS jobs FROM jobs GROUP BY status',
  );
  const leaseExpired = readDb.prepare<[string], { jobs: number }>(
    "SELECT count(*) AS jobs FROM jobs WHERE status = 'RUNNING' AND lease_expires_at <= ?",
  );
  metrics.gaugeAtScrape('trialog_jobs', 'Jobs by status, from the read models', ['status'], (gauge) => {
    const counts = new Map(byStatus.all().map((row) => [row.status, row.jobs]));
    for (const status of JobStatus.options) gauge.set({ status }, counts.get(status) ?? 0);
  });
  metrics.gaugeAtScrape(
    'trialog_jobs_lease_expired',
    'Running jobs whose lease has expired and that no worker has claimed again yet',
    [],
    (gauge) => {
      gauge.set(leaseExpired.get(new Date().toISOString())?.jobs ?? 0);
    },
  );

  const backlog = (name: string, help: string, pick: (stats: ReturnType<LiveFeed['backlogStats']>) => number) =>
    metrics.gaugeAtScrape(name, help, [], (gauge) => gauge.set(pick(feed.backlogStats())));
  backlog(
    'trialog_live_subscribers',
    "Live subscribers of the log in this process (GraphQL subscriptions and the server's own)",
    (s) => s.subscribers,
  );
  backlog('trialog_live_backlog_events', 'Events waiting for live subscribers, summed over them', (s) => s.events);
  backlog(
    'trialog_live_backlog_bytes',
    'Bytes of events waiting for live subscribers, summed over them',
    (s) => s.bytes,
  );
  backlog(
    'trialog_live_backlog_events_max',
    'The largest backlog of one live subscriber, in events',
    (s) => s.maxEvents,
  );
  backlog('trialog_live_backlog_bytes_max', 'The largest backlog of one live subscriber, in bytes', (s) => s.maxBytes);
}
