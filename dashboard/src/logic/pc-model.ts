// The parallel coordinates chart's data, patched by live changes: each trial's position on every axis
// (0..1, NaN when missing) and its colour bucket. A changed trial costs its own row; only when an
// axis itself changes (a value beyond its range, a new category) is that axis's column placed again.
// Changes are told by identity (logic/changed-slots.ts). Each row's positions are a new array when
// the row changes, never written over: a drawing that kept the old one can still take it away.
import { position, type Axis } from './axis-scale.js';
import { AxisColumn } from './axis-column.js';
import { changedSlots } from './changed-slots.js';

export interface PcTrial {
  hyperparameters: Record<string, unknown>;
  objectiveValue: number | null;
}

export interface PcRow {
  /** Position on each axis, 0 (bottom) .. 1 (top), NaN where the trial has no value. */
  positions: Float64Array;
  /** Colour bucket from `bucketOf`, -1 without an objective value. */
  bucket: number;
}

export class PcModel<T extends PcTrial> {
  readonly rows: PcRow[] = [];
  axes: Axis[];
  private readonly columns: AxisColumn[];
  private readonly read: ((t: T) => unknown)[];
  private items: readonly T[] = [];
  private readonly objective: boolean;

  constructor(
    parameters: readonly string[],
    /** The objective's axis name, or null for none (then no last axis and no colours). */
    objectiveName: string | null,
    /** The colour bucket of a position on the objective axis (null: none). */
    private readonly bucketOf: (at: number | null) => number,
  ) {
    this.read = parameters.map((name) => (t: T) => t.hyperparameters[name]);
    const names = [...parameters];
    if (objectiveName !== null) {
      this.read.push((t) => t.objectiveValue);
      names.push(objectiveName);
    }
    this.columns = names.map((name) => new AxisColumn(name));
    this.axes = this.columns.map((c) => c.axis());
    this.objective = objectiveName !== null;
  }

  get count(): number {
    return this.rows.length;
  }

  /** The raw value of row i on axis a (brushes are in data units). */
  value(i: number, a: number): unknown {
    return this.columns[a]!.value(i);
  }

  /** Takes the next trials; returns the rows that changed, or 'all'. */
  update(next: readonly T[]): number[] | 'all' {
    const changed = changedSlots(this.items, next, Math.max(64, next.length / 4));
    this.items = next;
    const slots = changed ?? [...next.keys()];
    for (const i of slots) {
      if (i >= next.length) continue;
      this.columns.forEach((column, a) => column.set(i, this.read[a]!(next[i]!)));
    }
    for (const column of this.columns) column.truncate(next.length);
    this.rows.length = Math.min(this.rows.length, next.length);
    const axes = this.columns.map((c) => c.axis());
    const moved = axes.some((axis, a) => axis !== this.axes[a]);
    this.axes = axes;
    if (moved || changed === null) {
      for (let i = 0; i < next.length; i++) this.place(i);
      return 'all';
    }
    const placed = slots.filter((i) => i < next.length);
    for (const i of placed) this.place(i);
    return placed;
  }

  private place(i: number): void {
    const positions = new Float64Array(this.axes.length);
    this.axes.forEach((axis, a) => (positions[a] = position(axis, this.columns[a]!.value(i)) ?? Number.NaN));
    const objectiveAxis = this.objective ? this.axes[this.axes.length - 1]! : undefined;
    const at = objectiveAxis ? position(objectiveAxis, this.columns[this.axes.length - 1]!.value(i)) : null;
    this.rows[i] = { positions, bucket: this.bucketOf(at) };
  }
}
