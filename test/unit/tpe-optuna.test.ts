/**
 * Trialog's TPE against Optuna's, decision by decision, at each version
 * Trialog offers (test/fixtures/tpe/decisions.json for 4.6, decisions-4.7.json
 * and decisions-4.9.json, recorded by generate_tpe.py): given the
 * trials as they stood when Optuna's TPE decided, Trialog's split, Parzen
 * estimators, log densities of Optuna's candidates and choice among them are
 * Optuna's. Optuna's random numbers are not Trialog's, so the candidates are
 * replayed, not drawn.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernelInput, logPdf, parzenEstimator, type TpeDomain } from '../../src/domain/experiment/tpe/parzen.js';
import { defaultGamma, splitTrials, type Direction, type TpeTrial } from '../../src/domain/experiment/tpe/split.js';
import { parzenOptionsOf, type TpeVersion } from '../../src/domain/experiment/tpe/versions.js';

type Spec =
  | { kind: 'float'; low: number; high: number; log?: boolean; step?: number }
  | { kind: 'int'; low: number; high: number; log?: boolean; step?: number }
  | { kind: 'categorical'; choices: number };

interface RecordedEstimator {
  weights: number[];
  kernels: (
    | { mus: number[]; sigmas: number[]; low: number; high: number; step: number; log?: boolean }
    | { weights: number[][] }
  )[];
}

interface Decision {
  trial: number;
  params: string[];
  running: number[];
  below: number[];
  above: number[];
  estimators: { below: RecordedEstimator; above: RecordedEstimator };
  candidates: Record<string, number[]>;
  logBelow: number[];
  logAbove: number[];
  chosen: number;
}

interface Scenario {
  name: string;
  space: Record<string, Spec>;
  direction: Direction;
  multivariate: boolean;
  constantLiar: boolean;
  trials: [number, 'COMPLETE' | 'PRUNED', number | null, [number, number] | null, Record<string, number>][];
  decisions: Decision[];
}

interface Fixture {
  optuna: string;
  scenarios: Scenario[];
}

function fixture(file: string): Fixture {
  return JSON.parse(readFileSync(new URL(`../fixtures/tpe/${file}`, import.meta.url), 'utf8')) as Fixture;
}

const VERSIONS: { version: TpeVersion; file: string }[] = [
  { version: 'optuna-4.6', file: 'decisions.json' },
  { version: 'optuna-4.7', file: 'decisions-4.7.json' },
  { version: 'optuna-4.9', file: 'decisions-4.9.json' },
];

function domainOf(spec: Spec): TpeDomain {
  if (spec.kind === 'categorical') return { kind: 'categorical', choices: spec.choices };
  if (spec.kind === 'int')
    return { kind: 'int', low: spec.low, high: spec.high, log: spec.log ?? false, step: spec.step ?? 1 };
  return { kind: 'float', low: spec.low, high: spec.high, log: spec.log ?? false, step: spec.step ?? null };
}

/** The trials as they stood at the decision: every earlier one, running if not yet told. */
function trialsAt(scenario: Scenario, decision: Decision): TpeTrial<Record<string, number>>[] {
  const running = new Set(decision.running);
  return scenario.trials
    .filter(([number]) => number < decision.trial)
    .filter(([number]) => scenario.constantLiar || !running.has(number))
    .map(([index, state, value, last, params]) => ({
      index,
      state: running.has(index) ? 'RUNNING' : state,
      value,
      lastReport: last && { step: last[0], value: last[1] },
      params,
    }));
}

function closeTo(actual: number, expected: number, relative: number, absolute: number): boolean {
  return actual === expected || Math.abs(actual - expected) <= relative * Math.abs(expected) + absolute;
}

function expectAllClose(actual: number[], expected: number[], relative: number, absolute: number, what: string) {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => {
    if (!closeTo(a, expected[i]!, relative, absolute)) throw new Error(`${what}[${i}]: ${a} against ${expected[i]}`);
  });
}

function expectEstimator(actual: ReturnType<typeof parzenEstimator>, expected: RecordedEstimator, what: string): void {
  expectAllClose(actual.weights, expected.weights, 1e-12, 0, `${what} weights`);
  actual.kernels.forEach((kernels, i) => {
    const recorded = expected.kernels[i]!;
    if (kernels.kind === 'categorical') {
      if (!('weights' in recorded)) throw new Error(`${what}: a categorical parameter recorded as numeric`);
      kernels.weights.forEach((row, j) => expectAllClose(row, recorded.weights[j]!, 1e-12, 0, `${what} row ${j}`));
    } else {
      if ('weights' in recorded) throw new Error(`${what}: a numeric parameter recorded as categorical`);
      expectAllClose(kernels.mus, recorded.mus, 1e-12, 1e-15, `${what} means`);
      expectAllClose(kernels.sigmas, recorded.sigmas, 1e-12, 0, `${what} bandwidths`);
      expectAllClose(
        [kernels.low, kernels.high, kernels.step],
        [recorded.low, recorded.high, recorded.step],
        1e-12,
        0,
        `${what} bounds`,
      );
      expect(kernels.log, `${what}: an integer log domain's bins kept`).toBe(recorded.log ?? false);
    }
  });
}

describe.each(VERSIONS)('TPE at $version decides as that Optuna', ({ version, file }) => {
  const recorded = fixture(file);
  it(`was recorded from Optuna ${version.slice('optuna-'.length)}`, () => {
    expect(recorded.optuna.startsWith(version.slice('optuna-'.length))).toBe(true);
  });
  for (const scenario of recorded.scenarios) {
    it(`${scenario.name}: the split exactly, the estimators to 1e-12, the log densities to 1e-9, the same candidate chosen`, () => {
      for (const decision of scenario.decisions) {
        const at = `trial ${decision.trial} (${decision.params.join(',')})`;
        const trials = trialsAt(scenario, decision);
        const finished = trials.filter((t) => t.state !== 'RUNNING').length;
        const { below, above } = splitTrials(trials, scenario.direction, defaultGamma(finished));
        expect(
          below.map((t) => t.index),
          `below at ${at}`,
        ).toEqual(decision.below);
        expect(
          above.map((t) => t.index),
          `above at ${at}`,
        ).toEqual(decision.above);

        const domains = decision.params.map((name) => domainOf(scenario.space[name]!));
        const internal = (value: number, domain: TpeDomain) =>
          domain.kind !== 'categorical' && domain.log ? Math.log(value) : value;
        const observe = (group: TpeTrial<Record<string, number>>[]) =>
          decision.params.map((name, i) => group.map((t) => internal(t.params[name]!, domains[i]!)));
        const options = parzenOptionsOf(version, scenario.multivariate);
        const l = parzenEstimator(observe(below), domains, options);
        const g = parzenEstimator(observe(above), domains, options);
        expectEstimator(l, decision.estimators.below, `below at ${at}`);
        expectEstimator(g, decision.estimators.above, `above at ${at}`);

        const candidates = decision.params.map((name, i) =>
          decision.candidates[name]!.map((v) => kernelInput(l.kernels[i]!, domains[i]!, v)),
        );
        const logL = logPdf(l, candidates);
        const logG = logPdf(g, candidates);
        expectAllClose(logL, decision.logBelow, 1e-9, 1e-9, `log l at ${at}`);
        expectAllClose(logG, decision.logAbove, 1e-9, 1e-9, `log g at ${at}`);
        const score = logL.map((v, i) => v - logG[i]!);
        expect(score.indexOf(Math.max(...score)), `chosen at ${at}`).toBe(decision.chosen);
      }
    });
  }
});
