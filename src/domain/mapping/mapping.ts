/**
 * A training mapping: for one state of one version of an entity, which job
 * trains each algorithm's model. `migrationFor` compares a mapping with the
 * registry: the heart of migrateMappings, as a pure function.
 */
import { createHash } from 'node:crypto';
import type { MappingEvent } from './events.js';

export interface MappingState {
  id: string;
  entityId: string;
  entityVersion: number;
  stateName: string;
  interactionId: string;
  jobs: Record<string, { jobId: string; algorithmVersion: number }>;
  /** How often each algorithm has been added: a re-added algorithm gets a new job. */
  additions: Record<string, number>;
  /** The job whose training data a job added later trains on. */
  trainingDataFrom: string;
  carriedFrom: { entityVersion: number; stateName: string } | null;
}

/** State names already reserved for an entity version: when, and the digest of what the call gave (absent in older logs). */
export type TrainingSet = Record<string, { at: string; digest?: string }>;

export function evolveTrainingSet(
  state: TrainingSet | undefined,
  event: import('./events.js').TrainingSetEvent,
): TrainingSet {
  const set = { ...(state ?? {}) };
  for (const name of event.data.stateNames) {
    const digest = event.data.digests?.[name];
    set[name] = digest === undefined ? { at: event.timestamp } : { at: event.timestamp, digest };
  }
  return set;
}

/**
 * The digest of one state of a mapping call as given (canonical JSON: object keys sorted), so
 * that a retry of the same call, however its JSON was laid out, is recognised as the same work.
 */
export function inputDigest(parts: unknown): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function evolveMapping(state: MappingState | undefined, event: MappingEvent): MappingState {
  if (event.type === 'MappingCreated') {
    const d = event.data;
    return {
      id: d.mappingId,
      entityId: d.entityId,
      entityVersion: d.entityVersion,
      stateName: d.stateName,
      interactionId: d.interactionId,
      jobs: d.jobs,
      additions: Object.fromEntries(Object.keys(d.jobs).map((algorithmId) => [algorithmId, 1])),
      trainingDataFrom: d.trainingDataFrom,
      carriedFrom: d.carriedFrom,
    };
  }
  if (!state) throw new TypeError(`${event.type} before MappingCreated`);
  switch (event.type) {
    case 'MappingJobAdded':
      return {
        ...state,
        jobs: {
          ...state.jobs,
          [event.data.algorithmId]: { jobId: event.data.jobId, algorithmVersion: event.data.algorithmVersion },
        },
        additions: { ...state.additions, [event.data.algorithmId]: (state.additions[event.data.algorithmId] ?? 0) + 1 },
      };
    case 'MappingJobUpgraded': {
      // An upgrade may bring a job of the mapping's own (when the old one is shared): that is an addition too.
      const replaced = state.jobs[event.data.algorithmId]?.jobId !== event.data.jobId;
      return {
        ...state,
        jobs: {
          ...state.jobs,
          [event.data.algorithmId]: { jobId: event.data.jobId, algorithmVersion: event.data.algorithmVersion },
        },
        additions: replaced
          ? { ...state.additions, [event.data.algorithmId]: (state.additions[event.data.algorithmId] ?? 0) + 1 }
          : state.additions,
      };
    }
    case 'MappingJobRemoved': {
      const { [event.data.algorithmId]: _removed, ...jobs } = state.jobs;
      return { ...state, jobs };
    }
  }
}

/**
 * The job a created mapping's state trains `algorithmId` on: derived from the state's input digest
 * too, so a retry of the same call meets the jobs it made, and a different call that takes over an
 * abandoned reservation never adopts a job carrying another call's training data.
 */
export function creationJobId(mappingId: string, algorithmId: string, digest: string): string {
  return `job_m${createHash('sha256')
    .update(JSON.stringify([mappingId, algorithmId, 'created', digest]))
    .digest('hex')
    .slice(0, 31)}`;
}

/** The job that trains `algorithmId` for a mapping, the nth time it is added: the same id for every racer. */
export function mappingJobId(mappingId: string, algorithmId: string, nth: number): string {
  return `job_m${createHash('sha256')
    .update(JSON.stringify([mappingId, algorithmId, nth]))
    .digest('hex')
    .slice(0, 31)}`;
}

export type MappingChange =
  | { action: 'ADD'; algorithmId: string; algorithmVersion: number; jobId: string }
  | { action: 'UPGRADE'; algorithmId: string; algorithmVersion: number; fromVersion: number; jobId: string }
  | { action: 'REMOVE'; algorithmId: string; jobId: string };

/** What it takes to bring a mapping in line with the registry's algorithms for its interaction. */
export function migrationFor(mapping: MappingState, registered: Record<string, number>): MappingChange[] {
  const changes: MappingChange[] = [];
  for (const [algorithmId, algorithmVersion] of Object.entries(registered).sort()) {
    const mapped = mapping.jobs[algorithmId];
    if (!mapped) {
      const jobId = mappingJobId(mapping.id, algorithmId, (mapping.additions[algorithmId] ?? 0) + 1);
      changes.push({ action: 'ADD', algorithmId, algorithmVersion, jobId });
    } else if (mapped.algorithmVersion < algorithmVersion) {
      changes.push({
        action: 'UPGRADE',
        algorithmId,
        algorithmVersion,
        fromVersion: mapped.algorithmVersion,
        jobId: mapped.jobId,
      });
    }
  }
  for (const [algorithmId, mapped] of Object.entries(mapping.jobs).sort()) {
    if (registered[algorithmId] === undefined) changes.push({ action: 'REMOVE', algorithmId, jobId: mapped.jobId });
  }
  return changes;
}

/**
 * Splits mappings into groups that share no job (carried-forward mappings share
 * their jobs): as indices into `mappings`, in order within and across groups.
 * Groups can be migrated side by side; the mappings of one group one after the
 * other, since whether a job is shared decides whether it is retrained or cancelled.
 */
export function groupsSharingJobs(mappings: readonly MappingState[]): number[][] {
  const parent = mappings.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const holder = new Map<string, number>();
  mappings.forEach((mapping, i) => {
    for (const { jobId } of Object.values(mapping.jobs)) {
      const other = holder.get(jobId);
      if (other === undefined) {
        holder.set(jobId, i);
        continue;
      }
      // Each group's root is its first mapping: the groups come out in the order of their first.
      const [a, b] = [root(i), root(other)];
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  });
  const groups = new Map<number, number[]>();
  mappings.forEach((_, i) => {
    const r = root(i);
    let group = groups.get(r);
    if (!group) groups.set(r, (group = []));
    group.push(i);
  });
  return [...groups.values()];
}
