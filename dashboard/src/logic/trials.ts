// The experiment page's trials as a pure data structure: pages and live changes merged by the job's
// revision, so the order they arrive in never matters (a page read before a change, or after it,
// gives the same table). No DOM and no I/O: test/unit/dashboard/trials.test.ts specifies it.
import type { Trial, TrialStatus } from '../views/experiment/trial.js';

/** A job as the experiment page queries it (see views/experiment/queries.ts). */
export interface TrialJob {
  id: string;
  status: TrialStatus;
  hyperparameters: Record<string, unknown>;
  objectiveValue: number | null;
  createdAt: string;
  finishedAt: string | null;
  generation: number;
  parent: { id: string } | null;
  /** The job stream's revision after its last event: the newer of two copies has the higher one. */
  revision: number;
  pruning?: Trial['pruning'];
}

/** One bucket of a downsampled series, as `MetricSeries.buckets` answers it. */
export interface CurveBucket {
  last: { step: number; value: number };
  min: number;
  max: number;
}

export type Curve = NonNullable<Trial['curve']>;

/** A downsampled series as the charts draw it: each bucket's last point, with its extremes so spikes survive. */
export function curveFromBuckets(buckets: readonly CurveBucket[]): Curve {
  return {
    steps: buckets.map((b) => b.last.step),
    values: buckets.map((b) => b.last.value),
    min: buckets.map((b) => b.min),
    max: buckets.map((b) => b.max),
  };
}

export interface TrialCounts {
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  pruned: number;
  cancelled: number;
  total: number;
}

export function countTrials(trials: readonly Trial[]): TrialCounts {
  const counts: TrialCounts = {
    queued: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    pruned: 0,
    cancelled: 0,
    total: trials.length,
  };
  for (const trial of trials) counts[trial.status.toLowerCase() as Exclude<keyof TrialCounts, 'total'>] += 1;
  return counts;
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * All trials of one experiment, in creation order. Pages are added in order while `loading`; a live
 * change for a job no page has shown yet waits until loading ends (its place in the order is not known
 * before), then joins at the end. Every copy of a job is kept only if its revision is newer.
 * `snapshot()` gives an array that changes identity only when a trial changed, and trials are
 * replaced, never mutated, so a view can tell what changed by identity.
 */
export class TrialSet {
  private trials: Trial[] = [];
  private readonly positions = new Map<string, number>();
  private readonly revisions = new Map<string, number>();
  private readonly waiting = new Map<string, TrialJob>();
  private published: Trial[] = [];
  private dirty = false;
  loading = true;

  get size(): number {
    return this.trials.length;
  }

  has(id: string): boolean {
    return this.positions.has(id);
  }

  get(id: string): Trial | undefined {
    const at = this.positions.get(id);
    return at === undefined ? undefined : this.trials[at];
  }

  /** The next page of the experiment's jobs, in creation order. */
  addPage(jobs: readonly TrialJob[]): void {
    for (const job of jobs) {
      const waiting = this.waiting.get(job.id);
      this.waiting.delete(job.id);
      this.merge(waiting && waiting.revision > job.revision ? waiting : job);
    }
  }

  /** A job as a live change carries it. */
  applyChange(job: TrialJob): void {
    if (this.positions.has(job.id) || !this.loading) return this.merge(job);
    const waiting = this.waiting.get(job.id);
    if (!waiting || job.revision > waiting.revision) this.waiting.set(job.id, job);
  }

  /** Every page is in: changes for jobs created meanwhile join at the end. */
  finishLoading(): void {
    this.loading = false;
    for (const job of this.waiting.values()) this.merge(job);
    this.waiting.clear();
  }

  setCurve(id: string, curve: Curve): void {
    const at = this.positions.get(id);
    if (at === undefined) return;
    this.replace(at, { ...this.trials[at]!, curve });
  }

  snapshot(): Trial[] {
    if (this.dirty) {
      this.published = this.trials.slice();
      this.dirty = false;
    }
    return this.published;
  }

  private merge(job: TrialJob): void {
    const at = this.positions.get(job.id);
    if (at === undefined) {
      this.positions.set(job.id, this.trials.length);
      this.revisions.set(job.id, job.revision);
      this.trials.push(toTrial(job, this.trials.length, null));
      this.dirty = true;
      return;
    }
    if (job.revision <= (this.revisions.get(job.id) ?? -1)) return;
    this.revisions.set(job.id, job.revision);
    const current = this.trials[at]!;
    const next = toTrial(job, current.index, current.curve);
    // A heartbeat moves the revision and nothing shown: the trial (and the snapshot) stay as they are.
    if (!visiblyDifferent(current, next)) return;
    this.replace(at, next);
  }

  private replace(at: number, trial: Trial): void {
    this.trials[at] = trial;
    this.dirty = true;
  }
}

function toTrial(job: TrialJob, index: number, curve: Trial['curve']): Trial {
  return {
    id: job.id,
    index,
    status: job.status,
    hyperparameters: job.hyperparameters,
    objectiveValue: job.objectiveValue,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
    generation: job.generation,
    parentId: job.parent?.id ?? null,
    curve,
    pruning: job.pruning ?? null,
  };
}

function visiblyDifferent(a: Trial, b: Trial): boolean {
  return (
    a.status !== b.status ||
    a.objectiveValue !== b.objectiveValue ||
    a.finishedAt !== b.finishedAt ||
    a.generation !== b.generation ||
    a.parentId !== b.parentId ||
    !sameJson(a.pruning, b.pruning) ||
    !sameJson(a.hyperparameters, b.hyperparameters)
  );
}
