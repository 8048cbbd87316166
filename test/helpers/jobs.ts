/** The job operations tests use, as GraphQL documents, and small wrappers. */
import { ok, type Gql } from './server.js';

export const JOB_FIELDS = 'id status attempts maxAttempts workerId priority labels revision error';

export async function createJob(
  gql: Gql,
  input: Record<string, unknown> = {},
): Promise<{ id: string; status: string }> {
  const data = ok(
    await gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { ${JOB_FIELDS} } }`, { input }),
  );
  return data.createJob;
}

export const CLAIM = `mutation($input: ClaimJobInput!) {
  claimJob(input: $input) { leaseToken leaseExpiresAt job { ${JOB_FIELDS} } }
}`;

export interface ClaimResult {
  leaseToken: string;
  leaseExpiresAt: string;
  job: { id: string; status: string; attempts: number; workerId: string };
}

export async function claim(gql: Gql, input: Record<string, unknown>): Promise<ClaimResult | null> {
  return ok(await gql(CLAIM, { input })).claimJob;
}

export const HEARTBEAT = `mutation($input: HeartbeatInput!) {
  heartbeat(input: $input) { leaseToken leaseExpiresAt cancelRequested }
}`;
export const REPORT_METRICS = `mutation($input: ReportMetricsInput!) {
  reportMetrics(input: $input) { shouldStop job { id metrics { name points { step value } last { step value } } } }
}`;
export const APPEND_LOG = `mutation($input: AppendLogInput!) { appendLog(input: $input) { firstOffset nextOffset } }`;
export const COMPLETE = `mutation($input: CompleteJobInput!) { completeJob(input: $input) { ${JOB_FIELDS} result progress finishedAt artifacts { name uri sha256 } } }`;
export const FAIL = `mutation($input: FailJobInput!) { failJob(input: $input) { ${JOB_FIELDS} } }`;
export const CANCEL = `mutation($input: CancelJobInput!) { cancelJob(input: $input) { ${JOB_FIELDS} } }`;
export const RETRY = `mutation($input: RetryJobInput!) { retryJob(input: $input) { ${JOB_FIELDS} } }`;
