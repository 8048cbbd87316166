/**
 * Every size and count Trialog accepts, in one place. The README's "Limits"
 * table lists these; a request over a limit gets TOO_LARGE and writes nothing.
 * Each can be changed with an environment variable, TRIALOG_LIMIT_ and the
 * name in upper snake case (TRIALOG_LIMIT_POINTS_PER_REPORT=20000), which the
 * configuration checks at start (src/config.ts) before this module is loaded.
 */
export const defaultLimits = {
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
};

export type LimitName = keyof typeof defaultLimits;

export const limitEnvName = (name: string) => `TRIALOG_LIMIT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** A limit's value from the environment: a whole number from 1 to 2^31 - 1, or undefined when not set. */
export function limitFromEnv(name: string, env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[limitEnvName(name)];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new RangeError(
      `${limitEnvName(name)} must be a whole number from 1 to ${2 ** 31 - 1} (got ${JSON.stringify(raw)})`,
    );
  }
  return value;
}

function limitOrDefault(name: string, fallback: number): number {
  try {
    return limitFromEnv(name, process.env) ?? fallback;
  } catch {
    return fallback; // loadConfig reports the bad value (one line, exit 2) before anything runs with it
  }
}

export const limits: Record<LimitName, number> = Object.fromEntries(
  Object.entries(defaultLimits).map(([name, value]) => [name, limitOrDefault(name, value)]),
) as Record<LimitName, number>;
