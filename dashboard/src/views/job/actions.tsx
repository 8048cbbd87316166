// Cancel and retry, for the roles that may (the server refuses the others anyway), each asked to
// be confirmed, with the server's answer shown when it refuses.
import { useState } from 'preact/hooks';
import { describeError, request } from '../../lib/graphql';
import { may } from '../../lib/session';
import { CANCEL_JOB, RETRY_JOB, type JobStatus } from './queries';

type Action = 'cancel' | 'retry';

const ACTIONS: Record<Action, { label: string; question: string; document: string; when: JobStatus[] }> = {
  cancel: {
    label: 'Cancel',
    question: 'Cancel this job? A running job is asked to stop.',
    document: CANCEL_JOB,
    when: ['QUEUED', 'RUNNING'],
  },
  retry: { label: 'Retry', question: 'Queue this job again?', document: RETRY_JOB, when: ['FAILED', 'CANCELLED'] },
};

export function JobActions({ jobId, status }: { jobId: string; status: JobStatus }) {
  const [asking, setAsking] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!may('editJobs')) return null;
  const available = (Object.keys(ACTIONS) as Action[]).filter((action) => ACTIONS[action].when.includes(status));
  if (available.length === 0 && !error) return null;

  const run = async (action: Action) => {
    setBusy(true);
    setError(null);
    try {
      await request(ACTIONS[action].document, { jobId });
      setAsking(null);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="job-actions" data-testid="job-actions">
      {asking === null ? (
        available.map((action) => (
          <button
            key={action}
            type="button"
            data-testid={`job-${action}`}
            onClick={() => (setAsking(action), setError(null))}
          >
            {ACTIONS[action].label}
          </button>
        ))
      ) : (
        <span class="job-confirm" role="alertdialog" aria-label={ACTIONS[asking].question}>
          {ACTIONS[asking].question}{' '}
          <button type="button" data-testid="job-confirm" disabled={busy} onClick={() => void run(asking)}>
            Yes, {ACTIONS[asking].label.toLowerCase()}
          </button>{' '}
          <button type="button" disabled={busy} onClick={() => setAsking(null)}>
            No
          </button>
        </span>
      )}
      {error && (
        <span class="error" role="alert" data-testid="job-action-error">
          {error}
        </span>
      )}
    </div>
  );
}
