// The job's log: its last lines, then live ones over `jobLogBatches`, resumed after a drop from the last
// offset received (so no line is missed or repeated). At most LOG_LINES_KEPT lines stay in memory;
// "load earlier" pages backward through `logs(first, after)` (offsets are contiguous from 0).
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { frameQueue } from '../../lib/frame';
import { describeError, live, request } from '../../lib/graphql';
import { setParams } from '../../lib/route';
import { highlightSegments, matchesQuery } from '../../logic/highlight';
import { jobPageParams } from '../../logic/job-url';
import {
  appendLive,
  earlierPage,
  emptyLog,
  LOG_LINES_KEPT,
  newerLines,
  prependEarlier,
  replaceWithTail,
  tailPage,
  type LogLine,
  type LogWindow,
} from '../../logic/log-buffer';
import {
  JOB_LOGS,
  LOG_LENGTH_QUERY,
  LOG_PAGE_QUERY,
  jobOrPastVariables,
  type LogLengthAnswer,
  type LogPageAnswer,
} from './queries';
import { useVirtualRows } from '../../components/virtual-table';

const ROW_HEIGHT = 20;
/** Lines read when the page opens, and per "load earlier". */
const PAGE = 1000;

async function readPage(
  jobId: string,
  revision: number | null,
  page: { first: number; after: string | null },
): Promise<LogLine[]> {
  const data = await request<LogPageAnswer>(LOG_PAGE_QUERY, { ...jobOrPastVariables(jobId, revision), ...page });
  return (data.live ?? data.past)?.logs.edges.map((edge) => edge.node) ?? [];
}

async function readTail(jobId: string, revision: number | null, length?: number): Promise<LogLine[]> {
  let total = length;
  if (total === undefined) {
    const data = await request<LogLengthAnswer>(LOG_LENGTH_QUERY, jobOrPastVariables(jobId, revision));
    total = (data.live ?? data.past)?.logLength ?? 0;
  }
  const page = tailPage(total, PAGE);
  return page ? readPage(jobId, revision, page) : [];
}

