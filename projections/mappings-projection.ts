/** The algorithm registry and the training mappings as read models. */
import { parseOnce } from './parse-once.js';
import type { Database } from 'better-sqlite3';
import { mappingKind, registryKind } from '../src/domain/mapping/kinds.js';
import { evolveMapping, type MappingState } from '../src/domain/mapping/mapping.js';
import type { RecordedEvent } from '../src/store/port.js';
import type { Projection } from './projection.js';

export const MAPPINGS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS algorithms (
    interaction_id    TEXT NOT NULL,
    algorithm_id      TEXT NOT NULL,
    algorithm_version INTEGER NOT NULL,
    PRIMARY KEY (interaction_id, algorithm_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS mappings (
    id               TEXT PRIMARY KEY,
    entity_id        TEXT NOT NULL,
    entity_version   INTEGER NOT NULL,
    state_name       TEXT NOT NULL,
    interaction_id   TEXT NOT NULL,
    created_position TEXT NOT NULL,
    revision         INTEGER NOT NULL,
    state            TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS mappings_by_created ON mappings (created_position);
  CREATE INDEX IF NOT EXISTS mappings_by_entity ON mappings (entity_id, entity_version, state_name);
  CREATE TABLE IF NOT EXISTS mapping_jobs (
    mapping_id   TEXT NOT NULL,
    algorithm_id TEXT NOT NULL,
    job_id       TEXT NOT NULL,
    PRIMARY KEY (mapping_id, algorithm_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS mapping_jobs_by_job ON mapping_jobs (job_id);
`;

export function mappingsProjection(db: Database): Projection {
  db.exec(MAPPINGS_SCHEMA);
  const register = db.prepare(
    `INSERT INTO algorithms (interaction_id, algorithm_id, algorithm_version) VALUES (?, ?, ?)
     ON CONFLICT (interaction_id, algorithm_id) DO UPDATE SET algorithm_version = excluded.algorithm_version`,
  );
  const retire = db.prepare('DELETE FROM algorithms WHERE interaction_id = ? AND algorithm_id = ?');
  const selectMapping = db.prepare<[string], { state: string }>('SELECT state FROM mappings WHERE id = ?');
  const upsertMapping = db.prepare(
    `INSERT INTO mappings (id, entity_id, entity_version, state_name, interaction_id, created_position, revision, state)
     VALUES (@id, @entityId, @entityVersion, @stateName, @interactionId, @createdPosition, @revision, @state)
     ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, state = excluded.state`,
  );
  const clearJobs = db.prepare('DELETE FROM mapping_jobs WHERE mapping_id = ?');
  const insertJob = db.prepare('INSERT INTO mapping_jobs (mapping_id, algorithm_id, job_id) VALUES (?, ?, ?)');
  return {
    name: 'mappings',
    tables: ['algorithms', 'mappings', 'mapping_jobs'],
    apply(recorded: RecordedEvent) {
      if (registryKind.holds(recorded)) {
        const event = parseOnce(recorded, registryKind.parse);
        if (event.type === 'AlgorithmRegistered') {
          register.run(event.data.interactionId, event.data.algorithmId, event.data.algorithmVersion);
        } else {
          retire.run(event.data.interactionId, event.data.algorithmId);
        }
        return;
      }
      if (!mappingKind.holds(recorded)) return;
      const before = selectMapping.get(mappingKind.idOf(recorded.streamId));
      const state = evolveMapping(
        before ? (JSON.parse(before.state) as MappingState) : undefined,
        parseOnce(recorded, mappingKind.parse),
      );
      upsertMapping.run({
        id: state.id,
        entityId: state.entityId,
        entityVersion: state.entityVersion,
        stateName: state.stateName,
        interactionId: state.interactionId,
        createdPosition: recorded.position,
        revision: Number(recorded.revision),
        state: JSON.stringify(state),
      });
      clearJobs.run(state.id);
      for (const [algorithmId, { jobId }] of Object.entries(state.jobs)) insertJob.run(state.id, algorithmId, jobId);
    },
  };
}
