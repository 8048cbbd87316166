// The optimization history's columns (trial number, the objective per status, the best so far),
// patched by live changes instead of rebuilt: a changed trial rewrites its row, a new one appends a
// row, and the best-so-far line is recomputed from the first changed row on. The arrays are kept
// and mutated in place (uPlot reads them again on setData). Changes are told by identity (see
// logic/changed-slots.ts). Rows follow the trials' `index`; while the trials come in that order (the
// page keeps them in creation order) a slot is its row, otherwise every change rebuilds (sorting).
import { bestSoFarFrom, type Direction } from './best-so-far.js';
import { changedSlots } from './changed-slots.js';

export interface HistoryTrial {
  index: number;
  status: string;
  objectiveValue: number | null;
}

export class HistoryColumns<T extends HistoryTrial> {
  /** Trials by row (sorted by index). */
  rows: readonly T[] = [];
  readonly x: number[] = [];
  /** One column per status (the value where the row's trial has that status, null elsewhere). */
  readonly byStatus: (number | null)[][];
  readonly best: (number | null)[] = [];
  private items: readonly T[] = [];
  private inOrder = true;
  private direction: Direction | null = null;

  constructor(
    private readonly statuses: readonly string[],
    /** Trials that count toward the best so far. */
    private readonly counts: (trial: T) => boolean,
  ) {
    this.byStatus = statuses.map(() => []);
  }

  /** Takes the next trials; returns whether any column changed. */
  update(next: readonly T[], direction: Direction): boolean {
    const changed =
      this.direction === direction && this.inOrder
        ? changedSlots(this.items, next, Math.max(64, next.length / 4))
        : null;
    this.items = next;
    this.direction = direction;
    if (changed === null || !changed.every((i) => i >= next.length || this.fitsRow(next, i))) {
      this.rebuild(next);
      return true;
    }
    if (!changed.length) return false;
    this.rows = next;
    for (const i of changed) if (i < next.length) this.write(i, next[i]!);
    this.truncate(next.length);
    bestSoFarFrom(this.best, changed[0]!, next.length, (i) => this.scored(i), direction);
    return true;
  }

  /** Whether the trial at slot i keeps the rows in index order (so slot i is its row). */
  private fitsRow(next: readonly T[], i: number): boolean {
    const index = next[i]!.index;
    return (i === 0 || next[i - 1]!.index < index) && (i + 1 >= next.length || index < next[i + 1]!.index);
  }

  private rebuild(next: readonly T[]): void {
    this.inOrder = next.every((t, i) => i === 0 || next[i - 1]!.index < t.index);
    const rows = this.inOrder ? next : [...next].sort((a, b) => a.index - b.index);
    this.rows = rows;
    rows.forEach((t, i) => this.write(i, t));
    this.truncate(rows.length);
    bestSoFarFrom(this.best, 0, rows.length, (i) => this.scored(i), this.direction!);
  }

  private write(row: number, trial: T): void {
    this.x[row] = trial.index;
    this.statuses.forEach(
      (status, s) => (this.byStatus[s]![row] = trial.status === status ? trial.objectiveValue : null),
    );
  }

  private truncate(length: number): void {
    this.x.length = length;
    for (const column of this.byStatus) column.length = length;
  }

  private scored(row: number) {
    const trial = this.rows[row]!;
    return { objectiveValue: trial.objectiveValue, counts: this.counts(trial) };
  }
}
