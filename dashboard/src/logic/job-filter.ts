/**
 * The jobs list's filter and the URL's query string, both ways, plus the same test the server
 * applies (so a live change can be kept, inserted or dropped without asking the server again).
 */
export const JOB_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'PRUNED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobFilter {
  status: JobStatus[];
  label: string | null;
  experimentId: string | null;
  workerId: string | null;
  algorithmId: string | null;
}

/** The URL's parameter for each filter field: short names a person can edit by hand. */
const PARAM = { label: 'label', experimentId: 'experiment', workerId: 'worker', algorithmId: 'algorithm' } as const;

const isStatus = (value: string): value is JobStatus => (JOB_STATUSES as readonly string[]).includes(value);

/** `?status=RUNNING,QUEUED&label=gpu…`; unknown statuses are dropped (a stale link still opens). */
export function jobFilterFromParams(params: URLSearchParams): JobFilter {
  const text = (name: string) => params.get(name)?.trim() || null;
  const status = (params.get('status') ?? '')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(isStatus);
  return {
    status: JOB_STATUSES.filter((s) => status.includes(s)),
    label: text(PARAM.label),
    experimentId: text(PARAM.experimentId),
    workerId: text(PARAM.workerId),
    algorithmId: text(PARAM.algorithmId),
  };
}

/** The changes to pass to `setParams`: empty fields remove their parameter. */
export function jobFilterToParams(filter: JobFilter): Record<string, string | null> {
  return {
    status: filter.status.length > 0 ? filter.status.join(',') : null,
    [PARAM.label]: filter.label || null,
    [PARAM.experimentId]: filter.experimentId || null,
    [PARAM.workerId]: filter.workerId || null,
    [PARAM.algorithmId]: filter.algorithmId || null,
  };
}

/** The GraphQL `JobFilter` input: only the fields set. */
export function jobFilterInput(filter: JobFilter): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (filter.status.length > 0) input.status = filter.status;
  if (filter.label) input.label = filter.label;
  if (filter.experimentId) input.experimentId = filter.experimentId;
  if (filter.workerId) input.workerId = filter.workerId;
  if (filter.algorithmId) input.algorithmId = filter.algorithmId;
  return input;
}

export interface FilterableJob {
  status: string;
  labels: readonly string[];
  experiment: { id: string } | null;
  workerId: string | null;
  algorithmId: string | null;
}

/** Whether the server's `jobs(filter)` would list this job. */
export function jobMatches(job: FilterableJob, filter: JobFilter): boolean {
  if (filter.status.length > 0 && !filter.status.includes(job.status as JobStatus)) return false;
  if (filter.label && !job.labels.includes(filter.label)) return false;
  if (filter.experimentId && job.experiment?.id !== filter.experimentId) return false;
  if (filter.workerId && job.workerId !== filter.workerId) return false;
  if (filter.algorithmId && job.algorithmId !== filter.algorithmId) return false;
  return true;
}
