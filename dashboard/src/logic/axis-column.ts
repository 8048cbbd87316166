// One axis of the parallel coordinates chart kept up to date value by value: what `inferAxis` would
// answer for the column's values, without reading the whole column on each live change. It keeps
// counts (values present, values not numeric, each category) and the numeric extremes; only taking
// away a value that was an extreme makes it read the column again.
import { categoryOf, LOG_SPAN, naturalOrder, type Axis } from './axis-scale.js';

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const absent = (value: unknown) => value === null || value === undefined;

export class AxisColumn {
  private readonly values: unknown[] = [];
  private present = 0;
  private notNumbers = 0;
  private readonly categories = new Map<string, number>();
  private min = Infinity;
  private max = -Infinity;
  private extremesStale = false;
  private current: Axis;

  constructor(readonly name: string) {
    this.current = this.compute();
  }

  get length(): number {
    return this.values.length;
  }

  value(slot: number): unknown {
    return this.values[slot];
  }

  /** Slot `slot` now holds `value` (slots past the end are added). */
  set(slot: number, value: unknown): void {
    if (slot < this.values.length) this.remove(this.values[slot]);
    this.values[slot] = value;
    this.add(value);
  }

  /** Slots from `length` on are gone. */
  truncate(length: number): void {
    for (let slot = length; slot < this.values.length; slot++) this.remove(this.values[slot]);
    this.values.length = Math.min(this.values.length, length);
  }

  /** The axis for the values now; the same object as last time when it did not change. */
  axis(): Axis {
    const next = this.compute();
    if (!sameAxis(next, this.current)) this.current = next;
    return this.current;
  }

  private add(value: unknown): void {
    if (absent(value)) return;
    this.present++;
    const category = categoryOf(value);
    this.categories.set(category, (this.categories.get(category) ?? 0) + 1);
    if (!isNumber(value)) this.notNumbers++;
    else {
      if (value < this.min) this.min = value;
      if (value > this.max) this.max = value;
    }
  }

  private remove(value: unknown): void {
    if (absent(value)) return;
    this.present--;
    const category = categoryOf(value);
    const count = (this.categories.get(category) ?? 1) - 1;
    if (count > 0) this.categories.set(category, count);
    else this.categories.delete(category);
    if (!isNumber(value)) this.notNumbers--;
    else if (value === this.min || value === this.max) this.extremesStale = true;
  }

  private compute(): Axis {
    const { name } = this;
    if (this.present === 0) return { kind: 'linear', name, min: 0, max: 1 };
    if (this.notNumbers > 0)
      return { kind: 'categorical', name, categories: [...this.categories.keys()].sort(naturalOrder) };
    if (this.extremesStale) {
      this.min = Infinity;
      this.max = -Infinity;
      for (const value of this.values) {
        if (!isNumber(value)) continue;
        if (value < this.min) this.min = value;
        if (value > this.max) this.max = value;
      }
      this.extremesStale = false;
    }
    const { min, max } = this;
    return { kind: min > 0 && max / min >= LOG_SPAN ? 'log' : 'linear', name, min, max };
  }
}

function sameAxis(a: Axis, b: Axis): boolean {
  if (a.kind !== b.kind || a.name !== b.name) return false;
  if (a.kind === 'categorical' || b.kind === 'categorical') {
    const x = (a as Extract<Axis, { kind: 'categorical' }>).categories;
    const y = (b as Extract<Axis, { kind: 'categorical' }>).categories;
    return x.length === y.length && x.every((c, i) => c === y[i]);
  }
  return a.min === b.min && a.max === b.max;
}
