// Brushed ranges of the parallel coordinates chart, kept in the URL so a copied link shows the same
// selection: `?pc=lr:0.001..0.01,optimizer:adam|sgd` (a numeric range, or a set of categories).
// Names and categories are percent-encoded inside the parameter when they hold a separator.
import { categoryOf, valueAt, type Axis } from './axis-scale.js';

export type Brush = { kind: 'range'; min: number; max: number } | { kind: 'categories'; values: string[] };

export type Brushes = Map<string, Brush>;

const escape = (text: string) => text.replace(/[%,:|]/g, (c) => encodeURIComponent(c));
const unescape = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** Reads the `pc` parameter; malformed entries are ignored (a hand-edited URL must not break the page). */
export function parseBrushes(text: string | null): Brushes {
  const brushes: Brushes = new Map();
  if (!text) return brushes;
  for (const entry of text.split(',')) {
    const colon = entry.lastIndexOf(':');
    if (colon <= 0) continue;
    const name = unescape(entry.slice(0, colon));
    const body = entry.slice(colon + 1);
    const range = /^(.+?)\.\.(.+)$/.exec(body);
    const min = range ? Number(range[1]) : NaN;
    const max = range ? Number(range[2]) : NaN;
    if (range && Number.isFinite(min) && Number.isFinite(max)) {
      brushes.set(name, { kind: 'range', min: Math.min(min, max), max: Math.max(min, max) });
    } else if (body !== '') {
      brushes.set(name, { kind: 'categories', values: body.split('|').map(unescape) });
    }
  }
  return brushes;
}

/** The `pc` parameter for these brushes; null when there are none (the parameter is removed). */
export function formatBrushes(brushes: Brushes): string | null {
  const entries = [...brushes].map(([name, brush]) =>
    brush.kind === 'range'
      ? `${escape(name)}:${brush.min}..${brush.max}`
      : `${escape(name)}:${brush.values.map(escape).join('|')}`,
  );
  return entries.length ? entries.join(',') : null;
}

/** Whether a value lies inside a brush (a missing value never does). */
export function inBrush(brush: Brush, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (brush.kind === 'categories') return brush.values.includes(categoryOf(value));
  return typeof value === 'number' && value >= brush.min && value <= brush.max;
}

/** Whether a row of values passes every brush (name → value read by `valueOf`). */
export function passesAll(brushes: Brushes, valueOf: (name: string) => unknown): boolean {
  for (const [name, brush] of brushes) if (!inBrush(brush, valueOf(name))) return false;
  return true;
}

/** The brush made by dragging an axis between two positions (0..1). */
export function brushBetween(axis: Axis, from: number, to: number, round: (v: number) => number = Number): Brush {
  const low = Math.max(0, Math.min(from, to));
  const high = Math.min(1, Math.max(from, to));
  if (axis.kind === 'categorical') {
    const n = axis.categories.length;
    const values = axis.categories.filter((_, i) => {
      const at = n === 1 ? 0.5 : i / (n - 1);
      return at >= low && at <= high;
    });
    return { kind: 'categories', values };
  }
  return { kind: 'range', min: round(valueAt(axis, low)), max: round(valueAt(axis, high)) };
}
