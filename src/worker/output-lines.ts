/**
 * What the worker reads from a training command's output: plain log lines,
 * and the two kinds of line it acts on instead of logging:
 *
 *   TRIALOG_METRIC {"name":"loss","value":0.31,"step":12}
 *   TRIALOG_METRIC [{"name":"loss","value":0.31},{"name":"acc","value":0.9}]
 *   TRIALOG_PROGRESS 0.42
 *
 * The same JSON shape (an object or an array of them, one per line) is read
 * from the file named by TRIALOG_METRICS_FILE.
 */
import { METRIC_NAME } from '../domain/job/decide.js';
import type { MetricPointInput } from '../client/client.js';

export const METRIC_PREFIX = 'TRIALOG_METRIC ';
export const PROGRESS_PREFIX = 'TRIALOG_PROGRESS ';

/** Longest log line sent, in UTF-8 bytes (the server's default limit is 64 KiB); longer ones are cut. */
export const MAX_LINE_BYTES = 60 * 1024;

export type OutputLine =
  | { kind: 'log'; text: string }
  | { kind: 'metrics'; points: MetricPointInput[] }
  | { kind: 'progress'; value: number }
  /** A line that looked like a report but was not a valid one: logged as it was, with the reason. */
  | { kind: 'invalid'; text: string; reason: string };

export function classifyLine(line: string): OutputLine {
  if (line.startsWith(METRIC_PREFIX)) {
    const parsed = parseMetricJson(line.slice(METRIC_PREFIX.length));
    return 'points' in parsed
      ? { kind: 'metrics', points: parsed.points }
      : { kind: 'invalid', text: line, reason: parsed.error };
  }
  if (line.startsWith(PROGRESS_PREFIX)) {
    const value = Number(line.slice(PROGRESS_PREFIX.length).trim());
    if (Number.isFinite(value) && value >= 0 && value <= 1) return { kind: 'progress', value };
    return { kind: 'invalid', text: line, reason: 'progress must be a number from 0 to 1' };
  }
  return { kind: 'log', text: truncateLine(line) };
}

/** Points from one JSON text: an object `{name, value, step?, timestamp?}` or an array of them. */
export function parseMetricJson(text: string): { points: MetricPointInput[] } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'not JSON' };
  }
  const items = Array.isArray(value) ? value : [value];
  const points: MetricPointInput[] = [];
  for (const item of items) {
    const point = metricPoint(item);
    if (typeof point === 'string') return { error: point };
    points.push(point);
  }
  return { points };
}

function metricPoint(item: unknown): MetricPointInput | string {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'a metric must be a JSON object';
  const { name, value, step, timestamp } = item as Record<string, unknown>;
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) return `metric name must match ${METRIC_NAME.source}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `metric ${name}: value must be a finite number`;
  if (step !== undefined && step !== null && (!Number.isSafeInteger(step) || (step as number) < 0)) {
    return `metric ${name}: step must be a whole number >= 0`;
  }
  if (
    timestamp !== undefined &&
    timestamp !== null &&
    (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp)))
  ) {
    return `metric ${name}: timestamp must be an ISO date-time`;
  }
  return {
    name,
    value,
    ...(typeof step === 'number' && { step }),
    ...(typeof timestamp === 'string' && { timestamp: new Date(timestamp).toISOString() }),
  };
}

export function truncateLine(line: string): string {
  if (Buffer.byteLength(line) <= MAX_LINE_BYTES) return line;
  // A character is at most 4 UTF-8 bytes: this many always fit.
  return `${line.slice(0, MAX_LINE_BYTES / 4)}… [line cut at ${MAX_LINE_BYTES / 4} characters by the worker]`;
}
