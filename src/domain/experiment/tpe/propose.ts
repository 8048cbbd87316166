/**
 * The next trial of a TPE search, and the record of why (Optuna 4.6's
 * TPESampler by default, or a later version's; independent by default, with
 * the constant liar on).
 *
 * Until `startupTrials` trials have completed or been pruned, a trial is what
 * RANDOM with the same seed would draw. After that, for each parameter (or
 * all together when multivariate) the finished trials are split into the best
 * γ(n) and the rest, running trials joining the rest; a density is fitted to
 * each, `candidates` values are drawn from the good one, and the first with
 * the highest log l(x) − log g(x) is proposed. Random numbers are keyed by
 * (seed, trial index, parameter), so a proposal depends only on its inputs,
 * and the decision recorded in JobCreated names those inputs: a replay reads
 * the record and never proposes again.
 */
import type { Json } from '../../job/events.js';
import { sampleSpace, uniformStream } from '../sampling.js';
import type { Parameter } from '../settings.js';
import { kernelInput, logPdf, parzenEstimator, sampleCandidates, type TpeDomain } from './parzen.js';
import { externalValue, internalValue, tpeDomainOf } from './space.js';
import { defaultGamma, splitTrials, type Direction, type TpeTrial } from './split.js';
import { DEFAULT_TPE_VERSION, parzenOptionsOf, type TpeVersion } from './versions.js';

export interface TpeOptions {
  space: readonly Parameter[];
  seed: number;
  startupTrials: number;
  candidates: number;
  multivariate: boolean;
  constantLiar: boolean;
  /** Whose algorithm the proposals follow; recorded with each. Settings written before versions existed have none: 4.6. */
  version?: TpeVersion | undefined;
}

export type TpeDecision =
  | { sampler: 'TPE'; version: string; mode: 'STARTUP'; finished: number }
  | {
      sampler: 'TPE';
      version: string;
      mode: 'TPE';
      /** Completed and pruned trials considered: n of γ(n). */
      finished: number;
      /** Their slots, as ranges ("0-8,10"): with `below` and `running`, every input of the split. */
      considered: string;
      /** The good trials' slots (at most 25). */
      below: number[];
      /** Running trials counted as bad (the constant liar). */
      running: number[];
    };

export type TrialParams = Record<string, Json>;

/** Slots as ranges: [0, 1, 2, 5] is "0-2,5". */
export function slotRanges(slots: readonly number[]): string {
  const sorted = [...slots].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

export function proposeTpe(
  options: TpeOptions,
  direction: Direction,
  trials: readonly TpeTrial<TrialParams>[],
  index: number,
): { hyperparameters: TrialParams; decision: TpeDecision } {
  const finished = trials.filter((t) => t.state !== 'RUNNING');
  const version = options.version ?? DEFAULT_TPE_VERSION;
  if (finished.length < options.startupTrials) {
    return {
      hyperparameters: sampleSpace(options.space, options.seed, index),
      decision: { sampler: 'TPE', version, mode: 'STARTUP', finished: finished.length },
    };
  }
  const considered = options.constantLiar ? trials : finished;
  const { below, above } = splitTrials(considered, direction, defaultGamma(finished.length));

  const modelled = options.space.flatMap((parameter) => {
    const domain = tpeDomainOf(parameter.distribution);
    return domain ? [{ parameter, domain }] : [];
  });
  const groups = options.multivariate ? [modelled] : modelled.map((m) => [m]);
  const proposed: TrialParams = {};
  for (const group of groups) {
    if (group.length === 0) continue;
    const key = options.multivariate
      ? `${options.seed}:${index}:tpe`
      : `${options.seed}:${index}:tpe:${group[0]!.parameter.name}`;
    Object.assign(proposed, proposeGroup(group, below, above, options, version, key));
  }
  const hyperparameters: TrialParams = Object.fromEntries(
    options.space.map((p) => [
      p.name,
      p.distribution.constant !== undefined ? p.distribution.constant : proposed[p.name]!,
    ]),
  );
  return {
    hyperparameters,
    decision: {
      sampler: 'TPE',
      version,
      mode: 'TPE',
      finished: finished.length,
      considered: slotRanges(finished.map((t) => t.index)),
      below: below.map((t) => t.index),
      running: above.filter((t) => t.state === 'RUNNING').map((t) => t.index),
    },
  };
}

interface Modelled {
  parameter: Parameter;
  domain: TpeDomain;
}

/** The proposal for one group of parameters: the candidate of l most likely good over bad. */
function proposeGroup(
  group: readonly Modelled[],
  below: readonly TpeTrial<TrialParams>[],
  above: readonly TpeTrial<TrialParams>[],
  options: TpeOptions,
  version: TpeVersion,
  key: string,
): TrialParams {
  const domains = group.map((m) => m.domain);
  const observe = (trials: readonly TpeTrial<TrialParams>[]): number[][] => {
    // A trial is an observation of the group only where every value is a point of its domain.
    const values = trials
      .map((t) => group.map((m) => internalValue(m.domain, m.parameter.distribution, t.params[m.parameter.name])))
      .filter((row): row is number[] => row.every((v) => v !== null));
    return group.map((_, i) => values.map((row) => row[i]!));
  };
  const parzen = parzenOptionsOf(version, options.multivariate);
  const good = parzenEstimator(observe(below), domains, parzen);
  const bad = parzenEstimator(observe(above), domains, parzen);
  const drawn = sampleCandidates(good, options.candidates, uniformStream(key));
  // As Optuna: each candidate becomes a hyperparameter first (integers snapped), and is judged as such.
  const external = group.map((m, i) => drawn[i]!.map((x) => externalValue(m.domain, m.parameter.distribution, x)));
  const judged = group.map((m, i) =>
    external[i]!.map((v, c) =>
      m.domain.kind === 'categorical' ? drawn[i]![c]! : kernelInput(good.kernels[i]!, m.domain, v as number),
    ),
  );
  const l = logPdf(good, judged);
  const g = logPdf(bad, judged);
  let best = 0;
  for (let c = 1; c < l.length; c++) if (l[c]! - g[c]! > l[best]! - g[best]!) best = c;
  return Object.fromEntries(group.map((m, i) => [m.parameter.name, external[i]![best]!]));
}
