/**
 * Rebuilds every read model from position zero into a database, a page of
 * the log per transaction (not one per event), and records the checkpoint as
 * the runner does, so the result can be compared with, or used as, live read
 * models. What `trialog replay` and the rebuild tests use.
 */
import type { Database } from 'better-sqlite3';
import type { EventStore } from '../src/store/port.js';
import { applyBatch, type ProjectionFactory } from './projection.js';
import { CHECKPOINT_NAME } from './checkpoint.js';
import { ensureReadModelVersion } from './read-model-version.js';

export interface RebuildProgress {
  events: number;
  position: string | undefined;
}

export async function rebuildReadModels(
  store: EventStore,
  db: Database,
  factories: readonly ProjectionFactory[],
  options: { upTo?: string; pageSize?: number; onProgress?: (progress: RebuildProgress) => void } = {},
): Promise<RebuildProgress> {
  ensureReadModelVersion(db);
  const projections = factories.map((make) => make(db));
  const writeCheckpoint = db.prepare(
    `INSERT INTO projection_checkpoints (name, position) VALUES (?, ?)
     ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
  );
  const pageSize = options.pageSize ?? 5000;
  const progress: RebuildProgress = { events: 0, position: undefined };
  for (;;) {
    // A page is cut at 32 MiB of data too, so megabyte events do not make a page of gigabytes.
    let page = await store.readAll({ after: progress.position, maxCount: pageSize, maxBytes: 32 * 1024 * 1024 });
    if (options.upTo !== undefined) page = page.filter((event) => event.position <= options.upTo!);
    if (page.length === 0) break;
    db.transaction(() => {
      applyBatch(projections, page);
      writeCheckpoint.run(CHECKPOINT_NAME, page[page.length - 1]!.position);
    })();
    progress.events += page.length;
    progress.position = page[page.length - 1]!.position;
    options.onProgress?.(progress);
  }
  return progress;
}
