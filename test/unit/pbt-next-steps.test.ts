/**
 * PBT's next generations: given the population's jobs, which members go next
 * and whom each is compared with.
 */
import { describe, expect, it } from 'vitest';
import { nextGeneration, nextSteps, slotOf, type PbtJob } from '../../src/domain/experiment/pbt.js';
import { ExperimentSettings } from '../../src/domain/experiment/settings.js';

const settings = ExperimentSettings.parse({
  name: 'pbt',
  objective: { metric: 'q', direction: 'MAXIMIZE' },
  scheduler: {
    pbt: {
      populationSize: 4,
      initial: [{ name: 'h', distribution: { uniform: { low: 0, high: 1 } } }],
      exploit: { truncation: { fraction: 0.25 } },
      maxGenerations: 5,
      seed: 1,
    },
  },
});
const pbt = settings.scheduler.pbt!;

function job(member: number, generation: number, status: string, objectiveValue: number | null = null): PbtJob {
  const trialIndex = slotOf(pbt, member, generation);
  return { id: `j${trialIndex}`, trialIndex, status, objectiveValue, hyperparameters: { h: member / 10 } };
}

describe('which member goes next', () => {
  it('given member 0 three generations ahead of the rest, when a slot is free, then the members furthest behind go first', () => {
    const jobs = [
      ...[0, 1, 2].map((g) => job(0, g, 'SUCCEEDED', 1)),
      job(1, 0, 'SUCCEEDED', 1),
      job(2, 0, 'SUCCEEDED', 1),
      job(3, 0, 'SUCCEEDED', 1),
    ];
    expect(nextSteps(pbt, jobs).map((s) => [s.member, s.generation])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [0, 3],
    ]);
  });

  it('skips members whose latest job is queued or running, and those at their last generation', () => {
    const jobs = [job(0, 4, 'SUCCEEDED', 1), job(1, 0, 'RUNNING'), job(2, 0, 'QUEUED'), job(3, 0, 'FAILED')];
    expect(nextSteps(pbt, jobs).map((s) => s.member)).toEqual([3]);
  });
});

describe('whom a member is compared with', () => {
  it("given member 1's newest result a generation behind, when member 0 finishes generation 1, then it is compared only with the results of generation 1", () => {
    const jobs = [
      job(0, 0, 'SUCCEEDED', 0.5),
      job(0, 1, 'SUCCEEDED', 0.9),
      job(1, 0, 'SUCCEEDED', 0.95),
      job(1, 1, 'RUNNING'),
      job(2, 0, 'SUCCEEDED', 0.2),
      job(2, 1, 'SUCCEEDED', 0.5),
      job(3, 0, 'SUCCEEDED', 0.1),
      job(3, 1, 'PRUNED'),
    ];
    const step = nextSteps(pbt, jobs).find((s) => s.member === 0)!;
    expect(step.population.map((m) => [m.member, m.objective])).toEqual([
      [2, 0.5],
      [0, 0.9],
    ]);
    // Member 0 is the best of its generation: it keeps its own line, and the record says whom it beat.
    const next = nextGeneration(pbt, 'MAXIMIZE', step.own, step.population, step.generation);
    expect(next.decision).toEqual({
      member: 0,
      generation: 2,
      exploitedFrom: null,
      explored: {},
      comparedAt: 1,
      compared: [
        [0, 0.9],
        [2, 0.5],
      ],
    });
  });

  it("given a member at the bottom of its generation, then it copies one from the top of the same generation, from that generation's job", () => {
    const jobs = [
      job(0, 0, 'SUCCEEDED', 0.9),
      job(1, 0, 'SUCCEEDED', 0.1),
      job(2, 0, 'SUCCEEDED', 0.5),
      job(3, 0, 'SUCCEEDED', 0.6),
      job(0, 1, 'SUCCEEDED', 0.3),
    ];
    const step = nextSteps(pbt, jobs).find((s) => s.member === 1)!;
    const next = nextGeneration(pbt, 'MAXIMIZE', step.own, step.population, step.generation);
    expect(next.decision).toMatchObject({ exploitedFrom: 0, comparedAt: 0 });
    // Member 0's generation-0 weights, not its newer (and worse) generation 1.
    expect(next.parentId).toBe(`j${slotOf(pbt, 0, 0)}`);
  });
});
