/**
 * Population-based training (Jaderberg et al. 2017; Schedy's
 * PopulationBasedTraining): a population of `populationSize` members, each a
 * sequence of jobs, one per generation. Trial slot = generation ×
 * populationSize + member. When a member's job ends, its next generation's
 * job is decided here: exploit (copy a better member's hyperparameters and
 * weights), then explore (perturb or resample what was copied).
 *
 * Every random choice is keyed by (seed, member, generation, purpose), and
 * the decision is recorded in the new job's JobCreated event, so a replay of
 * the log never samples again.
 */
import type { Json } from '../job/events.js';
import { sample, sampleSpace, uniforms } from './sampling.js';
import type { ExperimentSettings } from './settings.js';

type Pbt = NonNullable<ExperimentSettings['scheduler']['pbt']>;
type Direction = 'MINIMIZE' | 'MAXIMIZE';

export interface Member {
  member: number;
  jobId: string;
  /** The objective of the member's latest finished job; null when it has none. */
  objective: number | null;
  hyperparameters: Record<string, Json>;
}

export interface PbtDecision {
  hyperparameters: Record<string, Json>;
  /** The job whose weights the new job starts from. */
  parentId: string;
  /**
   * What was decided, for the record: whom it copied, how it explored, and
   * whom it was compared with: each member's objective at the generation just
   * ended (`comparedAt`), [member, objective] pairs.
   */
  decision: {
    member: number;
    generation: number;
    exploitedFrom: number | null;
    explored: Record<string, Json>;
    comparedAt: number;
    compared: [number, number | null][];
  };
}

/** A trial job as PBT plans from it. */
export interface PbtJob {
  id: string;
  trialIndex: number;
  status: string;
  objectiveValue: number | null;
  hyperparameters: Record<string, Json>;
}

/** A member ready for its next generation: itself at the generation just ended, and whom it is compared with. */
export interface NextStep {
  member: number;
  /** The generation to create. */
  generation: number;
  own: Member;
  /** The members' results at the generation just ended (its own included): equal training, equal footing. */
  population: Member[];
  /** The member's job that just ended (the next generation follows from its end). */
  endedJobId: string;
}

/**
 * Which members may start their next generation, least advanced first (a
 * free slot goes to the member furthest behind, so with fewer workers than
 * members the population moves together), and with whom each is compared:
 * only the results of the same generation. Comparing a fresh result with
 * others' older ones (a generation less trained) would favour whoever
 * finishes first; comparing at equal generation is the paper's rule.
 */
export function nextSteps(pbt: Pbt, jobs: readonly PbtJob[]): NextStep[] {
  const latest = new Map<number, PbtJob>();
  const atGeneration = new Map<number, Member[]>();
  for (const job of [...jobs].sort((a, b) => a.trialIndex - b.trialIndex)) {
    const { member, generation } = memberOf(pbt, job.trialIndex);
    latest.set(member, job);
    if (job.status === 'SUCCEEDED') {
      const results = atGeneration.get(generation) ?? [];
      results.push({ member, jobId: job.id, objective: job.objectiveValue, hyperparameters: job.hyperparameters });
      atGeneration.set(generation, results);
    }
  }
  const steps: NextStep[] = [];
  for (const [member, job] of latest) {
    if (job.status === 'QUEUED' || job.status === 'RUNNING') continue;
    const ended = memberOf(pbt, job.trialIndex).generation;
    if (pbt.maxGenerations !== null && ended + 1 >= pbt.maxGenerations) continue;
    const peers = (atGeneration.get(ended) ?? []).filter((m) => m.member !== member);
    // A member whose job failed or was pruned has nothing of its own to go on.
    const own: Member =
      job.status === 'SUCCEEDED'
        ? { member, jobId: job.id, objective: job.objectiveValue, hyperparameters: job.hyperparameters }
        : { member, jobId: job.id, objective: null, hyperparameters: job.hyperparameters };
    steps.push({ member, generation: ended + 1, own, population: [...peers, own], endedJobId: job.id });
  }
  return steps.sort((a, b) => a.generation - b.generation || a.member - b.member);
}

export const slotOf = (pbt: Pbt, member: number, generation: number) => generation * pbt.populationSize + member;
export const memberOf = (pbt: Pbt, slot: number) => ({
  member: slot % pbt.populationSize,
  generation: Math.floor(slot / pbt.populationSize),
});

