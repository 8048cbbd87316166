// Colours for the experiment charts, read from the theme's CSS variables at draw time so a theme
// switch recolours canvases too (canvas cannot use var(--x) itself).
import type { TrialStatus } from '../trial';

export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** Learning curves and history points by status: pruned ones stand out from finished ones. */
export const STATUS_VARIABLE: Record<TrialStatus, string> = {
  SUCCEEDED: '--accent',
  RUNNING: '--ok',
  QUEUED: '--ok',
  PRUNED: '--warn',
  FAILED: '--bad',
  CANCELLED: '--muted',
};

export const STATUSES: TrialStatus[] = ['SUCCEEDED', 'PRUNED', 'RUNNING', 'QUEUED', 'FAILED', 'CANCELLED'];

/** Viridis, sampled: legible on both themes and for colour-blind readers; the last colour is the best objective. */
const RAMP = [
  '#440154',
  '#482878',
  '#3e4989',
  '#31688e',
  '#26828e',
  '#1f9e89',
  '#35b779',
  '#6ece58',
  '#b5de2b',
  '#fde725',
];

export const RAMP_SIZE = RAMP.length;

/** The colour of bucket `i` (0 worst … RAMP_SIZE - 1 best). */
export function rampColor(i: number): string {
  return RAMP[Math.max(0, Math.min(RAMP.length - 1, i))]!;
}

/** The bucket of a position 0..1 along the objective (already oriented so 1 is best). */
export function rampBucket(at: number): number {
  return Math.max(0, Math.min(RAMP.length - 1, Math.floor(at * RAMP.length)));
}

/** A theme colour as RGB for pixel work: `#rgb` / `#rrggbb` (the themes' form); grey otherwise. */
export function rgbOf(colour: string): [number, number, number] {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour)?.[1];
  if (!hex) return [136, 136, 136];
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
}
