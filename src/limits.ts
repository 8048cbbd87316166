/**
 * Every size and count Trialog accepts, in one place. The README's "Limits"
 * table lists these; a request over a limit gets TOO_LARGE and writes nothing.
 * Each can be changed with an environment variable, TRIALOG_LIMIT_ and the
 * name in upper snake case (TRIALOG_LIMIT_POINTS_PER_REPORT=20000), which the
 * configuration reads and checks at start (src/config.ts). The result is a
 * value, `Limits`, handed to whatever enforces them (openTrialog, the command
 * handlers and their input schemas, the GraphQL context, the worker): no
 * module reads the environment when it is loaded.
 */
export const defaultLimits = Object.freeze({
  /** JSON-encoded bytes of a job's hyperparameters. */
  hyperparametersBytes: 64 * 1024,
  /** JSON-encoded bytes of a job's params. */
  paramsBytes: 64 * 1024,
  /** JSON-encoded bytes of a job's training data. */
  trainingDataBytes: 1024 * 1024,
  /** JSON-encoded bytes of a completed job's result. */
  resultBytes: 256 * 1024,
  artifactsPerJob: 100,
  artifactMetadataBytes: 16 * 1024,
  labelsPerJob: 32,
  labelLength: 64,
  idLength: 256,
  maxAttempts: 100,
  leaseSecondsMax: 24 * 60 * 60,
  pointsPerReport: 10_000,
  linesPerAppend: 10_000,
  /** UTF-8 bytes of one log line. */
  logLineBytes: 64 * 1024,
  /** UTF-8 bytes of all lines of one appendLog call. */
  logAppendBytes: 4 * 1024 * 1024,
  /** A failure's error text is kept up to this many characters, then truncated. */
  errorLength: 16 * 1024,
  reasonLength: 4 * 1024,
  /** An experiment's name. */
  nameLength: 128,
  /** Points of a grid search's cartesian product. */
  gridPoints: 1_000_000,
  /** Members of a population-based training population. */
  populationSize: 1000,
  /** Trials of one TPE search: each proposal reads every trial of the search. */
  tpeTrials: 10_000,
  /** Trainable states in one createTrainingJobs or carryMappingsForward call. */
  statesPerCall: 1000,
  /** JSON-encoded bytes of all training data in one createTrainingJobs call. */
  trainingDataPerCallBytes: 16 * 1024 * 1024,
  /** Distinct items of a list in a read's filter (`events(filter: { types })`). */
  filterListItems: 1000,
  /** Largest `first` of any connection. */
  pageSize: 1000,
  /**
   * Points one `MetricSeries.points` read may return: a range holding more is
   * TOO_LARGE (page it with `pointsPage`, or downsample it with `buckets`).
   */
  metricPointsPerRead: 10_000,
  /** Largest `count` of `MetricSeries.buckets`. */
  metricBucketsPerRead: 2000,
  /**
   * Bytes of event data (stored JSON) in one page of `events` or `history` that selects `data`: a page
   * is cut short (hasNextPage true) before the event that would pass it, but holds at least one event.
   */
  eventPageBytes: 16 * 1024 * 1024,
});

export type LimitName = keyof typeof defaultLimits;
export type Limits = Readonly<Record<LimitName, number>>;

/** The defaults with some limits changed (a test's, or a configuration's). */
export const withLimits = (changed: Partial<Limits> = {}): Limits => ({ ...defaultLimits, ...changed });

export const limitEnvName = (name: string) => `TRIALOG_LIMIT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

const MAX_LIMIT = 2 ** 31 - 1;

/**
 * The limits an environment sets (TRIALOG_LIMIT_*), the defaults for the rest. A value that is not a whole
 * number from 1 to 2^31 - 1 throws a RangeError naming its variable.
 */
export function limitsFromEnv(env: NodeJS.ProcessEnv): Limits {
  const limits: Record<string, number> = { ...defaultLimits };
  for (const name of Object.keys(defaultLimits)) {
    const raw = env[limitEnvName(name)];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 1 || value > MAX_LIMIT) {
      throw new RangeError(
        `${limitEnvName(name)} must be a whole number from 1 to ${MAX_LIMIT} (got ${JSON.stringify(raw)})`,
      );
    }
    limits[name] = value;
  }
  return limits as Limits;
}
