/**
 * The composition root: picks the store adapter, opens the read-model
 * database, starts the projection runner and wires the command handlers.
 * Everything the GraphQL layer (or a test, or a CLI) needs hangs off `Trialog`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { AccessControl } from './app/access.js';
import { History } from './app/history.js';
import type { TrialogServices } from './app/services.js';
import { ExperimentCommands } from './app/experiment-commands.js';
import { experimentRepository } from './app/experiment-repository.js';
import { EarlyStoppingInputs } from './app/early-stopping-inputs.js';
import { JobCommands } from './app/job-commands.js';
import { JobExperiments } from './app/job-experiments.js';
import { MappingCommands } from './app/mapping-commands.js';
import { jobRepository } from './app/job-repository.js';
import { DEFAULT_READ_MODEL_WAIT_SECONDS, type TrialogConfig } from './config.js';
import { defaultLimits, type Limits } from './limits.js';
import { LiveFeed } from './live-feed.js';
import { LiveEvents } from './live/live-events.js';
import { EventStoreDbEventStore } from './store/eventstoredb-store.js';
import { reachAtStart } from './store/eventstoredb/reach-at-start.js';
import type { EventStore } from './store/port.js';
import { SqliteEventStore } from './store/sqlite-store.js';
import { openReadModelDb, readModelPathOf } from './read-model-db.js';
import { dropLegacyReadModels } from './legacy-read-models.js';
import { ExperimentQueries } from '../projections/experiments-queries.js';
import { JobQueries } from '../projections/jobs-queries.js';
import { MappingQueries } from '../projections/mappings-queries.js';
import { ProjectionRunner } from '../projections/runner.js';
import { readModelProjections } from '../projections/read-models.js';
import { startApplyThread } from '../projections/apply-thread.js';
import { quietLogger, type Logger } from './observability/logger.js';
import { TrialogMetrics } from './observability/metrics.js';
import { instrumentReadSide, instrumentStore } from './observability/trialog-metrics.js';

export interface Trialog {
  store: EventStore;
  /** The read models' connection (in embedded mode: on their file beside the event store's, see src/read-model-db.ts). */
  readDb: SqliteDatabase;
  runner: ProjectionRunner;
  feed: LiveFeed;
  jobQueries: JobQueries;
  jobCommands: JobCommands;
  experimentQueries: ExperimentQueries;
  experimentCommands: ExperimentCommands;
  mappingQueries: MappingQueries;
  mappingCommands: MappingCommands;
  access: AccessControl;
  /** What the GraphQL layer is given: the services above, the history reader and the live events, and no more. */
  services: TrialogServices;
  /** Prometheus metrics of this Trialog (served at /metrics). */
  metrics: TrialogMetrics;
  logger: Logger;
  /** What inputs and reads may hold (TRIALOG_LIMIT_*): the command handlers and the GraphQL layer enforce them. */
  limits: Limits;
  close(): Promise<void>;
}

export type StoreConfig = Pick<TrialogConfig, 'dbPath' | 'eventStoreUrl' | 'synchronous'> &
  Partial<
    Pick<TrialogConfig, 'maxAppendBytes' | 'readModelWaitSeconds' | 'storeStartSeconds' | 'limits' | 'readModelThread'>
  > & {
    adminKey?: string;
    /** Events one live subscriber may have waiting before it is ended with where to resume. */
    maxSubscriberBacklog?: number;
    /** Bytes of events one live subscriber may have waiting before it is ended with where to resume. */
    maxSubscriberBacklogBytes?: number;
    /** Bytes of folded job states the command side keeps cached (TRIALOG_AGGREGATE_CACHE_BYTES). */
    aggregateCacheBytes?: number;
    /** Where the server's log lines go (default: warnings and errors only, for tests and tools). */
    logger?: Logger;
  };

export { readModelProjections };

/**
 * Batches of events at least this large are written on the read models' thread (about 400 metric points);
 * smaller ones cost less to write here than to hand over (projections/runner.ts, `applyLargeWith`).
 */
const LARGE_BATCH_BYTES = 32 * 1024;

/**
 * `options.eventStore`: an event store opened by the caller, the read models then in `config.dbPath` on
 * their own, as with EventStoreDB (a test uses a second SQLite file to hold the read models' lock alone).
 */
