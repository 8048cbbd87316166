/** The training mappings table: one row per mapped job (a mapping without jobs keeps one row). */
export interface MappingNode {
  entityId: string;
  entityVersion: number;
  stateName: string;
  interactionId: string;
  carriedFrom: string | null;
  jobs: {
    algorithmId: string;
    job: { id: string; status: string; revision: number; algorithmVersion: number | null };
  }[];
}

export interface MappingRow {
  /** Unique per row: the mapping's key and the algorithm. */
  key: string;
  entityId: string;
  entityVersion: number;
  stateName: string;
  interactionId: string;
  algorithmId: string | null;
  algorithmVersion: number | null;
  jobId: string | null;
  jobStatus: string | null;
}

function mappingKey(m: { entityId: string; entityVersion: number; stateName: string }): string {
  return JSON.stringify([m.entityId, m.entityVersion, m.stateName]);
}

export function mappingRows(mappings: readonly MappingNode[]): MappingRow[] {
  return mappings.flatMap((m): MappingRow[] => {
    const base = {
      entityId: m.entityId,
      entityVersion: m.entityVersion,
      stateName: m.stateName,
      interactionId: m.interactionId,
    };
    if (m.jobs.length === 0)
      return [{ ...base, key: mappingKey(m), algorithmId: null, algorithmVersion: null, jobId: null, jobStatus: null }];
    return [...m.jobs]
      .sort((a, b) => (a.algorithmId < b.algorithmId ? -1 : a.algorithmId > b.algorithmId ? 1 : 0))
      .map((mapped) => ({
        ...base,
        key: `${mappingKey(m)}:${mapped.algorithmId}`,
        algorithmId: mapped.algorithmId,
        algorithmVersion: mapped.job.algorithmVersion,
        jobId: mapped.job.id,
        jobStatus: mapped.job.status,
      }));
  });
}

/**
 * A job's new status (as of `revision` of its stream) written into the mappings that hold it; the same
 * array when none does, or when each already shows that revision or a later one: a change can come
 * twice (in a page read and on the feed) or late (a feed catching up after a page read again).
 */
export function withJobStatus<T extends MappingNode>(
  mappings: readonly T[],
  jobId: string,
  status: string,
  revision: number,
): readonly T[] {
  let changed = false;
  const stale = (job: MappingNode['jobs'][number]['job']) => job.id !== jobId || job.revision >= revision;
  const next = mappings.map((m) => {
    if (m.jobs.every((mapped) => stale(mapped.job))) return m;
    changed = true;
    return {
      ...m,
      jobs: m.jobs.map((mapped) =>
        stale(mapped.job) ? mapped : { ...mapped, job: { ...mapped.job, status, revision } },
      ),
    };
  });
  return changed ? next : mappings;
}

/** The migration form's fields as `MigrateMappingsInput` (blank fields widen the migration). */
export function migrationInput(
  form: { entityId: string; entityVersion: string; stateName: string },
  dryRun: boolean,
): {
  input: Record<string, unknown>;
  error: string | null;
} {
  const input: Record<string, unknown> = { dryRun };
  if (form.entityId.trim()) input.entityId = form.entityId.trim();
  if (form.stateName.trim()) input.stateName = form.stateName.trim();
  const version = form.entityVersion.trim();
  if (version) {
    if (!/^\d+$/.test(version)) return { input, error: 'version must be a whole number' };
    input.entityVersion = Number(version);
  }
  return { input, error: null };
}
