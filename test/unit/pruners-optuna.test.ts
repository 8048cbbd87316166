/**
 * The early-stopping rules decide as Optuna 3.1 does: every decision Optuna
 * made in `fixtures/optuna/decisions.json` (recorded by `generate.py` with
 * Debian's python3-optuna) is replayed here through Trialog's own rules; and
 * hand-computed cases pin the startup, warmup and interval edges.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeReport } from '../../src/domain/job/early-stopping.js';
import {
  bracketBudgets,
  bracketCount,
  bracketOf,
  bracketRule,
  hyperbandBudgets,
  type HyperbandRule,
} from '../../src/domain/experiment/hyperband.js';
import {
  medianPrunes,
  nanPercentile,
  seriesBeforeOf,
  successiveHalving,
  type Direction,
  type MedianRule,
  type SuccessiveHalvingRule,
} from '../../src/domain/experiment/pruners.js';

interface Scenario {
  kind: 'median' | 'successiveHalving' | 'hyperband';
  /** Hyperband: the study's name, which with a trial's number picks its bracket. */
  name: string | null;
  direction: Direction;
  rule: MedianRule | SuccessiveHalvingRule | HyperbandRule;
  log: (
    { trial: number; step: number; value: number; prune: boolean } | { end: number; state: 'COMPLETE' | 'PRUNED' }
  )[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/optuna/decisions.json', import.meta.url), 'utf8')) as {
  optuna: string;
  scenarios: Scenario[];
};

/**
 * How one report is judged: by the rules on the trial's whole series, or as
 * the server judges a report (`judgeReport`), against what the rules read of
 * the series before it (its summary, as the read model answers it).
 */
type Judging = 'whole series' | 'report against the series before it';

/** Replays a scenario; returns the reports where Trialog's decision differs from Optuna's. */
function replay(scenario: Scenario, judging: Judging = 'whole series'): string[] {
  const values = new Map<number, Map<number, number>>();
  const rungs = new Map<number, number[]>(); // trial -> value per rung reached
  const completed = new Set<number>();
  const mismatches: string[] = [];
  for (const entry of scenario.log) {
    if ('end' in entry) {
      if (entry.state === 'COMPLETE') completed.add(entry.end);
      continue;
    }
    const trial = values.get(entry.trial) ?? new Map<number, number>();
    values.set(entry.trial, trial);
    const before = seriesBeforeOf(new Map(trial));
    if (!trial.has(entry.step)) trial.set(entry.step, entry.value); // first value stands
    let prune: boolean;
    if (judging === 'report against the series before it') {
      const own = rungs.get(entry.trial) ?? [];
      const verdict = judgeReport(
        {
          metric: 'objective',
          direction: scenario.direction,
          median: scenario.kind === 'median' ? (scenario.rule as MedianRule) : null,
          successiveHalving: scenario.kind === 'median' ? null : (scenario.rule as SuccessiveHalvingRule),
          baseline: before,
          completed: [...completed].map((n) => values.get(n)!),
          recordedAt: (rung) =>
            [...rungs].filter(([n, r]) => n !== entry.trial && r.length > rung).map(([, r]) => r[rung]!),
        },
        [{ name: 'objective', step: entry.step, value: entry.value }],
        own.length,
      );
      for (const { value } of verdict.reached) own.push(value);
      rungs.set(entry.trial, own);
      // A step the trial had is judged again, as Optuna's should_prune after a repeated report.
      prune = verdict.prune !== null;
    } else if (scenario.kind === 'median') {
      const done = [...completed].map((n) => values.get(n)!);
      prune = medianPrunes(scenario.rule as MedianRule, scenario.direction, trial, done);
    } else {
      const own = rungs.get(entry.trial) ?? [];
      const decision = successiveHalving(
        scenario.rule as SuccessiveHalvingRule,
        scenario.direction,
        trial,
        own.length,
        (rung) => [...rungs].filter(([n, r]) => n !== entry.trial && r.length > rung).map(([, r]) => r[rung]!),
      );
      for (const { value } of decision.reached) own.push(value);
      rungs.set(entry.trial, own);
      prune = decision.prune;
    }
    if (prune !== entry.prune) {
      mismatches.push(`trial ${entry.trial} step ${entry.step}: Optuna ${entry.prune}, Trialog ${prune}`);
    }
  }
  return mismatches;
}

/**
 * Replays a Hyperband scenario as the server judges a report: the bracket from
 * the study's name and the trial's number, max_resource from the first
 * completed trial when "auto", the bracket's successive halving against its
 * own rungs.
 */
