/**
 * What the read model keeps of a trial's hyperparameters for TPE
 * (trial_values): numbers as they are, other values as JSON up to
 * TPE_VALUE_JSON_LENGTH characters, longer ones not at all.
 */
import { describe, expect, it } from 'vitest';
import {
  TPE_VALUE_JSON_LENGTH,
  storedTrialValues,
  trialValueOf,
} from '../../src/domain/experiment/tpe/trial-values.js';

describe("a trial's kept values", () => {
  it('keeps numbers as numbers and other values as JSON, each read back as it was', () => {
    const hyperparameters = { lr: 0.1 + 0.2, n: 3, optimizer: { sgd: 0.9 }, name: 'adam', on: true, none: null };
    const kept = storedTrialValues(hyperparameters);
    expect(kept).toEqual([
      { name: 'lr', number: 0.30000000000000004, json: null },
      { name: 'n', number: 3, json: null },
      { name: 'optimizer', number: null, json: '{"sgd":0.9}' },
      { name: 'name', number: null, json: '"adam"' },
      { name: 'on', number: null, json: 'true' },
      { name: 'none', number: null, json: 'null' },
    ]);
    expect(Object.fromEntries(kept.map((v) => [v.name, trialValueOf(v)]))).toEqual(hyperparameters);
  });

  it('leaves out a value longer than the limit as JSON, so it costs a proposal nothing', () => {
    const fits = 'x'.repeat(TPE_VALUE_JSON_LENGTH - 2);
    const tooLong = 'x'.repeat(TPE_VALUE_JSON_LENGTH - 1);
    expect(storedTrialValues({ fits, tooLong }).map((v) => v.name)).toEqual(['fits']);
  });
});
