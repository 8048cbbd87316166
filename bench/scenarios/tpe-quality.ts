/**
 * TPE's quality, side by side with Optuna's: on each test function
 * (bench/tpe/functions.ts), `seeds` searches of `trials` trials one at a time
 * by Trialog's TPE, Trialog's RANDOM and Optuna's TPESampler (when a Python
 * with Optuna is installed), the best value after each checkpoint, as the
 * median over seeds of log10(best − optimum). Issue 17's bars: TPE beats
 * RANDOM in every cell, is at most 0.4 decades worse than Optuna in any cell
 * and at most 0.15 worse on average.
 *
 * Trialog's searches run in process through the scheduler's pure proposal
 * (the same function a claim calls), so this measures the algorithm, not the
 * server.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Json } from '../../src/domain/job/events.js';
import { sampleSpace } from '../../src/domain/experiment/sampling.js';
import { ExperimentSettings } from '../../src/domain/experiment/settings.js';
import { proposeTpe, type TrialParams } from '../../src/domain/experiment/tpe/propose.js';
import type { TpeTrial } from '../../src/domain/experiment/tpe/split.js';
import { TEST_FUNCTIONS, type TestFunction } from '../tpe/functions.js';

const peerScript = fileURLToPath(new URL('../peer/optuna_tpe_quality.py', import.meta.url));

export interface QualityPlan {
  trials: number;
  seeds: number;
  checkpoints: number[];
}

export const FULL_QUALITY: QualityPlan = { trials: 200, seeds: 20, checkpoints: [100, 200] };
export const QUICK_QUALITY: QualityPlan = { trials: 30, seeds: 2, checkpoints: [20, 30] };

/** The best value after each checkpoint of one search. */
function search(fn: TestFunction, seed: number, plan: QualityPlan, sampler: 'TPE' | 'RANDOM'): number[] {
  const settings = ExperimentSettings.parse({
    name: 'bench',
    objective: { metric: 'value', direction: 'MINIMIZE' },
    scheduler: { tpe: { space: fn.space, seed } },
  });
  const tpe = { ...settings.scheduler.tpe!, seed };
  const trials: TpeTrial<TrialParams>[] = [];
  const values: number[] = [];
  for (let index = 0; index < plan.trials; index++) {
    const params: Record<string, Json> =
      sampler === 'TPE'
        ? proposeTpe(tpe, 'MINIMIZE', trials, index).hyperparameters
        : sampleSpace(tpe.space, seed, index);
    const value = fn.value(params);
    values.push(value);
    trials.push({ index, state: 'COMPLETE', value, lastReport: null, params });
  }
  return plan.checkpoints.map((c) => Math.min(...values.slice(0, c)));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** log10 of the distance to the optimum, floored at 1e-12 (an optimum hit exactly). */
const decades = (best: number, optimum: number) => Math.log10(Math.max(best - optimum, 1e-12));

function optunaBest(python: string, plan: QualityPlan): { version: string; best: Record<string, number[][]> } | string {
  const run = spawnSync(python, [peerScript, String(plan.trials), String(plan.seeds), plan.checkpoints.join(',')], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (run.status !== 0) return `the Optuna run failed: ${run.stderr.split('\n').slice(-3).join(' ')}`;
  return JSON.parse(run.stdout) as { version: string; best: Record<string, number[][]> };
}

/** Runs the comparison and returns it as a Markdown section. */
export function tpeQuality(plan: QualityPlan, python: string | undefined, log: (m: string) => void): string {
  const started = performance.now();
  const peer = python ? optunaBest(python, plan) : 'no python3 with optuna (set PYTHON to one that has it)';
  const lines = [
    '## TPE against Optuna',
    '',
    `Median over ${plan.seeds} seeds of log10(best value − optimum) after each checkpoint (lower is better), one` +
      ` trial at a time; Optuna: ${typeof peer === 'string' ? `not run (${peer})` : `${peer.version}, TPESampler defaults`}.`,
    '',
    '| function | trials | Trialog TPE | Trialog RANDOM | Optuna TPE | TPE − Optuna (decades) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const gaps: number[] = [];
  let beatsRandom = true;
  for (const fn of TEST_FUNCTIONS) {
    const runs = (sampler: 'TPE' | 'RANDOM') =>
      Array.from({ length: plan.seeds }, (_, seed) => search(fn, seed, plan, sampler));
    const tpe = runs('TPE');
    const random = runs('RANDOM');
    log(`TPE quality: ${fn.name} done`);
    plan.checkpoints.forEach((checkpoint, c) => {
      const ours = median(tpe.map((r) => decades(r[c]!, fn.optimum)));
      const baseline = median(random.map((r) => decades(r[c]!, fn.optimum)));
      beatsRandom &&= ours < baseline;
      let optuna = '';
      let gap = '';
      if (typeof peer !== 'string') {
        const theirs = median(peer.best[fn.name]!.map((r) => decades(r[c]!, fn.optimum)));
        gaps.push(ours - theirs);
        optuna = theirs.toFixed(2);
        gap = (ours - theirs).toFixed(2);
      }
      lines.push(`| ${fn.name} | ${checkpoint} | ${ours.toFixed(2)} | ${baseline.toFixed(2)} | ${optuna} | ${gap} |`);
    });
  }
  const worst = gaps.length ? Math.max(...gaps) : Number.NaN;
  const mean = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : Number.NaN;
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  lines.push(
    '',
    `Bars: TPE beats RANDOM in every cell: ${verdict(beatsRandom)}.` +
      (gaps.length
        ? ` At most 0.4 decades worse than Optuna in any cell: ${verdict(worst <= 0.4)} (worst ${worst.toFixed(2)}).` +
          ` At most 0.15 worse on average: ${verdict(mean <= 0.15)} (mean ${mean.toFixed(2)}).`
        : ' Against Optuna: not measured.'),
    `${Math.round((performance.now() - started) / 1000)} s.`,
    '',
  );
  return lines.join('\n');
}
