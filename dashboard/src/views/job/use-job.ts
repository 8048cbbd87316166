// The job the page shows: the live one (queried, then kept current by `jobUpdated`), or the job as
// it stood at a revision (`jobAt`) while the time slider is moved back.
import { useEffect, useState } from 'preact/hooks';
import { frameQueue } from '../../lib/frame';
import { GraphQLRequestError, live, request } from '../../lib/graphql';
import { JOB_AT_QUERY, JOB_QUERY, JOB_UPDATED, type JobFields } from './queries';

export interface Loaded<T> {
  value: T | null;
  error: GraphQLRequestError | null;
  loading: boolean;
}

/** The newer of two states of the same job: answers can arrive out of order. */
function newer(current: JobFields | null, candidate: JobFields): JobFields {
  return current && current.revision > candidate.revision ? current : candidate;
}

/**
 * The live job. `jobUpdated` sends the whole job on every change, so nothing needs replaying: each
 * (re)subscribe names the newest revision shown, and the server sends the job first when it has moved
 * past it. Updates are taken at most once per frame (the newest wins).
 */
export function useLiveJob(id: string): Loaded<JobFields> {
  const [state, setState] = useState<Loaded<JobFields>>({ value: null, error: null, loading: true });
  useEffect(() => {
    let stopped = false;
    const accept = (job: JobFields | null) => {
      if (stopped) return;
      if (!job)
        return setState((s) => ({
          ...s,
          loading: false,
          error: new GraphQLRequestError(`job ${id} not found`, 'NOT_FOUND'),
        }));
      setState((s) => ({ value: newer(s.value, job), error: null, loading: false }));
    };
    const fail = (error: unknown) => {
      if (stopped) return;
      const failure =
        error instanceof GraphQLRequestError ? error : new GraphQLRequestError(String(error), 'INTERNAL_SERVER_ERROR');
      setState((s) => ({ ...s, loading: false, error: failure }));
    };
    // The newest revision shown: a resubscribe asks for the job only if it has moved past it.
    let shownRevision = -1;
    const show = (job: JobFields | null) => {
      if (job) shownRevision = Math.max(shownRevision, job.revision);
      accept(job);
    };
    // A first answer over HTTP paints the page while the socket is still being opened.
    void request<{ job: JobFields | null }>(JOB_QUERY, { id }).then((data) => show(data.job), fail);
    const updates = frameQueue<JobFields>((jobs) => show(jobs.reduce((a, b) => newer(a, b))));
    const stop = live<{ jobUpdated: JobFields }>({
      query: JOB_UPDATED,
      // The server joins the job's feed, then sends the job first if it moved past this revision:
      // a change made while the connection was down (or before the subscription was active) arrives.
      variables: () => ({ id, afterRevision: shownRevision }),
      next: (data) => updates.push(data.jobUpdated),
      error: fail,
    });
    return () => {
      stopped = true;
      updates.cancel();
      stop();
    };
  }, [id]);
  return state;
}

/** The job as it stood at `revision` (null: nothing to read). The newest asked-for revision wins. */
export function usePastJob(id: string, revision: number | null): Loaded<JobFields> {
  const [state, setState] = useState<Loaded<JobFields>>({ value: null, error: null, loading: false });
  useEffect(() => {
    if (revision === null) return setState({ value: null, error: null, loading: false });
    const abort = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    // A slider dragged across 50 revisions asks for the one it stops at, not all 50.
    const timer = setTimeout(() => {
      request<{ jobAt: JobFields | null }>(JOB_AT_QUERY, { id, revision }, abort.signal).then(
        (data) =>
          setState({
            value: data.jobAt,
            error: data.jobAt ? null : new GraphQLRequestError(`job ${id} has no revision ${revision}`, 'NOT_FOUND'),
            loading: false,
          }),
        (error: unknown) => {
          if (abort.signal.aborted) return;
          setState({
            value: null,
            error:
              error instanceof GraphQLRequestError
                ? error
                : new GraphQLRequestError(String(error), 'INTERNAL_SERVER_ERROR'),
            loading: false,
          });
        },
      );
    }, 80);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [id, revision]);
  return state;
}