function replayHyperband(scenario: Scenario): string[] {
  const rule = scenario.rule as HyperbandRule;
  const values = new Map<number, Map<number, number>>();
  const rungs = new Map<number, number[]>();
  const completed = new Set<number>();
  const mismatches: string[] = [];
  for (const entry of scenario.log) {
    if ('end' in entry) {
      if (entry.state === 'COMPLETE') completed.add(entry.end);
      continue;
    }
    const trial = values.get(entry.trial) ?? new Map<number, number>();
    values.set(entry.trial, trial);
    const before = seriesBeforeOf(new Map(trial));
    if (!trial.has(entry.step)) trial.set(entry.step, entry.value);
    // "auto": the first trial to complete with a report fixes it.
    const first = [...completed].find((n) => (values.get(n)?.size ?? 0) > 0);
    const budgets = hyperbandBudgets(rule, () => (first === undefined ? null : Math.max(...values.get(first)!.keys())));
    let prune = false;
    if (budgets) {
      const bracket = bracketOf(scenario.name!, entry.trial, budgets);
      const own = rungs.get(entry.trial) ?? [];
      const verdict = judgeReport(
        {
          metric: 'objective',
          direction: scenario.direction,
          median: null,
          successiveHalving: bracketRule(rule, bracket),
          bracket,
          baseline: before,
          completed: [],
          recordedAt: (rung) =>
            [...rungs]
              .filter(
                ([n, r]) => n !== entry.trial && r.length > rung && bracketOf(scenario.name!, n, budgets) === bracket,
              )
              .map(([, r]) => r[rung]!),
        },
        [{ name: 'objective', step: entry.step, value: entry.value }],
        own.length,
      );
      for (const { value } of verdict.reached) own.push(value);
      rungs.set(entry.trial, own);
      prune = verdict.prune !== null;
      if (verdict.prune) expect(verdict.prune).toMatchObject({ rule: 'hyperband', bracket });
    }
    if (prune !== entry.prune) {
      mismatches.push(`trial ${entry.trial} step ${entry.step}: Optuna ${entry.prune}, Trialog ${prune}`);
    }
  }
  return mismatches;
}

describe(`Hyperband decides as Optuna ${fixture.optuna}`, () => {
  it('every recorded decision equal: brackets by hash, each its own successive halving, "auto" from the completed trials', () => {
    const scenarios = fixture.scenarios.filter((s) => s.kind === 'hyperband');
    expect(scenarios.length).toBeGreaterThan(0);
    expect(scenarios.some((s) => (s.rule as HyperbandRule).maxSteps === null)).toBe(true);
    const reports = scenarios.flatMap((s) => s.log.filter((e) => 'trial' in e));
    expect(reports.filter((r) => 'prune' in r && r.prune).length).toBeGreaterThan(100);
    const mismatches = scenarios.flatMap((s, i) => replayHyperband(s).map((m) => `scenario ${i}: ${m}`));
    expect(mismatches).toEqual([]);
  });

  it("counts brackets with Python's rounding of log(max / min, rf)", () => {
    // log(243, 3) is 4.999999999999999 in floating point: 5 brackets, not 6.
    expect(bracketCount(1, 243, 3)).toBe(5);
    expect(bracketCount(1, 1000, 10)).toBe(3);
    expect(bracketCount(1, 125, 5)).toBe(4);
  });

  it("gives brackets Optuna's budgets and picks a trial's bracket by CRC-32 of name_number", () => {
    expect(bracketBudgets(4, 3)).toEqual([27, 12, 6, 4]);
    // zlib.crc32("cmp_0") % 49 = 34: past bracket 0's 27, inside bracket 1's 12.
    expect(bracketOf('cmp', 0, [27, 12, 6, 4])).toBe(1);
  });
});

describe(`the same decisions as Optuna ${fixture.optuna}`, () => {
  for (const kind of ['median', 'successiveHalving'] as const) {
    const scenarios = fixture.scenarios.filter((s) => s.kind === kind);
    for (const judging of ['whole series', 'report against the series before it'] as const) {
      it(`${kind}, each ${judging}: ${scenarios.length} recorded scenarios, every decision equal`, () => {
        const reports = scenarios.flatMap((s) => s.log.filter((e) => 'trial' in e));
        expect(reports.length).toBeGreaterThan(1000);
        // The fixture exercises both answers.
        expect(reports.some((r) => 'prune' in r && r.prune)).toBe(true);
        const mismatches = scenarios.flatMap((s, i) => replay(s, judging).map((m) => `scenario ${i}: ${m}`));
        expect(mismatches).toEqual([]);
      });
    }
  }
});

const values = (entries: [number, number][]) => new Map(entries);

