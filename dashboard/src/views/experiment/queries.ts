// The experiment page's GraphQL documents, in one place so the page's reads can be seen at a glance.

/** What a trial needs of its job (logic/trials.ts `TrialJob`). `pruning` is why a pruned trial was stopped. */
const TRIAL_FIELDS = /* GraphQL */ `
  id status hyperparameters objectiveValue createdAt finishedAt generation revision parent { id }
  pruning { rule step value threshold comparedTrials rung }
`;

export const EXPERIMENT_FIELDS = /* GraphQL */ `
  id name status description config scheduler maxJobs maxConcurrent stopThreshold createdAt
  objective { metric direction }
  jobCounts { queued running succeeded failed pruned cancelled total }
`;

export const EXPERIMENT = /* GraphQL */ `
  query Experiment($id: ID!) { logPosition experiment(id: $id) { ${EXPERIMENT_FIELDS} } }
`;

/**
 * One page of the experiment's jobs in creation order (at most 1,000: the server's page limit), and
 * the log position the read models had reached: the first page's is where the live feed starts.
 */
export const TRIAL_PAGE = /* GraphQL */ `
  query TrialPage($id: ID!, $first: Int!, $after: String) {
    logPosition
    experiment(id: $id) {
      jobs(first: $first, after: $after) {
        edges { node { ${TRIAL_FIELDS} } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

/** Learning curves for a page of trials: the objective metric downsampled to `buckets` intervals. */
export const CURVE_PAGE = /* GraphQL */ `
  query CurvePage($id: ID!, $first: Int!, $after: String, $metric: String!, $buckets: Int!) {
    experiment(id: $id) {
      jobs(first: $first, after: $after) {
        edges {
          node {
            id
            metrics(names: [$metric]) {
              buckets(count: $buckets) {
                last {
                  step
                  value
                }
                min
                max
              }
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`;

/** The curves of a few named trials in one request (aliases t0, t1…): the throttled refresh after metrics reports. */
export function curvesOf(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$id${i}: ID!`).join(', ');
  const fields = Array.from(
    { length: count },
    (_, i) =>
      `t${i}: job(id: $id${i}) { id metrics(names: [$metric]) { buckets(count: $buckets) { last { step value } min max } } }`,
  ).join('\n');
  return `query Curves(${variables}, $metric: String!, $buckets: Int!) {\n${fields}\n}`;
}

/** Every event of every job of the experiment, from `after` (exclusive), each with the job as it now is. */
export const JOB_CHANGES = /* GraphQL */ `
  subscription ExperimentJobs($id: ID!, $after: String) {
    experimentJobsChanged(experimentId: $id, after: $after) { position type job { ${TRIAL_FIELDS} } }
  }
`;

/** The experiment's own stream (created, paused, resumed, finished), after the position read with the experiment. */
export const EXPERIMENT_EVENTS = /* GraphQL */ `
  subscription ExperimentEvents($streamId: String!, $after: String) {
    events(filter: { streamId: $streamId }, after: $after) {
      position
      type
    }
  }
`;

export const ACTIONS = {
  pause: 'mutation Pause($id: ID!) { pauseExperiment(input: { experimentId: $id }) { id status } }',
  resume: 'mutation Resume($id: ID!) { resumeExperiment(input: { experimentId: $id }) { id status } }',
  finish: 'mutation Finish($id: ID!) { finishExperiment(input: { experimentId: $id }) { id status } }',
} as const;
