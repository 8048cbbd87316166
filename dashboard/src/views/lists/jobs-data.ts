import { request } from '../../lib/graphql';
import { chunkIds, jobsByIdDocument, jobsByIdVariables } from '../../logic/jobs-by-id';

/** What the jobs and workers lists show of a job. */
export const JOB_FIELDS = `fragment JobFields on Job {
  id status labels workerId algorithmId algorithmVersion revision createdAt startedAt finishedAt
  progress leaseExpiresAt attempts objectiveValue
  experiment { id name }
}`;

export interface JobRow {
  id: string;
  status: string;
  labels: string[];
  workerId: string | null;
  algorithmId: string | null;
  algorithmVersion: number | null;
  revision: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  progress: number | null;
  leaseExpiresAt: string | null;
  attempts: number;
  objectiveValue: number | null;
  experiment: { id: string; name: string } | null;
}

export interface JobPage {
  rows: JobRow[];
  endCursor: string | null;
  hasNextPage: boolean;
  totalCount: number;
  /** The log position the read models had reached when the page was read (null while the log is empty). */
  logPosition: string | null;
}

// logPosition is read in the same request, from the same read models: the page shows at least
// everything up to it, so a feed started after it misses nothing.
const JOBS_PAGE = `query JobsPage($filter: JobFilter, $first: Int, $after: String) {
  logPosition
  jobs(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { node { ...JobFields } }
  }
}
${JOB_FIELDS}`;

export async function readJobPage(
  filter: Record<string, unknown>,
  first: number,
  after: string | null,
  signal?: AbortSignal,
): Promise<JobPage> {
  const data = await request<{
    logPosition: string | null;
    jobs: {
      totalCount: number;
      pageInfo: { endCursor: string | null; hasNextPage: boolean };
      edges: { node: JobRow }[];
    };
  }>(JOBS_PAGE, { filter, first, after }, signal);
  return {
    rows: data.jobs.edges.map((edge) => edge.node),
    endCursor: data.jobs.pageInfo.endCursor,
    hasNextPage: data.jobs.pageInfo.hasNextPage,
    totalCount: data.jobs.totalCount,
    logPosition: data.logPosition,
  };
}

/** The jobs with these ids as they are now (missing ones left out), a request per 50. */
export async function readJobsById(ids: Iterable<string>): Promise<JobRow[]> {
  const chunks = chunkIds(ids);
  const answers = await Promise.all(
    chunks.map((chunk) =>
      request<Record<string, JobRow | null>>(jobsByIdDocument(chunk.length, JOB_FIELDS), jobsByIdVariables(chunk)),
    ),
  );
  return answers.flatMap((answer) => Object.values(answer).filter((job): job is JobRow => job !== null));
}

/** Status changes, resumable from the last position seen (`after`). */
export const STATUS_CHANGES = `subscription StatusChanges($status: [JobStatus!], $experimentId: ID, $after: String) {
  jobStatusChanged(status: $status, experimentId: $experimentId, after: $after) {
    position from to
    job { ...JobFields }
  }
}
${JOB_FIELDS}`;

export interface StatusChange {
  position: string;
  from: string | null;
  to: string;
  job: JobRow;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
