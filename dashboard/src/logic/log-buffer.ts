// The job page's log lines in memory: a window of contiguous offsets holding at most `capacity`
// lines, whatever the log's length. Live lines push the oldest out; "load earlier" pages backward
// and, once the window is full, drops the newest instead, leaving the live tail: the lines that
// keep arriving are then only counted, and going back to the tail reads its last lines again.

export interface LogLine {
  offset: number;
  stream: 'STDOUT' | 'STDERR';
  text: string;
  timestamp: string;
}

export interface LogWindow {
  readonly capacity: number;
  /** Lines in offset order, contiguous. */
  readonly lines: readonly LogLine[];
  /** True while the window ends at the newest line received (live lines join it). */
  readonly atTail: boolean;
  /** The highest offset received (live lines included): where the live feed resumes after a drop. */
  readonly lastOffset: number;
}

/** How many lines the page keeps in memory: about 1 MB at 200 characters a line. */
export const LOG_LINES_KEPT = 5000;

export function emptyLog(capacity = LOG_LINES_KEPT): LogWindow {
  return { capacity, lines: [], atTail: true, lastOffset: -1 };
}

/** Live lines (in offset order; any already seen are ignored, so a resumed feed cannot repeat one). */
export function appendLive(window: LogWindow, arrived: readonly LogLine[]): LogWindow {
  const fresh = arrived.filter((line) => line.offset > window.lastOffset);
  if (fresh.length === 0) return window;
  const lastOffset = fresh[fresh.length - 1]!.offset;
  if (!window.atTail) return { ...window, lastOffset };
  const joined =
    window.lines.length + fresh.length > window.capacity
      ? [...window.lines, ...fresh].slice(-window.capacity)
      : [...window.lines, ...fresh];
  return { ...window, lines: joined, lastOffset };
}

/** Lines read before the window's first (a page from "load earlier"). */
export function prependEarlier(window: LogWindow, earlier: readonly LogLine[]): LogWindow {
  const first = window.lines[0]?.offset ?? Infinity;
  const older = earlier.filter((line) => line.offset < first);
  if (older.length === 0) return window;
  const joined = [...older, ...window.lines];
  if (joined.length <= window.capacity) return { ...window, lines: joined };
  return { ...window, lines: joined.slice(0, window.capacity), atTail: false };
}

/** The window replaced by the log's last lines (opening the page, or going back to the tail). */
export function replaceWithTail(window: LogWindow, tail: readonly LogLine[]): LogWindow {
  const lines = tail.slice(-window.capacity);
  const lastOffset = Math.max(window.lastOffset, lines[lines.length - 1]?.offset ?? -1);
  return { ...window, lines, atTail: true, lastOffset };
}

/** Lines received since the window left the tail (shown as "N newer lines"). */
export function newerLines(window: LogWindow): number {
  if (window.atTail) return 0;
  const last = window.lines[window.lines.length - 1]?.offset ?? -1;
  return window.lastOffset - last;
}

/**
 * The `logs(first, after)` arguments of the page before the window, or null at the log's start.
 * Offsets are contiguous from 0, so the page ending just before offset f starts at f - first.
 */
export function earlierPage(window: LogWindow, pageSize: number): { first: number; after: string | null } | null {
  const first = window.lines[0]?.offset;
  if (first === undefined || first <= 0) return null;
  const start = Math.max(0, first - pageSize);
  return { first: first - start, after: start === 0 ? null : String(start - 1) };
}

/** The `logs(first, after)` arguments of the last `count` lines of a log `length` lines long. */
export function tailPage(length: number, count: number): { first: number; after: string | null } | null {
  if (length <= 0) return null;
  const start = Math.max(0, length - count);
  return { first: length - start, after: start === 0 ? null : String(start - 1) };
}
