// Every event of the job, oldest first, a page at a time, growing live as the job changes; and the
// time slider that shows the job as it stood at any revision (`?rev=12`).
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, request } from '../../lib/graphql';
import { setParams } from '../../lib/route';
import { jobPageParams } from '../../logic/job-url';
import { HISTORY_QUERY, type HistoryAnswer, type HistoryEvent } from './queries';

const PAGE = 100;

/**
 * The history's events. Paged forward with `history(first, after)`; when the live job's revision
 * passes the last event read and no page is left, the next page is read (so it follows the job).
 */
export function JobHistory({
  jobId,
  liveRevision,
  selected,
}: {
  jobId: string;
  liveRevision: number;
  selected: number | null;
}) {
  const [events, setEvents] = useState<HistoryEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const reading = useRef(false);

  const readNext = async () => {
    if (reading.current) return;
    reading.current = true;
    try {
      const data = await request<HistoryAnswer>(HISTORY_QUERY, { id: jobId, first: PAGE, after: cursor });
      const page = data.job?.history;
      if (!page) return;
      setEvents((before) => [
        ...before,
        ...page.edges
          .map((edge) => edge.node)
          .filter((event) => event.revision > (before[before.length - 1]?.revision ?? -1)),
      ]);
      if (page.pageInfo.endCursor) setCursor(page.pageInfo.endCursor);
      setHasMore(page.pageInfo.hasNextPage);
      setError(null);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      reading.current = false;
    }
  };

  const lastRead = events[events.length - 1]?.revision ?? -1;
  useEffect(() => {
    // The first page, then whenever the job moved past what was read and no page is waiting.
    if (events.length === 0 || (!hasMore && liveRevision > lastRead)) void readNext();
  }, [jobId, liveRevision, lastRead, hasMore]);

  return (
    <section class="job-history">
      {error && <p class="error">{error}</p>}
      <table data-testid="job-history">
        <thead>
          <tr>
            <th>Rev.</th>
            <th>Event</th>
            <th>Time</th>
            <th>Actor</th>
            <th>Correlation</th>
            <th>Causation</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <HistoryRow key={event.id} event={event} selected={event.revision === selected} />
          ))}
        </tbody>
      </table>
      {hasMore && (
        <button type="button" data-testid="history-more" onClick={() => void readNext()}>
          Load more
        </button>
      )}
    </section>
  );
}

function short(id: string | undefined): string {
  if (!id) return '–';
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}

function HistoryRow({ event, selected }: { event: HistoryEvent; selected: boolean }) {
  const [open, setOpen] = useState(false);
  const { actor, correlationId, causationId } = event.metadata;
  return (
    <>
      <tr
        data-testid="history-event"
        data-revision={event.revision}
        data-type={event.type}
        class={selected ? 'history-selected' : undefined}
      >
        <td>{event.revision}</td>
        <td>
          <button type="button" class="link-button" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? '▾' : '▸'} {event.type}
          </button>
        </td>
        <td>
          <time dateTime={event.timestamp} title={event.timestamp}>
            {new Date(event.timestamp).toLocaleString()}
          </time>
        </td>
        <td>{actor ?? '–'}</td>
        <td class="mono" title={correlationId}>
          {short(correlationId)}
        </td>
        <td class="mono" title={causationId}>
          {short(causationId)}
        </td>
        <td>
          <a href={`?tab=history&rev=${event.revision}`} data-testid="history-view-at">
            view as of here
          </a>
        </td>
      </tr>
      {open && (
        <tr class="history-data">
          <td colSpan={7}>
            <pre class="job-json" data-testid="history-data">
              {JSON.stringify(
                { data: event.data, metadata: event.metadata, position: event.position, id: event.id },
                null,
                2,
              )}
            </pre>
          </td>
        </tr>
      )}
    </>
  );
}

/** A slider over revisions 0..the live revision; its end is the live job. */
export function TimeSlider({ liveRevision, selected }: { liveRevision: number; selected: number | null }) {
  const value = selected ?? liveRevision;
  const choose = (revision: number) =>
    setParams(jobPageParams({ revision: revision >= liveRevision ? null : revision }));
  return (
    <div class="time-travel">
      <label>
        <span>Revision</span>
        <input
          type="range"
          min={0}
          max={liveRevision}
          step={1}
          value={value}
          data-testid="time-slider"
          aria-valuetext={
            selected === null ? `live (revision ${liveRevision})` : `revision ${selected} of ${liveRevision}`
          }
          onInput={(event) => choose(Number((event.target as HTMLInputElement).value))}
        />
      </label>
      <span data-testid="time-slider-value">
        {selected === null ? (
          <>
            live <span class="muted">(revision {liveRevision})</span>
          </>
        ) : (
          <>
            revision {selected} of {liveRevision}{' '}
            <button type="button" onClick={() => choose(liveRevision)}>
              Back to live
            </button>
          </>
        )}
      </span>
    </div>
  );
}
