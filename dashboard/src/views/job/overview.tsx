// What the job is and where it stands: status, timings, lease, inputs and outputs.
import type { ComponentChildren } from 'preact';
import { durationBetween, formatDuration, leaseCountdown } from '../../logic/durations';
import { formatValue } from '../../logic/pruning';
import { useNow } from '../../lib/now';
import type { JobFields } from './queries';

function time(iso: string | null): ComponentChildren {
  if (!iso) return <span class="muted">–</span>;
  return (
    <time dateTime={iso} title={iso}>
      {new Date(iso).toLocaleString()}
    </time>
  );
}

function Field({ label, children, testId }: { label: string; children: ComponentChildren; testId?: string }) {
  return (
    <div class="job-field" data-testid={testId}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** JSON as text in a <pre>: shown inert (never HTML), whatever a worker put in it. */
function JsonBlock({ value, testId }: { value: unknown; testId?: string }) {
  const empty = value === null || value === undefined || (typeof value === 'object' && Object.keys(value).length === 0);
  if (empty) return <p class="muted">none</p>;
  return (
    <pre class="job-json" data-testid={testId}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function JobOverview({ job, live }: { job: JobFields; live: boolean }) {
  const running = job.status === 'RUNNING';
  const now = useNow(live && running);
  // A past job that was running then has no end to measure to (now is not "then").
  const duration = live || job.finishedAt ? durationBetween(job.startedAt, job.finishedAt, now) : null;
  return (
    <section class="job-overview">
      <dl class="job-fields">
        <Field label="Status" testId="job-field-status">
          <span class={`status status-${job.status}`}>{job.status}</span>
        </Field>
        <Field label="Created">{time(job.createdAt)}</Field>
        <Field label="Started">{time(job.startedAt)}</Field>
        <Field label="Finished">{time(job.finishedAt)}</Field>
        <Field label="Duration" testId="job-duration">
          {duration === null ? <span class="muted">{running ? 'running then' : '–'}</span> : formatDuration(duration)}
          {running && live && duration !== null && <span class="muted"> so far</span>}
        </Field>
        <Field label="Attempts">
          {job.attempts} of {job.maxAttempts}
        </Field>
        <Field label="Priority">{job.priority}</Field>
        <Field label="Labels">
          {job.labels.length ? (
            job.labels.map((label) => (
              <span key={label} class="job-label">
                {label}
              </span>
            ))
          ) : (
            <span class="muted">none</span>
          )}
        </Field>
        <Field label="Worker" testId="job-worker">
          {job.workerId ?? <span class="muted">–</span>}
        </Field>
        <Field label="Lease" testId="lease-countdown">
          {job.leaseExpiresAt ? (
            <span title={job.leaseExpiresAt}>
              {live
                ? leaseCountdown(job.leaseExpiresAt, now)
                : `until ${new Date(job.leaseExpiresAt).toLocaleString()}`}
            </span>
          ) : (
            <span class="muted">–</span>
          )}
        </Field>
        <Field label="Progress" testId="job-progress">
          {job.progress === null ? (
            <span class="muted">–</span>
          ) : (
            <span class="job-progress">
              <progress max={1} value={job.progress} /> {Math.round(job.progress * 100)}%
            </span>
          )}
        </Field>
        <Field label="Objective">
          {job.objectiveValue === null ? <span class="muted">–</span> : formatValue(job.objectiveValue)}
          {job.experiment?.objective && (
            <span class="muted">
              {' '}
              ({job.experiment.objective.metric}, {job.experiment.objective.direction.toLowerCase()})
            </span>
          )}
        </Field>
        <Field label="Experiment" testId="job-experiment">
          {job.experiment ? (
            <a href={`/experiments/${encodeURIComponent(job.experiment.id)}`}>{job.experiment.name}</a>
          ) : (
            <span class="muted">none</span>
          )}
        </Field>
        <Field label="Parent" testId="job-parent">
          {job.parent ? (
            <a href={`/jobs/${encodeURIComponent(job.parent.id)}`}>{job.parent.id}</a>
          ) : (
            <span class="muted">none</span>
          )}
          {job.generation > 0 && <span class="muted"> (generation {job.generation})</span>}
        </Field>
        {job.algorithmId && (
          <Field label="Algorithm">
            {job.algorithmId} v{job.algorithmVersion}
          </Field>
        )}
        <Field label="Revision">{job.revision}</Field>
      </dl>
      {job.error && (
        <>
          <h2>Error</h2>
          <pre class="job-json error" data-testid="job-error">
            {job.error}
          </pre>
        </>
      )}
      <div class="job-blocks">
        <div>
          <h2>Hyperparameters</h2>
          <JsonBlock value={job.hyperparameters} testId="job-hyperparameters" />
        </div>
        <div>
          <h2>Params</h2>
          <JsonBlock value={job.params} testId="job-params" />
        </div>
        <div>
          <h2>Result</h2>
          <JsonBlock value={job.result} testId="job-result" />
        </div>
      </div>
      <h2>Artifacts</h2>
      {job.artifacts.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <table data-testid="job-artifacts">
          <thead>
            <tr>
              <th>Name</th>
              <th>URI</th>
              <th>SHA-256</th>
              <th>Metadata</th>
            </tr>
          </thead>
          <tbody>
            {job.artifacts.map((artifact) => (
              <tr key={artifact.name}>
                <td>{artifact.name}</td>
                {/* Shown as text, not a link: a worker chose this URI. */}
                <td class="mono">{artifact.uri}</td>
                <td class="mono" title={artifact.sha256 ?? undefined}>
                  {artifact.sha256 ? `${artifact.sha256.slice(0, 12)}…` : '–'}
                </td>
                <td class="mono">{artifact.metadata ? JSON.stringify(artifact.metadata) : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
