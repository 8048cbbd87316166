/** Reads of the registry and the mappings, paged by creation so a migration never holds them all. */
import type { Database } from 'better-sqlite3';
import { statementCache, type PreparedBySql } from '../src/sqlite-statement-cache.js';
import type { MappingState } from '../src/domain/mapping/mapping.js';
import type { Registry } from '../src/domain/mapping/registry.js';
import type { Page } from './jobs-queries.js';

export interface AlgorithmRow {
  interactionId: string;
  algorithmId: string;
  algorithmVersion: number;
}

export interface MappingFilter {
  entityId?: string | null;
  entityVersion?: number | null;
  stateName?: string | null;
}

interface MappingRow {
  state: string;
  created_position: string;
}

export class MappingQueries {
  private readonly byId;
  private readonly otherMappingsOf;

  /** Queries whose SQL is built per call, prepared once per shape. */
  private readonly prepared: PreparedBySql;

  constructor(db: Database) {
    this.prepared = statementCache(db);
    this.otherMappingsOf = db.prepare<[string, string], { mapping_id: string }>(
      'SELECT mapping_id FROM mapping_jobs WHERE job_id = ? AND mapping_id != ? LIMIT 1',
    );
    this.byId = db.prepare<[string], MappingRow>('SELECT state, created_position FROM mappings WHERE id = ?');
  }

  algorithms(): AlgorithmRow[] {
    return this.prepared(
      'SELECT interaction_id, algorithm_id, algorithm_version FROM algorithms ORDER BY interaction_id, algorithm_id',
    )
      .all()
      .map((row) => {
        const r = row as { interaction_id: string; algorithm_id: string; algorithm_version: number };
        return { interactionId: r.interaction_id, algorithmId: r.algorithm_id, algorithmVersion: r.algorithm_version };
      });
  }

  registry(): Registry {
    const registry: Registry = {};
    for (const a of this.algorithms()) (registry[a.interactionId] ??= {})[a.algorithmId] = a.algorithmVersion;
    return registry;
  }

  /** Whether a mapping other than this one maps the job (carried forward mappings share jobs). */
  isShared(jobId: string, exceptMappingId: string): boolean {
    return this.otherMappingsOf.get(jobId, exceptMappingId) !== undefined;
  }

  mapping(id: string): MappingState | undefined {
    const row = this.byId.get(id);
    return row ? (JSON.parse(row.state) as MappingState) : undefined;
  }

  mappings(filter: MappingFilter, first: number, after: string | undefined): Page<MappingState> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const [column, value] of [
      ['entity_id', filter.entityId],
      ['entity_version', filter.entityVersion],
      ['state_name', filter.stateName],
    ] as const) {
      if (value !== undefined && value !== null) {
        where.push(`${column} = ?`);
        params.push(value);
      }
    }
    if (after !== undefined) {
      where.push('created_position > ?');
      params.push(after);
    }
    const rows = this.prepared(
      `SELECT state, created_position FROM mappings ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_position LIMIT ?`,
    ).all(...params, first + 1) as MappingRow[];
    return {
      items: rows
        .slice(0, first)
        .map((row) => ({ cursor: row.created_position, node: JSON.parse(row.state) as MappingState })),
      hasNextPage: rows.length > first,
    };
  }
}
