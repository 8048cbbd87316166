/**
 * The TPE proposal as a pure function: given the search's trials, when a
 * slot is proposed, then its hyperparameters and the decision on record.
 */
import { describe, expect, it } from 'vitest';
import type { Json } from '../../src/domain/job/events.js';
import { sampleSpace } from '../../src/domain/experiment/sampling.js';
import { ExperimentSettings, type Parameter } from '../../src/domain/experiment/settings.js';
import { proposeTpe, slotRanges, type TpeOptions } from '../../src/domain/experiment/tpe/propose.js';
import { defaultGamma, type TpeTrial } from '../../src/domain/experiment/tpe/split.js';
import { TPE_VERSIONS } from '../../src/domain/experiment/tpe/versions.js';
import { tpeTrialsOf } from '../../src/app/tpe-inputs.js';

function tpe(space: unknown[], overrides: Partial<TpeOptions> = {}): TpeOptions {
  const settings = ExperimentSettings.parse({
    name: 'x',
    objective: { metric: 'loss', direction: 'MINIMIZE' },
    scheduler: { tpe: { space, seed: 11 } },
  });
  return { ...settings.scheduler.tpe!, seed: 11, ...overrides };
}

const X = { name: 'x', distribution: { uniform: { low: -5, high: 5 } } };
const N = { name: 'n', distribution: { intUniform: { low: 0, high: 3000 } } };

type Trial = TpeTrial<Record<string, Json>>;
const complete = (index: number, params: Record<string, Json>, value: number): Trial => ({
  index,
  state: 'COMPLETE',
  value,
  lastReport: null,
  params,
});

/** `count` finished trials of a bowl with its minimum at x = 1. */
function bowl(count: number, space: readonly Parameter[]): Trial[] {
  return Array.from({ length: count }, (_, i) => {
    const params = sampleSpace(space, 3, i);
    return complete(i, params, ((params.x as number) - 1) ** 2);
  });
}

describe('a TPE proposal before enough trials have finished', () => {
  it('is the trial RANDOM would draw for the slot with the seed, recorded as STARTUP with the count', () => {
    const options = tpe([X]);
    const trials = bowl(9, options.space);
    const { hyperparameters, decision } = proposeTpe(options, 'MINIMIZE', trials, 9);
    expect(hyperparameters).toEqual(sampleSpace(options.space, 11, 9));
    expect(decision).toEqual({ sampler: 'TPE', version: 'optuna-4.6', mode: 'STARTUP', finished: 9 });
  });

  it('counts pruned trials as finished, and running ones not', () => {
    const options = tpe([X]);
    const trials: Trial[] = [
      ...bowl(9, options.space),
      { index: 9, state: 'PRUNED', value: null, lastReport: { step: 3, value: 2 }, params: { x: 0 } },
      { index: 10, state: 'RUNNING', value: null, lastReport: null, params: { x: 0.5 } },
    ];
    expect(proposeTpe(options, 'MINIMIZE', trials, 11).decision).toMatchObject({ mode: 'TPE', finished: 10 });
    expect(proposeTpe(options, 'MINIMIZE', trials.slice(0, 9).concat(trials[10]!), 11).decision).toMatchObject({
      mode: 'STARTUP',
      finished: 9,
    });
  });
});