export function firstGeneration(pbt: Pbt, member: number): Record<string, Json> {
  return sampleSpace(pbt.initial, pbt.seed!, member);
}

/** Better first; members without an objective last. */
function ranked(population: readonly Member[], direction: Direction): Member[] {
  return [...population].sort((a, b) => {
    if (a.objective === null || b.objective === null) return a.objective === null ? (b.objective === null ? 0 : 1) : -1;
    return direction === 'MAXIMIZE' ? b.objective - a.objective : a.objective - b.objective;
  });
}

function isBetter(a: Member, b: Member, direction: Direction): boolean {
  if (a.objective === null) return false;
  if (b.objective === null) return true;
  return direction === 'MAXIMIZE' ? a.objective > b.objective : a.objective < b.objective;
}

/** The next generation's job for `own`, whose job of generation `generation - 1` has ended. */
export function nextGeneration(
  pbt: Pbt,
  direction: Direction,
  own: Member,
  population: readonly Member[],
  generation: number,
): PbtDecision {
  const key = (purpose: string) => `${pbt.seed}:pbt:${own.member}:${generation}:${purpose}`;
  const source = exploit(pbt, direction, own, population, key);
  const compared = {
    comparedAt: generation - 1,
    compared: [...population]
      .sort((a, b) => a.member - b.member)
      .map((m): [number, number | null] => [m.member, m.objective]),
  };
  if (source === own) {
    return {
      hyperparameters: own.hyperparameters,
      parentId: own.jobId,
      decision: { member: own.member, generation, exploitedFrom: null, explored: {}, ...compared },
    };
  }
  const hyperparameters = { ...source.hyperparameters };
  const explored: Record<string, Json> = {};
  for (const { parameter, strategy } of pbt.explore) {
    const current = hyperparameters[parameter];
    if (strategy.perturb) {
      if (typeof current !== 'number') continue;
      const factors = strategy.perturb.factors;
      const [u] = uniforms(key(`perturb:${parameter}`), 1) as [number];
      const low = Math.min(...factors);
      const factor = low + u * (Math.max(...factors) - low);
      const perturbed = current * factor;
      hyperparameters[parameter] = Number.isInteger(current) ? Math.round(perturbed) : perturbed;
      explored[parameter] = { perturb: factor };
    } else if (strategy.resample) {
      const [u] = uniforms(key(`resample?:${parameter}`), 1) as [number];
      if (u < strategy.resample.probability) {
        hyperparameters[parameter] = sample(strategy.resample.distribution, key(`resample:${parameter}`));
        explored[parameter] = { resample: hyperparameters[parameter]! };
      }
    }
  }
  return {
    hyperparameters,
    parentId: source.jobId,
    decision: { member: own.member, generation, exploitedFrom: source.member, explored, ...compared },
  };
}

/** Whom `own` continues from: itself, or a better member whose hyperparameters and weights it copies. */
function exploit(
  pbt: Pbt,
  direction: Direction,
  own: Member,
  population: readonly Member[],
  key: (p: string) => string,
): Member {
  const others = population.filter((m) => m.member !== own.member);
  if (others.length === 0) return own;
  if (pbt.exploit.tournament) {
    // Compare with `size` members drawn at random; lose to the best of them if it is better.
    const draws = Math.min(pbt.exploit.tournament.size, others.length);
    const pool = [...others];
    let best: Member | undefined;
    for (let i = 0; i < draws; i++) {
      const [u] = uniforms(key(`tournament:${i}`), 1) as [number];
      const drawn = pool.splice(Math.floor(u * pool.length), 1)[0]!;
      if (!best || isBetter(drawn, best, direction)) best = drawn;
    }
    return best && isBetter(best, own, direction) ? best : own;
  }
  // Truncation: a member in the bottom fraction copies one drawn from the top fraction.
  const fraction = pbt.exploit.truncation?.fraction ?? 0.2;
  const order = ranked(population, direction);
  const cut = Math.max(1, Math.floor(order.length * fraction));
  const bottom = order.slice(order.length - cut);
  if (!bottom.some((m) => m.member === own.member) && own.objective !== null) return own;
  const top = order.slice(0, cut).filter((m) => m.member !== own.member && m.objective !== null);
  if (top.length === 0) return own;
  const [u] = uniforms(key('truncation'), 1) as [number];
  return top[Math.floor(u * top.length)]!;
}
