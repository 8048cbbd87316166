// The axes of the parallel coordinates chart: each hyperparameter (and the objective) becomes a
// numeric axis (log when its values span two decades or more, as learning rates do) or a
// categorical one (strings, booleans, mixed values). Positions are fractions 0..1 along the axis.

export type Axis =
  | { kind: 'linear' | 'log'; name: string; min: number; max: number }
  | { kind: 'categorical'; name: string; categories: string[] };

/** Two decades or more between the smallest and largest (positive) value draw on a log axis. */
export const LOG_SPAN = 100;

/** A category's label: strings as they are, anything else as JSON. */
export function categoryOf(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

export function inferAxis(name: string, values: readonly unknown[]): Axis {
  let min = Infinity;
  let max = -Infinity;
  let numeric = true;
  let present = 0;
  for (const value of values) {
    if (value === null || value === undefined) continue;
    present++;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      numeric = false;
      break;
    }
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (numeric && present > 0) {
    const kind = min > 0 && max / min >= LOG_SPAN ? 'log' : 'linear';
    return { kind, name, min, max };
  }
  if (present === 0) return { kind: 'linear', name, min: 0, max: 1 };
  const categories = new Set<string>();
  for (const value of values) if (value !== null && value !== undefined) categories.add(categoryOf(value));
  return { kind: 'categorical', name, categories: [...categories].sort(naturalOrder) };
}

const collator = new Intl.Collator(undefined, { numeric: true });
/** The order of a categorical axis: numbers inside labels compare as numbers ("2" before "10"). */
export const naturalOrder = (a: string, b: string) => collator.compare(a, b);

/** Where a value sits on the axis, 0 (bottom) to 1 (top); null for a value the axis cannot place. */
export function position(axis: Axis, value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (axis.kind === 'categorical') {
    const i = axis.categories.indexOf(categoryOf(value));
    if (i < 0) return null;
    return axis.categories.length === 1 ? 0.5 : i / (axis.categories.length - 1);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  if (axis.max === axis.min) return 0.5;
  if (axis.kind === 'log') {
    if (value <= 0) return null;
    return (Math.log(value) - Math.log(axis.min)) / (Math.log(axis.max) - Math.log(axis.min));
  }
  return (value - axis.min) / (axis.max - axis.min);
}

/** The value at a position on a numeric axis (the inverse of `position`). */
export function valueAt(axis: Extract<Axis, { kind: 'linear' | 'log' }>, at: number): number {
  if (axis.kind === 'log') return Math.exp(Math.log(axis.min) + at * (Math.log(axis.max) - Math.log(axis.min)));
  return axis.min + at * (axis.max - axis.min);
}

export interface Tick {
  at: number;
  label: string;
}

/** Labels along an axis: every category (thinned to `most`), powers of ten on a log axis, round steps otherwise. */
export function ticks(axis: Axis, most = 6): Tick[] {
  if (axis.kind === 'categorical') {
    const every = Math.max(1, Math.ceil(axis.categories.length / most));
    return axis.categories.flatMap((label, i) => (i % every === 0 ? [{ at: position(axis, label)!, label }] : []));
  }
  if (axis.max === axis.min) return [{ at: 0.5, label: formatNumber(axis.min) }];
  if (axis.kind === 'log') {
    const from = Math.ceil(Math.log10(axis.min) - 1e-9);
    const to = Math.floor(Math.log10(axis.max) + 1e-9);
    const every = Math.max(1, Math.ceil((to - from + 1) / most));
    const out: Tick[] = [];
    for (let e = from; e <= to; e += every) out.push({ at: position(axis, 10 ** e)!, label: formatNumber(10 ** e) });
    return out;
  }
  const step = niceStep((axis.max - axis.min) / Math.max(1, most - 1));
  const out: Tick[] = [];
  for (let v = Math.ceil(axis.min / step) * step; v <= axis.max + step * 1e-9; v += step) {
    out.push({ at: position(axis, v)!, label: formatNumber(Number(v.toPrecision(12))) });
  }
  return out;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/** Short, exact enough for a label or a URL: 3 significant digits, exponent form when tiny or huge. */
export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(3)));
}
