/**
 * Live changes merged into a paged list, in place: the list stays in the server's order (oldest
 * first by creation), a row that no longer matches the filter leaves, one that now matches comes in
 * where it belongs (if that place is within the pages loaded so far), and an older snapshot of a row
 * never overwrites a newer one (changes and page reads race).
 */
export interface MergeableRow {
  id: string;
  /** The stream revision the row was read at: higher is newer. */
  revision: number;
  createdAt: string;
}

export interface MergeOptions<T> {
  matches: (row: T) => boolean;
  /** True when every page has been loaded: a matching row newer than the last loaded one is appended. */
  complete: boolean;
}

/** Orders as the server lists: by creation, then id (ties in creation time are rare). */
function byCreation(a: MergeableRow, b: MergeableRow): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The newest snapshot of each row among the updates (one frame may carry several per job). */
export function latestById<T extends MergeableRow>(updates: readonly T[]): T[] {
  const latest = new Map<string, T>();
  for (const update of updates) {
    const seen = latest.get(update.id);
    if (!seen || update.revision >= seen.revision) latest.set(update.id, update);
  }
  return [...latest.values()];
}

/** Returns `rows` itself when nothing changed, so a frame without visible change renders nothing. */
export function mergeRows<T extends MergeableRow>(
  rows: readonly T[],
  updates: readonly T[],
  options: MergeOptions<T>,
): readonly T[] {
  let result: T[] | null = null;
  const current = () => (result ??= [...rows]);
  for (const update of latestById(updates)) {
    const list = result ?? rows;
    const index = list.findIndex((row) => row.id === update.id);
    if (index >= 0) {
      if (update.revision < list[index]!.revision) continue;
      if (options.matches(update)) current()[index] = update;
      else current().splice(index, 1);
      continue;
    }
    if (!options.matches(update)) continue;
    const last = list[list.length - 1];
    // Beyond the last loaded row and more pages to load: "load more" will bring it.
    if (!options.complete && (!last || byCreation(update, last) > 0)) continue;
    const at = list.findIndex((row) => byCreation(update, row) < 0);
    current().splice(at < 0 ? list.length : at, 0, update);
  }
  return result ?? rows;
}