export async function openTrialog(config: StoreConfig, options: { eventStore?: EventStore } = {}): Promise<Trialog> {
  if (config.dbPath !== ':memory:') mkdirSync(dirname(config.dbPath), { recursive: true });
  const logger = config.logger ?? quietLogger();
  const limits = config.limits ?? defaultLimits;
  let store: EventStore;
  let readDb: SqliteDatabase;
  let readModelPath = config.dbPath;
  if (options.eventStore) {
    store = options.eventStore;
    readDb = openReadModelDb(config.dbPath);
  } else if (config.eventStoreUrl) {
    const warn = (line: string) => logger.warn(line);
    store = new EventStoreDbEventStore(config.eventStoreUrl, { maxAppendBytes: config.maxAppendBytes, warn });
    readDb = openReadModelDb(config.dbPath);
    await reachAtStart(store, {
      connectionString: config.eventStoreUrl,
      maxSeconds: config.storeStartSeconds ?? 60,
      log: warn,
    });
  } else {
    const sqlite = new SqliteEventStore(config.dbPath, {
      synchronous: config.synchronous,
      maxAppendBytes: config.maxAppendBytes,
    });
    store = sqlite;
    // A file of the read side's own beside the store's (see src/read-model-db.ts).
    readModelPath = readModelPathOf(config.dbPath);
    const dropped = dropLegacyReadModels(config.dbPath);
    if (dropped > 0)
      logger.warn(`dropped ${dropped} read-model tables from the store's file: they are rebuilt in ${readModelPath}`);
    readDb = openReadModelDb(readModelPath);
  }
  const metrics = new TrialogMetrics();
  instrumentStore(metrics, store);
  const feed = new LiveFeed(
    { maxEvents: config.maxSubscriberBacklog, maxBytes: config.maxSubscriberBacklogBytes },
    { onSubscriberTooSlow: () => metrics.subscribersEndedTooSlow.inc() },
  );
  const runner = new ProjectionRunner(store, readDb, readModelProjections, feed, logger);
  // A thread needs a file it can open a connection of its own on.
  if (config.readModelThread && readModelPath !== ':memory:')
    runner.applyLargeWith(await startApplyThread(readModelPath), LARGE_BATCH_BYTES);
  runner.start();
  await runner.catchUp();
  instrumentReadSide(metrics, { store, readDb, runner, feed });
  const jobQueries = new JobQueries(readDb);
  // A mutation answers once the read models include its events, or, past the bound, that they lag (still recorded).
  const waitTimeoutMs = (config.readModelWaitSeconds ?? DEFAULT_READ_MODEL_WAIT_SECONDS) * 1000;
  const waitForReadModels = (position: string) => runner.waitFor(position, { timeoutMs: waitTimeoutMs });
  const experimentQueries = new ExperimentQueries(readDb);
  runner.onApplied((batch) => experimentQueries.noteApplied(batch));
  const jobCommands = new JobCommands({
    store,
    repository: jobRepository(store, { queries: jobQueries, cacheBytes: config.aggregateCacheBytes }),
    queries: jobQueries,
    earlyStopping: new EarlyStoppingInputs(experimentQueries),
    waitForReadModels,
    limits,
  });
  const experimentCommands = new ExperimentCommands({
    repository: experimentRepository(store, config.aggregateCacheBytes),
    queries: experimentQueries,
    jobQueries,
    jobs: jobCommands,
    waitForReadModels,
    limits,
  });
  jobCommands.attachExperiments(experimentCommands);
  const mappingQueries = new MappingQueries(readDb);
  const mappingCommands = new MappingCommands({
    store,
    queries: mappingQueries,
    jobQueries,
    jobs: jobCommands,
    waitForReadModels,
    limits,
  });
  const access = new AccessControl(store, readDb, waitForReadModels, config.adminKey);
  const jobExperiments = new JobExperiments((jobId) => jobQueries.experimentIdOf(jobId));
  const live = new LiveEvents({
    feed,
    position: () => runner.position,
    store,
    jobs: jobQueries,
    experiments: experimentQueries,
    jobExperiments,
    eventPageBytes: limits.eventPageBytes,
  });
  const services: TrialogServices = {
    jobQueries,
    jobCommands,
    experimentQueries,
    experimentCommands,
    mappingQueries,
    mappingCommands,
    access,
    history: new History(store, limits),
    live,
  };
  return {
    store,
    readDb,
    runner,
    feed,
    jobQueries,
    jobCommands,
    experimentQueries,
    experimentCommands,
    mappingQueries,
    mappingCommands,
    access,
    services,
    metrics,
    logger,
    limits,
    async close() {
      await runner.stop();
      await store.close();
      if (readDb.open) readDb.close();
    },
  };
}
