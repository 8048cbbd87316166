// The job page: what the job is and how it went (details and metric charts), its live log, its
// history with a time slider over its revisions, and cancel/retry for the roles that may. Its state
// is in the URL: `?tab=logs&q=loss&rev=12`.
import { setParams, searchParams } from '../../lib/route';
import { JOB_TABS, jobPageParams, parseJobPageState, type JobTab } from '../../logic/job-url';
import { pruningSentence } from '../../logic/pruning';
import { JobActions } from './actions';
import { JobHistory, TimeSlider } from './history';
import { LogTail } from './logs';
import { MetricCharts } from './metrics';
import { JobOverview } from './overview';
import { useLiveJob, usePastJob } from './use-job';
import './job.css';

const TAB_LABELS: Record<JobTab, string> = { overview: 'Overview', logs: 'Logs', history: 'History' };

export function JobView({ id }: { id: string }) {
  const state = parseJobPageState(searchParams.value);
  const current = useLiveJob(id);
  const liveRevision = current.value?.revision ?? 0;
  // A revision past the live one (a link from the future, or a typo) shows the live job.
  const revision = state.revision !== null && state.revision < liveRevision ? state.revision : null;
  const past = usePastJob(id, current.value ? revision : null);
  const job = revision === null ? current.value : (past.value ?? null);

  if (!current.value) {
    return (
      <section class="job-page">
        <h1>Job {id}</h1>
        {current.error ? (
          <p class="error" data-testid="job-error-message">
            {current.error.code === 'NOT_FOUND' ? `No job ${id}.` : `${current.error.code}: ${current.error.message}`}
          </p>
        ) : (
          <p class="muted">loading…</p>
        )}
      </section>
    );
  }

  return (
    <section
      class="job-page"
      data-testid="job-page"
      data-revision={job?.revision}
      data-live={revision === null ? 'true' : 'false'}
    >
      <header class="job-header">
        <h1>
          Job <span class="mono">{id}</span>{' '}
          {job && (
            <span class={`status status-${job.status}`} data-testid="job-status">
              {job.status}
            </span>
          )}
        </h1>
        {revision === null && <JobActions jobId={id} status={current.value.status} />}
      </header>
      <TimeSlider liveRevision={liveRevision} selected={revision} />
      {revision !== null && (
        <p class="job-past-banner" data-testid="job-past-banner">
          {past.loading && !past.value ? 'Reading' : 'Showing'} the job as it stood at revision {revision}
          {past.value && past.value.revision !== revision ? ` (its revision ${past.value.revision})` : ''}; live changes
          are not shown.
        </p>
      )}
      {past.error && <p class="error">{past.error.message}</p>}
      {current.error && <p class="error">{current.error.message}</p>}
      {job?.pruning && (
        <p class="job-pruning" data-testid="pruning-reason" data-step={job.pruning.step}>
          {pruningSentence(job.pruning)}
          {job.experiment?.objective && <span class="muted"> ({job.experiment.objective.metric})</span>}
        </p>
      )}
      <nav class="job-tabs" role="tablist">
        {JOB_TABS.map((tab) => (
          <button
            key={tab}
            type="button"
            role="tab"
            data-testid={`job-tab-${tab}`}
            aria-selected={state.tab === tab}
            onClick={() => setParams(jobPageParams({ tab }))}
          >
            {TAB_LABELS[tab]}
          </button>
        ))}
      </nav>
      {job && state.tab === 'overview' && (
        <>
          <JobOverview job={job} live={revision === null} />
          <h2>Metrics</h2>
          <MetricCharts job={job} revision={revision} />
        </>
      )}
      {state.tab === 'logs' && (
        <LogTail
          jobId={id}
          revision={revision}
          query={state.query}
          pastLength={revision === null ? null : (past.value?.logLength ?? null)}
        />
      )}
      {state.tab === 'history' && <JobHistory jobId={id} liveRevision={liveRevision} selected={revision} />}
    </section>
  );
}