describe('median: hand-computed cases', () => {
  const rule: MedianRule = { startupJobs: 2, warmupSteps: 2, intervalSteps: 2, minJobs: 1 };
  const completed = [
    values([
      [2, 1],
      [4, 1],
    ]),
    values([
      [2, 3],
      [4, 3],
    ]),
    values([
      [2, 5],
      [4, 5],
    ]),
  ];

  it('prunes a minimising trial whose best value is above the median of the completed at its step', () => {
    expect(
      medianPrunes(
        rule,
        'MINIMIZE',
        values([
          [0, 9],
          [1, 9],
          [2, 4],
        ]),
        completed,
      ),
    ).toBe(true); // 4 > 3
    expect(
      medianPrunes(
        rule,
        'MINIMIZE',
        values([
          [0, 9],
          [1, 2.5],
          [2, 4],
        ]),
        completed,
      ),
    ).toBe(false); // best 2.5
  });

  it('prunes a maximising trial whose best value is below the median', () => {
    expect(medianPrunes(rule, 'MAXIMIZE', values([[2, 2]]), completed)).toBe(true);
    expect(medianPrunes(rule, 'MAXIMIZE', values([[2, 3]]), completed)).toBe(false); // equal is kept
  });

  it('never prunes during startup: fewer completed jobs than startupJobs', () => {
    expect(medianPrunes(rule, 'MINIMIZE', values([[2, 100]]), completed.slice(0, 1))).toBe(false);
    expect(medianPrunes(rule, 'MINIMIZE', values([[2, 100]]), completed.slice(0, 2))).toBe(true);
  });

  it('never prunes before the warmup steps', () => {
    expect(medianPrunes(rule, 'MINIMIZE', values([[1, 100]]), [values([[1, 0]]), values([[1, 0]])])).toBe(false);
  });

  it('checks only at the first report in each interval after warmup', () => {
    // interval 2 after warmup 2: checks at 2, 4, 6…; a report at 3 after one at 2 is not checked.
    expect(
      medianPrunes(
        rule,
        'MINIMIZE',
        values([
          [2, 0],
          [3, 100],
        ]),
        [values([[3, 0]]), values([[3, 0]])],
      ),
    ).toBe(false);
    // …but at 3 when nothing was reported since the check at 2 was missed.
    expect(
      medianPrunes(
        rule,
        'MINIMIZE',
        values([
          [1, 100],
          [3, 100],
        ]),
        [values([[3, 0]]), values([[3, 0]])],
      ),
    ).toBe(true);
  });

  it('does not prune when fewer than minJobs completed jobs reported at that step', () => {
    const strict = { ...rule, minJobs: 3 };
    expect(medianPrunes(strict, 'MINIMIZE', values([[2, 100]]), completed.slice(0, 2))).toBe(false);
    expect(medianPrunes(strict, 'MINIMIZE', values([[2, 100]]), completed)).toBe(true);
  });

  it('interpolates percentiles as numpy does', () => {
    expect(nanPercentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(nanPercentile([5, 1, 3], 50)).toBe(3);
    expect(nanPercentile([1, 2, 3, 4], 25)).toBe(1.75);
  });
});

describe('a report judged against the series before it', () => {
  // Interval 4 from step 0: steps 8 to 11 share an interval; only the first of them reported is judged.
  const rule: MedianRule = { startupJobs: 0, warmupSteps: 0, intervalSteps: 4, minJobs: 1 };
  const completed = [values([[9, 1]]), values([[9, 1]])];
  const judging = (before: [number, number][]) => ({
    metric: 'loss',
    direction: 'MINIMIZE' as const,
    median: rule,
    successiveHalving: null,
    baseline: seriesBeforeOf(values(before)),
    completed,
    recordedAt: () => [],
  });

  it('given steps 0 and 9, when step 8 comes late, then it counts as the step before the last: 9 is no longer first in its interval and is kept (as Optuna)', () => {
    const verdict = judgeReport(
      judging([
        [0, 5],
        [9, 5],
      ]),
      [{ name: 'loss', step: 8, value: 5 }],
      0,
    );
    expect(verdict.prune).toBeNull();
    // The same series, whole: Optuna's rule agrees.
    expect(
      medianPrunes(
        rule,
        'MINIMIZE',
        values([
          [0, 5],
          [9, 5],
          [8, 5],
        ]),
        completed,
      ),
    ).toBe(false);
  });

  it('given step 0 only, when step 9 comes, then it is first in its interval and judged against the median at 9', () => {
    const verdict = judgeReport(judging([[0, 5]]), [{ name: 'loss', step: 9, value: 5 }], 0);
    expect(verdict.prune).toMatchObject({ rule: 'median', step: 9, threshold: 1, comparedTrials: 2 });
  });
});

describe('successive halving: hand-computed cases', () => {
  const rule: SuccessiveHalvingRule = { minSteps: 1, reductionFactor: 2, maxSteps: null };

  it('before the first rung (step < minSteps) nothing is decided or recorded', () => {
    expect(successiveHalving({ ...rule, minSteps: 3 }, 'MINIMIZE', values([[2, 1]]), 0, () => [])).toEqual({
      prune: false,
      reached: [],
    });
  });

  it('records the value at each rung it passes and continues within the top 1/reductionFactor', () => {
    // rungs at steps 1, 2, 4: a report at step 4 passes rungs 0, 1 and 2 at once.
    const decision = successiveHalving(rule, 'MINIMIZE', values([[4, 0.5]]), 0, () => [1, 2, 3]);
    expect(decision).toEqual({
      prune: false,
      reached: [
        { rung: 0, value: 0.5 },
        { rung: 1, value: 0.5 },
        { rung: 2, value: 0.5 },
      ],
    });
  });

  it('prunes outside the top 1/reductionFactor, after recording the rung', () => {
    // competing [1, 2, 3, 2.5]: index 4/2-1 = 1 of sorted [1, 2, 2.5, 3] is 2; 2.5 > 2.
    expect(successiveHalving(rule, 'MINIMIZE', values([[1, 2.5]]), 0, () => [1, 2, 3])).toEqual({
      prune: true,
      reached: [{ rung: 0, value: 2.5 }],
    });
  });

  it('with fewer competitors than reductionFactor, only the best so far continues', () => {
    expect(successiveHalving(rule, 'MAXIMIZE', values([[1, 5]]), 0, () => [6]).prune).toBe(true);
    expect(successiveHalving(rule, 'MAXIMIZE', values([[1, 7]]), 0, () => [6]).prune).toBe(false);
  });

  it('starts from the rungs the trial already reached', () => {
    expect(
      successiveHalving(
        rule,
        'MINIMIZE',
        values([
          [1, 9],
          [2, 9],
        ]),
        1,
        (rung) => (rung === 1 ? [1, 1, 1] : []),
      ),
    ).toEqual({
      prune: true,
      reached: [{ rung: 1, value: 9 }],
    });
  });

  it('evaluates no rung above maxSteps', () => {
    expect(successiveHalving({ ...rule, maxSteps: 2 }, 'MINIMIZE', values([[4, 9]]), 2, () => [0, 0, 0])).toEqual({
      prune: false,
      reached: [],
    });
  });
});

describe('a step reported again is judged again, as Optuna judges it', () => {
  // Optuna 3.1: A reports step 0 = 5; B reports step 0 = 1 and completes; A reports step 0 again:
  // trial.report keeps 5, and should_prune() then prunes A against B.
  const series = (entries: [number, number][]) => seriesBeforeOf(values(entries));
  const rule = (overrides: Partial<Parameters<typeof judgeReport>[0]>) => ({
    metric: 'loss',
    direction: 'MINIMIZE' as const,
    median: null,
    successiveHalving: null,
    baseline: series([[0, 5]]),
    completed: [],
    recordedAt: () => [],
    ...overrides,
  });

  it('median: given A at step 0 = 5 and B completed since at step 0 = 1, when A reports step 0 again, then A is pruned at step 0 with its first value', () => {
    const verdict = judgeReport(
      rule({
        median: { startupJobs: 0, warmupSteps: 0, intervalSteps: 1, minJobs: 1 },
        completed: [values([[0, 1]])],
      }),
      [{ name: 'loss', step: 0, value: 0.5 }],
      0,
    );
    expect(verdict.prune).toEqual({ rule: 'median', step: 0, value: 5, threshold: 1, comparedTrials: 1, rung: null });
  });

  it('successive halving: given A at rung 0 = 5 and B recorded a better value there since, when A reports step 0 again, then A is judged at its largest step and pruned at rung 0', () => {
    const verdict = judgeReport(
      rule({
        successiveHalving: { minSteps: 1, reductionFactor: 2, maxSteps: null },
        baseline: series([
          [0, 6],
          [1, 5],
        ]),
        recordedAt: (rung) => (rung === 0 ? [1, 2, 3] : [1]),
      }),
      [{ name: 'loss', step: 0, value: 0.1 }],
      0,
    );
    expect(verdict.prune).toMatchObject({ rule: 'successiveHalving', step: 1, value: 5, rung: 0, threshold: 2 });
  });

  it('given nothing new since, when the step is reported again, then the verdict is the one it had', () => {
    const verdict = judgeReport(
      rule({ median: { startupJobs: 0, warmupSteps: 0, intervalSteps: 1, minJobs: 1 }, completed: [values([[0, 9]])] }),
      [{ name: 'loss', step: 0, value: 0.5 }],
      0,
    );
    expect(verdict.prune).toBeNull();
  });
});
