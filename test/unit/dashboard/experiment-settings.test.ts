/** An experiment's recorded settings (`Experiment.config`) as lines a person reads. */
import { describe, expect, it } from 'vitest';
import {
  declaredParameters,
  describeDistribution,
  formatNumber,
  readableSettings,
} from '../../../dashboard/src/logic/experiment-settings.js';

describe('distributions', () => {
  it.each([
    [{ logUniform: { low: 0.00001, high: 0.1 } }, 'log-uniform 1e-5 … 0.1'],
    [{ uniform: { low: 0, high: 1 } }, 'uniform 0 … 1'],
    [{ uniform: { low: 0, high: 1, step: null } }, 'uniform 0 … 1'],
    [{ uniform: { low: 0, high: 0.5, step: 0.05 } }, 'uniform 0 … 0.5 step 0.05'],
    [{ intLogUniform: { low: 1, high: 1024 } }, 'integers 1 … 1024, log scale'],
    [{ intUniform: { low: 1, high: 9, step: 2 } }, 'integers 1 … 9 step 2'],
    [{ intUniform: { low: 1, high: 9, step: 1 } }, 'integers 1 … 9'],
    [{ normal: { mean: 0, std: 1 } }, 'normal mean 0, std 1'],
    [{ choice: { values: [32, 64], weights: null } }, 'choice 32, 64'],
    [{ choice: { values: ['sgd', 'adam'], weights: [1, 3] } }, 'choice sgd (1), adam (3)'],
    [{ constant: { depth: 3 } }, 'constant {"depth":3}'],
  ])('reads %j as "%s"', (distribution, text) => {
    expect(describeDistribution(distribution)).toBe(text);
  });

  it('writes integers whole, however large (a seed is copied, not read)', () => {
    expect(formatNumber(1056234871)).toBe('1056234871');
    expect(formatNumber(2.5e7 + 0.5)).toBe('2.5e7');
  });

  it('writes numbers short', () => {
    expect([
      formatNumber(0.1),
      formatNumber(1e-5),
      formatNumber(2.5e-7),
      formatNumber(128),
      formatNumber(0.30000000000000004),
      formatNumber(2.5936704462e-5),
    ]).toEqual(['0.1', '1e-5', '2.5e-7', '128', '0.3', '2.594e-5']);
  });
});

it('reads a random search with median early stopping and limits', () => {
  const config = {
    name: 'x',
    description: null,
    objective: { metric: 'val_loss', direction: 'MINIMIZE' },
    scheduler: {
      random: {
        seed: 42,
        maxJobs: 50,
        space: [{ name: 'lr', distribution: { logUniform: { low: 0.00001, high: 0.1 } } }],
      },
    },
    earlyStopping: { median: { startupJobs: 5, warmupSteps: 2, intervalSteps: 1, minJobs: 1 } },
    maxConcurrent: 8,
    stopThreshold: 0.05,
  };
  expect(readableSettings(config)).toEqual({
    scheduler: 'random',
    space: [{ label: 'lr', value: 'log-uniform 1e-5 … 0.1' }],
    schedulerLines: [
      { label: 'seed', value: '42' },
      { label: 'max jobs', value: '50' },
    ],
    earlyStopping: 'median rule: after 5 trials, from step 2, every 1 step(s), against at least 1 trial(s)',
    objective: 'minimize val_loss',
    limits: [
      { label: 'stop threshold', value: '0.05' },
      { label: 'max concurrent', value: '8' },
    ],
  });
});

it('reads a PBT search: its initial space, exploit and explore', () => {
  const config = {
    objective: { metric: 'acc', direction: 'MAXIMIZE' },
    scheduler: {
      pbt: {
        populationSize: 4,
        maxGenerations: 3,
        initial: [{ name: 'lr', distribution: { uniform: { low: 0.1, high: 1 } } }],
        exploit: { truncation: { fraction: 0.25 } },
        explore: [{ parameter: 'lr', strategy: { perturb: { factors: [0.8, 1.2] } } }],
      },
    },
    earlyStopping: { successiveHalving: { minSteps: 1, reductionFactor: 4, maxSteps: null } },
  };
  const settings = readableSettings(config);
  expect(settings.scheduler).toBe('pbt');
  expect(settings.space).toEqual([{ label: 'lr', value: 'uniform 0.1 … 1' }]);
  expect(settings.schedulerLines).toContainEqual({
    label: 'exploit',
    value: 'truncation: the bottom 0.25 copy the top',
  });
  expect(settings.schedulerLines).toContainEqual({ label: 'explore lr', value: 'perturb by 0.8 … 1.2' });
  expect(settings.earlyStopping).toBe('successive halving: first rung at step 1, reduction factor 4');
  expect(settings.objective).toBe('maximize acc');
});

it('reads a TPE search: its space and its own settings', () => {
  const config = {
    objective: { metric: 'loss', direction: 'MINIMIZE' },
    scheduler: {
      tpe: {
        space: [{ name: 'lr', distribution: { logUniform: { low: 0.001, high: 0.1 } } }],
        seed: 5,
        maxJobs: 30,
        startupTrials: 10,
        candidates: 24,
        multivariate: false,
        constantLiar: true,
        version: 'optuna-4.9',
      },
    },
  };
  const settings = readableSettings(config);
  expect(settings.scheduler).toBe('tpe');
  expect(settings.space).toEqual([{ label: 'lr', value: 'log-uniform 0.001 … 0.1' }]);
  expect(settings.schedulerLines).toEqual([
    { label: 'seed', value: '5' },
    { label: 'max jobs', value: '30' },
    { label: 'random startup trials', value: '10' },
    { label: 'candidates per proposal', value: '24' },
    { label: 'multivariate', value: 'false' },
    { label: 'constant liar', value: 'true' },
    { label: 'follows', value: 'optuna-4.9' },
  ]);
});

it('reads Hyperband early stopping, with maxSteps or from the completed trials', () => {
  const line = (hyperband: Record<string, unknown>) =>
    readableSettings({ scheduler: { random: { space: [] } }, earlyStopping: { hyperband } }).earlyStopping;
  expect(line({ minSteps: 1, reductionFactor: 3, maxSteps: 81 })).toBe('Hyperband: steps 1 … 81, reduction factor 3');
  expect(line({ minSteps: 2, reductionFactor: 3, maxSteps: null })).toBe(
    'Hyperband: steps 2 … from the completed trials, reduction factor 3',
  );
});

it('reads a grid and names its parameters in declared order', () => {
  const config = {
    scheduler: {
      grid: {
        space: [
          { name: 'b', values: [1, 2] },
          { name: 'a', values: ['x'] },
        ],
      },
    },
  };
  expect(readableSettings(config).space).toEqual([
    { label: 'b', value: 'grid 1, 2' },
    { label: 'a', value: 'grid x' },
  ]);
  expect(declaredParameters(config)).toEqual(['b', 'a']);
});

it('given settings it does not know, shows nothing rather than failing', () => {
  expect(readableSettings(null)).toMatchObject({
    scheduler: 'unknown',
    space: [],
    earlyStopping: null,
    objective: null,
  });
});
