/** The experiments read model: one row per experiment, folded with the domain's own evolve. */
import { parseOnce } from './parse-once.js';
import type { Database } from 'better-sqlite3';
import { experimentKind } from '../src/domain/experiment/kind.js';
import { evolveExperiment, type ExperimentState } from '../src/domain/experiment/state.js';
import type { RecordedEvent } from '../src/store/port.js';
import type { Projection } from './projection.js';

export const EXPERIMENTS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS experiments (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL,
    created_position TEXT NOT NULL,
    revision         INTEGER NOT NULL,
    state            TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS experiments_by_created ON experiments (created_position);
  CREATE INDEX IF NOT EXISTS experiments_by_status ON experiments (status, created_position);
`;

export function experimentsProjection(db: Database): Projection {
  db.exec(EXPERIMENTS_SCHEMA);
  const selectState = db.prepare<[string], { state: string }>('SELECT state FROM experiments WHERE id = ?');
  const upsert = db.prepare(
    `INSERT INTO experiments (id, name, status, created_position, revision, state)
     VALUES (@id, @name, @status, @createdPosition, @revision, @state)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, revision = excluded.revision, state = excluded.state`,
  );
  return {
    name: 'experiments',
    tables: ['experiments'],
    apply(recorded: RecordedEvent) {
      if (!experimentKind.holds(recorded)) return;
      const id = experimentKind.idOf(recorded.streamId);
      const before = selectState.get(id);
      const state = evolveExperiment(
        before ? (JSON.parse(before.state) as ExperimentState) : undefined,
        parseOnce(recorded, experimentKind.parse),
      )!;
      upsert.run({
        id,
        name: state.settings.name,
        status: state.status,
        createdPosition: recorded.position,
        revision: Number(recorded.revision),
        state: JSON.stringify(state),
      });
    },
  };
}
