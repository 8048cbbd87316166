// The PBT lineage tree: one column per generation, each trial linked to the parent whose weights
// (and, after an exploit, hyperparameters) it started from. Rows stay with a line of descent: the
// child that kept its parent's hyperparameters (the member continuing itself) takes its parent's
// row, and any other child (an exploit, then explore) the free row nearest to its parent. So a
// level edge is a continuation and an edge that jumps rows an exploit. Pure: the view only scales
// rows and columns to pixels.

export interface LineageInput {
  id: string;
  index: number;
  generation: number;
  parentId: string | null;
  hyperparameters: Record<string, unknown>;
}

export interface LineageNode {
  id: string;
  /** The column: the trial's generation. */
  column: number;
  /** The row, 0 at the top; a member continuing itself keeps its row across columns. */
  row: number;
  /** Null for a first-generation trial, or when the parent is not among the trials given. */
  parentId: string | null;
}

export interface LineageLayout {
  nodes: LineageNode[];
  /** Parent → child, both in `nodes`. */
  edges: { from: string; to: string }[];
  columns: number;
  /** Rows in use (the largest row + 1). */
  rows: number;
}

/** What explore changed between a parent and its child (`hyperparameterDiff`, or a cache of it: see DiffCache). */
export type ChangesOf = (parent: LineageInput, child: LineageInput) => Change[];

const diffOf: ChangesOf = (parent, child) => hyperparameterDiff(parent.hyperparameters, child.hyperparameters);

export function lineageLayout(trials: readonly LineageInput[], changesOf: ChangesOf = diffOf): LineageLayout {
  const byId = new Map(trials.map((t) => [t.id, t]));
  const byGeneration = new Map<number, LineageInput[]>();
  for (const trial of trials) {
    const list = byGeneration.get(trial.generation) ?? [];
    list.push(trial);
    byGeneration.set(trial.generation, list);
  }
  const generations = [...byGeneration.keys()].sort((a, b) => a - b);
  const first = generations[0] ?? 0;
  const rowOf = new Map<string, number>();
  const nodes: LineageNode[] = [];
  const edges: { from: string; to: string }[] = [];
  let rows = 0;
  for (const generation of generations) {
    const parentOf = (t: LineageInput) => {
      const parent = t.parentId !== null ? byId.get(t.parentId) : undefined;
      return parent && parent.generation < generation && rowOf.has(parent.id) ? parent : undefined;
    };
    const wanted = (t: LineageInput) => {
      const parent = parentOf(t);
      return parent ? rowOf.get(parent.id)! : Infinity;
    };
    const column = byGeneration
      .get(generation)!
      .sort((a, b) => wanted(a) - wanted(b) || a.index - b.index || (a.id < b.id ? -1 : 1));
    const used = new Set<number>();
    const placed = new Map<string, number>();
    // First the continuations: one child per parent, the first that kept every hyperparameter.
    for (const trial of column) {
      const parent = parentOf(trial);
      if (!parent) continue;
      const row = rowOf.get(parent.id)!;
      if (used.has(row) || changesOf(parent, trial).length) continue;
      used.add(row);
      placed.set(trial.id, row);
    }
    // Then everyone else, as near their parent's row as is free (trials without a parent: the first free rows).
    for (const trial of column) {
      if (placed.has(trial.id)) continue;
      const target = wanted(trial);
      const row = nearestFree(used, Number.isFinite(target) ? target : 0);
      used.add(row);
      placed.set(trial.id, row);
    }
    for (const trial of column) {
      const row = placed.get(trial.id)!;
      rowOf.set(trial.id, row);
      rows = Math.max(rows, row + 1);
      const parent = parentOf(trial);
      nodes.push({ id: trial.id, column: generation - first, row, parentId: parent ? parent.id : null });
      if (parent) edges.push({ from: parent.id, to: trial.id });
    }
  }
  return { nodes, edges, columns: generations.length ? generations[generations.length - 1]! - first + 1 : 0, rows };
}

/**
 * Whether the layout could differ between two lists of trials, given the slots whose trial is a new
 * object (`changed`, from changedSlots; null: too many to say). A live change that only moves a
 * trial's status or objective (most of them) keeps the layout; an added or removed trial, or a new
 * parent, generation or hyperparameters, lays it out again.
 */
export function layoutMayDiffer(
  previous: readonly LineageInput[],
  next: readonly LineageInput[],
  changed: readonly number[] | null,
): boolean {
  if (changed === null || previous.length !== next.length) return true;
  for (const i of changed) {
    const a = previous[i]!;
    const b = next[i]!;
    if (a.id !== b.id || a.index !== b.index || a.generation !== b.generation || a.parentId !== b.parentId) return true;
    if (a.hyperparameters !== b.hyperparameters && hyperparameterDiff(a.hyperparameters, b.hyperparameters).length)
      return true;
  }
  return false;
}

/**
 * `hyperparameterDiff` of a parent and a child, remembered per child object (and recomputed when its
 * parent is another object): trials are replaced, never mutated, so the same pair gives the same diff,
 * and a live change recomputes the diffs of the trials it replaced only.
 */
export class DiffCache {
  private readonly cache = new WeakMap<LineageInput, { parent: LineageInput; changes: Change[] }>();

  readonly of: ChangesOf = (parent, child) => {
    const cached = this.cache.get(child);
    if (cached && cached.parent === parent) return cached.changes;
    const changes = hyperparameterDiff(parent.hyperparameters, child.hyperparameters);
    this.cache.set(child, { parent, changes });
    return changes;
  };
}

/** The free row nearest to `target` (the upper one on a tie). */
function nearestFree(used: ReadonlySet<number>, target: number): number {
  for (let distance = 0; ; distance++) {
    if (target - distance >= 0 && !used.has(target - distance)) return target - distance;
    if (!used.has(target + distance)) return target + distance;
  }
}

export type Change =
  | { name: string; kind: 'scaled'; from: number; to: number; factor: number }
  | { name: string; kind: 'changed'; from: unknown; to: unknown }
  | { name: string; kind: 'added'; to: unknown }
  | { name: string; kind: 'removed'; from: unknown };

/**
 * What explore did between a parent's hyperparameters and its child's: a number multiplied by a
 * factor (PBT's perturb), any other change of value (a resample), a parameter added or removed.
 * Unchanged parameters are left out; an empty list means the child kept its parent's values.
 */
export function hyperparameterDiff(parent: Record<string, unknown>, child: Record<string, unknown>): Change[] {
  const changes: Change[] = [];
  const names = [...new Set([...Object.keys(parent), ...Object.keys(child)])].sort();
  for (const name of names) {
    const inParent = Object.hasOwn(parent, name);
    const inChild = Object.hasOwn(child, name);
    const from = parent[name];
    const to = child[name];
    if (!inParent) changes.push({ name, kind: 'added', to });
    else if (!inChild) changes.push({ name, kind: 'removed', from });
    else if (sameValue(from, to)) continue;
    else if (
      typeof from === 'number' &&
      typeof to === 'number' &&
      from !== 0 &&
      Number.isFinite(to / from) &&
      to / from > 0
    ) {
      changes.push({ name, kind: 'scaled', from, to, factor: to / from });
    } else changes.push({ name, kind: 'changed', from, to });
  }
  return changes;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
