import { useSignal } from '@preact/signals';
import { useEffect, useMemo } from 'preact/hooks';
import { frameQueue } from '../lib/frame';
import { liveFrom } from '../lib/graphql';
import { useNow } from '../lib/now';
import { formatCountdown, groupByWorker, leaseSecondsLeft, progressPercent } from '../logic/workers';
import { formatTime, readJobsById, type JobRow } from './lists/jobs-data';
import { liveJobList } from './lists/live-jobs';
import './lists/lists.css';

// The job events that move a running job's lease or progress (src/domain/job/events.ts): a heartbeat,
// and a claim that takes over an expired lease (the job stays RUNNING under another worker).
const LEASE_EVENT_TYPES = ['JobHeartbeat', 'JobClaimed'];

const LEASE_EVENTS = `subscription LeaseEvents($after: String, $filter: EventFilter) {
  events(after: $after, filter: $filter) { position streamId timestamp }
}`;

/** Running jobs grouped by worker: lease countdowns, last heartbeat, progress, all live. */
export function WorkersView(_props: { id: string }) {
  const list = useMemo(
    () =>
      liveJobList({
        filterInput: { status: ['RUNNING'] },
        matches: (job) => job.status === 'RUNNING',
        experimentId: null,
      }),
    [],
  );
  const heartbeats = useSignal<ReadonlyMap<string, string>>(new Map());
  // A local clock for the countdowns: nothing is asked of the server by this tick.
  const now = useNow(true);

  useEffect(() => {
    const stopHeartbeats = followLeases(list.started, list.rows.peek.bind(list.rows), (jobs, at) => {
      list.apply(jobs);
      const next = new Map(heartbeats.peek());
      for (const [id, time] of at) next.set(id, time);
      // Only running jobs' heartbeats are kept: the map cannot outgrow the list.
      const running = new Set(list.rows.peek().map((job) => job.id));
      for (const id of next.keys()) if (!running.has(id)) next.delete(id);
      heartbeats.value = next;
    });
    return () => {
      stopHeartbeats();
      list.stop();
    };
  }, [list]);

  const groups = groupByWorker(list.rows.value);
  return (
    <section class="list-view">
      <h1>Workers</h1>
      <p class="muted list-count" data-testid="running-count">
        {list.totalCount.value === null
          ? 'loading…'
          : `${list.rows.value.length} running job${list.rows.value.length === 1 ? '' : 's'} on ${groups.length} worker${groups.length === 1 ? '' : 's'}`}
      </p>
      {list.error.value && <p class="error">{list.error.value}</p>}
      {groups.length === 0 && !list.loading.value && <p class="muted">No job is running.</p>}
      {groups.map((group) => (
        <section key={group.workerId} class="worker-group" data-testid="worker-group" data-worker-id={group.workerId}>
          <h2 class="mono">{group.workerId}</h2>
          <table class="list-table">
            <thead>
              <tr>
                <th>Job</th>
                <th>Experiment</th>
                <th>Started</th>
                <th>Lease left</th>
                <th>Last heartbeat</th>
                <th>Progress</th>
              </tr>
            </thead>
            <tbody>
              {group.jobs.map((job) => (
                <RunningJobRow key={job.id} job={job} now={now} lastHeartbeat={heartbeats.value.get(job.id) ?? null} />
              ))}
            </tbody>
          </table>
        </section>
      ))}
      {list.hasNextPage.value && (
        <button
          type="button"
          data-testid="load-more"
          disabled={list.loading.value}
          onClick={() => void list.loadMore()}
        >
          Load more
        </button>
      )}
    </section>
  );
}

function RunningJobRow({ job, now, lastHeartbeat }: { job: JobRow; now: number; lastHeartbeat: string | null }) {
  const left = leaseSecondsLeft(job.leaseExpiresAt, now);
  const percent = progressPercent(job.progress);
  return (
    <tr data-testid="worker-job" data-job-id={job.id}>
      <td class="mono">
        <a href={`/jobs/${encodeURIComponent(job.id)}`}>{job.id}</a>
      </td>
      <td>
        {job.experiment ? (
          <a href={`/experiments/${encodeURIComponent(job.experiment.id)}`}>{job.experiment.name}</a>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td>{formatTime(job.startedAt)}</td>
      <td
        data-testid="lease-left"
        class={left === null ? 'muted' : left < 0 ? 'lease-expired' : left < 10 ? 'lease-soon' : ''}
      >
        {formatCountdown(left)}
      </td>
      <td data-testid="last-heartbeat">
        {lastHeartbeat ? formatTime(lastHeartbeat) : <span class="muted">none since opened</span>}
      </td>
      <td data-testid="progress">
        {percent === null ? (
          <span class="muted">—</span>
        ) : (
          <>
            <span class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
              <span ref={(bar) => void (bar && (bar.style.width = `${percent}%`))} />
            </span>{' '}
            {percent}%
          </>
        )}
      </td>
    </tr>
  );
}

/**
 * Follows heartbeats (and lease takeovers) of the jobs on screen: each frame's events name the jobs
 * to read again, one request for all of them, one read in flight at a time. Starts after the log
 * position the list's first page was read at (a heartbeat before it is in that page, one after it
 * comes here), and resumes from the last position after a lost connection.
 */
function followLeases(
  started: Promise<string | null>,
  shown: () => readonly JobRow[],
  update: (jobs: JobRow[], heartbeatAt: Map<string, string>) => void,
): () => void {
  let pending = new Map<string, string>();
  let reading = false;
  let stopped = false;

  const read = async () => {
    if (reading || pending.size === 0 || stopped) return;
    const batch = pending;
    pending = new Map();
    reading = true;
    try {
      const jobs = await readJobsById(batch.keys());
      if (!stopped) update(jobs, batch);
    } catch {
      // A failed read leaves the rows as they were; the next heartbeat reads them again.
    } finally {
      reading = false;
      if (pending.size > 0) void read();
    }
  };

  const queue = frameQueue<{ streamId: string; at: string }>((events) => {
    const onScreen = new Set(shown().map((job) => job.id));
    for (const { streamId, at } of events) {
      const id = streamId.slice('job-'.length);
      if (onScreen.has(id)) pending.set(id, at);
    }
    void read();
  });

  let stop: (() => void) | null = null;
  void started.then((after) => {
    if (stopped) return;
    // Null only when the log was empty: then `events` reads from its start, which holds nothing to skip.
    stop = liveFrom<{ events: { position: string; streamId: string; timestamp: string } }>(after, {
      query: LEASE_EVENTS,
      variables: (after) => ({ after, filter: { category: 'job', types: LEASE_EVENT_TYPES } }),
      positionOf: ({ events }) => events.position,
      next: ({ events }) => queue.push({ streamId: events.streamId, at: events.timestamp }),
    });
  });
  return () => {
    stopped = true;
    queue.cancel();
    stop?.();
  };
}
