// The PBT lineage tree: one column per generation, each trial linked to the parent whose weights
// (and, after an exploit, hyperparameters) it started from. Within a column, trials sit in the
// order of their parents' rows, so a member that continues its own line stays level and an exploit
// shows as an edge that jumps rows. Pure: the view only scales rows and columns to pixels.

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
  /** The row within its column, 0 at the top. */
  row: number;
  /** Null for a first-generation trial, or when the parent is not among the trials given. */
  parentId: string | null;
}

export interface LineageLayout {
  nodes: LineageNode[];
  /** Parent → child, both in `nodes`. */
  edges: { from: string; to: string }[];
  columns: number;
  /** The tallest column's height. */
  rows: number;
}

export function lineageLayout(trials: readonly LineageInput[]): LineageLayout {
  const byId = new Map(trials.map((t) => [t.id, t]));
  const byGeneration = new Map<number, LineageInput[]>();
  for (const trial of trials) {
    const list = byGeneration.get(trial.generation) ?? [];
    list.push(trial);
    byGeneration.set(trial.generation, list);
  }
  const generations = [...byGeneration.keys()].sort((a, b) => a - b);
  const rowOf = new Map<string, number>();
  const nodes: LineageNode[] = [];
  const edges: { from: string; to: string }[] = [];
  let rows = 0;
  const first = generations[0] ?? 0;
  for (const generation of generations) {
    // A parent placed in an earlier column orders its children; orphans (parent unknown) go last.
    const key = (t: LineageInput) => {
      const parentRow = t.parentId !== null ? rowOf.get(t.parentId) : undefined;
      return parentRow ?? Infinity;
    };
    const column = byGeneration.get(generation)!.sort((a, b) => key(a) - key(b) || a.index - b.index || (a.id < b.id ? -1 : 1));
    column.forEach((trial, row) => {
      rowOf.set(trial.id, row);
      const parentKnown = trial.parentId !== null && byId.has(trial.parentId) && byId.get(trial.parentId)!.generation < generation;
      nodes.push({ id: trial.id, column: generation - first, row, parentId: parentKnown ? trial.parentId : null });
      if (parentKnown) edges.push({ from: trial.parentId!, to: trial.id });
    });
    rows = Math.max(rows, column.length);
  }
  return { nodes, edges, columns: generations.length ? generations[generations.length - 1]! - first + 1 : 0, rows };
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
    else if (typeof from === 'number' && typeof to === 'number' && from !== 0 && Number.isFinite(to / from) && to / from > 0) {
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