export function LogTail({
  jobId,
  revision,
  query,
  pastLength,
}: {
  jobId: string;
  revision: number | null;
  query: string;
  pastLength: number | null;
}) {
  const [log, setLog] = useState<LogWindow>(() => emptyLog());
  const logRef = useRef(log);
  logRef.current = log;
  const [follow, setFollow] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const scroller = useRef<HTMLDivElement>(null);
  const ended = useRef(false);

  const update = (next: (window: LogWindow) => LogWindow) => {
    logRef.current = next(logRef.current);
    setLog(logRef.current);
  };

  useEffect(() => {
    let stopped = false;
    let stopLive = () => {};
    const queue = frameQueue<LogLine>((lines) => update((window) => appendLive(window, lines)));
    logRef.current = emptyLog();
    setLog(logRef.current);
    setLoading(true);
    setError(null);
    ended.current = false;
    // A past job's log is what it had at that revision: read, not followed.
    readTail(jobId, revision, pastLength ?? undefined)
      .then((tail) => {
        if (stopped) return;
        update((window) => replaceWithTail(window, tail));
        setLoading(false);
        if (revision !== null) return;
        stopLive = live<{ jobLogBatches: { lines: LogLine[] } }>({
          query: JOB_LOGS,
          // Resumes after the last offset received, whether it was shown or only counted.
          variables: () => ({ jobId, afterOffset: logRef.current.lastOffset >= 0 ? logRef.current.lastOffset : null }),
          next: (data) => {
            for (const line of data.jobLogBatches.lines) queue.push(line);
          },
          error: (failure) => setError(describeError(failure)),
          complete: () => (ended.current = true),
        });
      })
      .catch((failure: unknown) => {
        if (stopped) return;
        setError(describeError(failure));
        setLoading(false);
      });
    return () => {
      stopped = true;
      queue.cancel();
      stopLive();
    };
  }, [jobId, revision, pastLength]);

  const shown = useMemo(
    () => (query ? log.lines.filter((line) => matchesQuery(line.text, query)) : log.lines),
    [log.lines, query],
  );
  const { virtualizer: rows } = useVirtualRows({
    count: shown.length,
    rowHeight: ROW_HEIGHT,
    overscan: 20,
    scrollRef: scroller,
  });

  // Following: the newest line stays in view as lines arrive.
  useLayoutEffect(() => {
    if (follow && log.atTail && shown.length > 0) rows.scrollToIndex(shown.length - 1, { align: 'end' });
  }, [shown, follow]);

  const loadEarlier = async () => {
    const page = earlierPage(logRef.current, PAGE);
    if (!page) return;
    try {
      const earlier = await readPage(jobId, revision, page);
      const before = scroller.current?.scrollTop ?? 0;
      const added = earlier.filter(
        (line) => line.offset < (logRef.current.lines[0]?.offset ?? Infinity) && matchesQuery(line.text, query),
      ).length;
      setFollow(false);
      update((window) => prependEarlier(window, earlier));
      // Keep the lines the person was reading where they were.
      requestAnimationFrame(() => scroller.current && (scroller.current.scrollTop = before + added * ROW_HEIGHT));
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  const backToTail = async () => {
    try {
      const tail = await readTail(jobId, revision, logRef.current.lastOffset + 1);
      update((window) => replaceWithTail(window, tail));
      setFollow(true);
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  // Scrolling up stops following; scrolling back to the bottom follows again.
  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < ROW_HEIGHT * 1.5;
    if (!atBottom && follow) setFollow(false);
    else if (atBottom && !follow && logRef.current.atTail) setFollow(true);
  };

  const newer = newerLines(log);
  const canLoadEarlier = earlierPage(log, PAGE) !== null;
  const firstOffset = log.lines[0]?.offset;
  const lastOffset = log.lines[log.lines.length - 1]?.offset;

  return (
    <section class="job-logs">
      <div class="toolbar">
        <input
          type="search"
          placeholder="Search the log"
          aria-label="Search the log"
          data-testid="log-search"
          value={query}
          onInput={(event) => setParams(jobPageParams({ query: (event.target as HTMLInputElement).value }))}
        />
        {revision === null && (
          <button
            type="button"
            data-testid="log-follow"
            aria-pressed={follow}
            onClick={() => (follow ? setFollow(false) : log.atTail ? setFollow(true) : void backToTail())}
          >
            {follow ? 'Pause' : 'Follow'}
          </button>
        )}
        <button
          type="button"
          data-testid="log-load-earlier"
          disabled={!canLoadEarlier}
          onClick={() => void loadEarlier()}
        >
          Load earlier
        </button>
        {newer > 0 && (
          <button type="button" data-testid="log-newer" onClick={() => void backToTail()}>
            {newer.toLocaleString()} newer lines: back to the end
          </button>
        )}
        <span class="muted" data-testid="log-summary">
          {firstOffset === undefined
            ? loading
              ? 'loading…'
              : 'no lines yet'
            : `lines ${firstOffset + 1}–${lastOffset! + 1}${query ? `, ${shown.length} matching` : ''} · keeps the last ${LOG_LINES_KEPT.toLocaleString()} in memory`}
          {revision !== null && ` · as at revision ${revision}`}
          {revision === null && !follow && log.atTail && ' · paused'}
        </span>
      </div>
      {error && <p class="error">{error}</p>}
      <div
        class="log-view mono"
        ref={scroller}
        onScroll={onScroll}
        data-testid="log-view"
        data-following={follow && log.atTail ? 'true' : 'false'}
      >
        <div class="log-rows" style={{ height: `${rows.getTotalSize()}px` }}>
          {rows.getVirtualItems().map((item) => {
            const line = shown[item.index]!;
            return (
              <div
                key={line.offset}
                class={`log-line${line.stream === 'STDERR' ? ' log-stderr' : ''}`}
                data-testid="log-line"
                data-offset={line.offset}
                data-stream={line.stream}
                style={{ transform: `translateY(${item.start}px)` }}
              >
                <span class="log-offset">{line.offset + 1}</span>
                {line.stream === 'STDERR' && (
                  <span class="log-stream" title="standard error">
                    err
                  </span>
                )}
                <span class="log-text">
                  {highlightSegments(line.text, query).map((segment, i) =>
                    segment.match ? <mark key={i}>{segment.text}</mark> : segment.text,
                  )}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}