describe('a TPE proposal', () => {
  it('records the good trials (the best γ(n)), the running ones and every trial weighed', () => {
    const options = tpe([X]);
    const trials: Trial[] = [
      ...bowl(30, options.space),
      { index: 31, state: 'RUNNING', value: null, lastReport: null, params: { x: 1 } },
    ];
    const { decision } = proposeTpe(options, 'MINIMIZE', trials, 32);
    const best = [...trials.slice(0, 30)].sort((a, b) => a.value! - b.value!).slice(0, defaultGamma(30));
    expect(decision).toEqual({
      sampler: 'TPE',
      version: 'optuna-4.6',
      mode: 'TPE',
      finished: 30,
      considered: '0-29',
      below: best.map((t) => t.index).sort((a, b) => a - b),
      running: [31],
    });
  });

  it('depends only on its inputs: the same trials in any order give the same proposal', () => {
    const options = tpe([X, N]);
    const trials = bowl(25, options.space);
    const once = proposeTpe(options, 'MINIMIZE', trials, 25);
    const again = proposeTpe(options, 'MINIMIZE', [...trials].reverse(), 25);
    expect(again).toEqual(once);
  });

  it('proposes near the good trials: on a bowl, closer to its minimum than the median trial', () => {
    const options = tpe([X]);
    const trials = bowl(40, options.space);
    const distances = trials.map((t) => Math.abs((t.params.x as number) - 1)).sort((a, b) => a - b);
    const proposals = [40, 41, 42, 43, 44].map((slot) => proposeTpe(options, 'MINIMIZE', trials, slot));
    for (const { hyperparameters } of proposals) {
      expect(Math.abs((hyperparameters.x as number) - 1)).toBeLessThan(distances[20]!);
    }
  });

  it.each(TPE_VERSIONS)(
    'at %s, keeps each value in its domain and kind: integers, steps, log integers, choices, constants',
    (version) => {
      const options = tpe(
        [
          { name: 'i', distribution: { intUniform: { low: 2, high: 20, step: 3 } } },
          { name: 's', distribution: { uniform: { low: 0, high: 1, step: 0.25 } } },
          { name: 'l', distribution: { intLogUniform: { low: 1, high: 1024 } } },
          { name: 'c', distribution: { choice: { values: ['adam', { sgd: 0.9 }, 3] } } },
          { name: 'k', distribution: { constant: 'fixed' } },
          { name: 'x', distribution: { uniform: { low: -5, high: 5 } } },
        ],
        { version },
      );
      const trials = bowl(20, options.space);
      for (let slot = 20; slot < 30; slot++) {
        const { hyperparameters: h, decision } = proposeTpe(options, 'MINIMIZE', trials, slot);
        expect(decision).toMatchObject({ mode: 'TPE', version });
        expect([2, 5, 8, 11, 14, 17, 20]).toContain(h.i);
        expect([0, 0.25, 0.5, 0.75, 1]).toContain(h.s);
        expect(Number.isInteger(h.l) && (h.l as number) >= 1 && (h.l as number) <= 1024).toBe(true);
        expect(['adam', { sgd: 0.9 }, 3]).toContainEqual(h.c);
        expect(h.k).toBe('fixed');
      }
    },
  );

  it('does not take a value outside its domain as an observation (a job added by hand)', () => {
    const options = tpe([X]);
    const trials = bowl(20, options.space);
    const withStranger = [...trials, complete(20, { x: 50 }, -1e9), complete(21, { x: 'big' }, -1e9)];
    // The stranger values are the best by far; were they weighed, they would be below and in the density.
    const { hyperparameters, decision } = proposeTpe(options, 'MINIMIZE', withStranger, 22);
    expect(decision).toMatchObject({ below: expect.arrayContaining([20, 21]) });
    expect(hyperparameters.x).toBeGreaterThanOrEqual(-5);
    expect(hyperparameters.x).toBeLessThanOrEqual(5);
  });
});

describe('the constant liar', () => {
  const SMALL = { name: 'n', distribution: { intUniform: { low: 0, high: 100 } } };

  /** Sixteen proposals in a row, each made while the ones before it run (16 workers claiming at once). */
  function concurrentProposals(constantLiar: boolean): Json[] {
    const options = tpe([SMALL], { constantLiar });
    const trials = Array.from({ length: 30 }, (_, i) => {
      const params = sampleSpace(options.space, 5, i);
      return complete(i, params, Math.abs((params.n as number) - 41));
    });
    const proposed: Json[] = [];
    for (let slot = 30; slot < 46; slot++) {
      const running: Trial[] = proposed.map((n, i) => ({
        index: 30 + i,
        state: 'RUNNING',
        value: null,
        lastReport: null,
        params: { n },
      }));
      proposed.push(proposeTpe(options, 'MINIMIZE', [...trials, ...running], slot).hyperparameters.n!);
    }
    return proposed;
  }

  // Measured here over seeds 1–3: 14–16 distinct of 16 with the liar, 6–7 without.
  it('spreads concurrent proposals out: running trials repel, so fewer repeat', () => {
    const withLiar = new Set(concurrentProposals(true).map(String)).size;
    const without = new Set(concurrentProposals(false).map(String)).size;
    expect(withLiar).toBeGreaterThan(without);
  });

  it('counts a running trial only while its lease is live', () => {
    const row = {
      id: 'j',
      trialIndex: 4,
      objectiveValue: null,
      hyperparameters: { x: 1 },
      lastReport: null,
    };
    const now = new Date('2026-11-30T12:00:00.000Z');
    const live = { ...row, status: 'RUNNING' as const, leaseExpiresAt: '2026-11-30T12:00:05.000Z' };
    const expired = { ...row, status: 'RUNNING' as const, leaseExpiresAt: '2026-11-30T11:59:55.000Z' };
    expect(tpeTrialsOf([live], now)).toMatchObject([{ index: 4, state: 'RUNNING' }]);
    expect(tpeTrialsOf([expired], now)).toEqual([]);
  });
});

describe('the record', () => {
  it('writes slots as ranges', () => {
    expect(slotRanges([5, 0, 1, 2, 7, 8])).toBe('0-2,5,7-8');
    expect(slotRanges([])).toBe('');
  });

  it('γ(n) is a tenth, rounded up, and never more than 25', () => {
    expect([1, 10, 11, 240, 241, 10_000].map(defaultGamma)).toEqual([1, 1, 2, 24, 25, 25]);
  });
});
