/**
 * TPE's Parzen estimator, as Optuna 4.6 builds it, or 4.7 and 4.9 where
 * `ParzenOptions` ask for their changes
 * (optuna/samplers/_tpe/parzen_estimator.py, probability_distributions.py):
 * a mixture with one kernel per observation plus a prior kernel, each a
 * product over the parameters of a truncated normal (continuous), a truncated
 * normal's mass over a bin (integers and stepped floats) or a row of
 * category probabilities. The arithmetic keeps Optuna's order of operations
 * (numpy's pairwise sums included), so the densities agree to the last bits
 * and ties between candidates break the same way.
 */
import { argsort, pairwiseSum, roundHalfEven } from './numpy-order.js';
import { logGaussMass, truncnormLogPdf, truncnormPpf } from './truncnorm.js';

/** One parameter as TPE models it. Values outside it are not observations. */
export type TpeDomain =
  | { kind: 'float'; low: number; high: number; log: boolean; step: number | null }
  | { kind: 'int'; low: number; high: number; log: boolean; step: number }
  | { kind: 'categorical'; choices: number };

export interface ParzenOptions {
  /** One bandwidth rule for all parameters (Scott's, as BOHB) instead of each from its neighbours. */
  multivariate: boolean;
  priorWeight: number;
  magicClip: boolean;
  endpoints: boolean;
  /**
   * Optuna 4.7 (#6258): an integer log domain gets a discrete kernel, each
   * value's mass between log(x − step/2) and log(x + step/2), where 4.6 used
   * a continuous density over log space. 4.7 also widens stepped bounds by
   * half a step before anything else, which moves some results by an ulp.
   */
  logIntegerMass: boolean;
  /** Whether the prior's mean is a neighbour when bandwidths are set (4.6 and 4.7); 4.9 leaves it out. */
  priorInBandwidth: boolean;
}

export const DEFAULT_PARZEN_OPTIONS: ParzenOptions = {
  multivariate: false,
  priorWeight: 1,
  magicClip: true,
  endpoints: false,
  logIntegerMass: false,
  priorInBandwidth: true,
};

/**
 * Kernels of one numeric parameter: means and bandwidths (the prior's last),
 * on [low, high], bins of `step` (0: none). With `log`, the bins are an
 * integer log domain's values: low, high and step are the domain's own, the
 * means and bandwidths are in log space.
 */
export interface NumericKernels {
  kind: 'numeric';
  mus: number[];
  sigmas: number[];
  low: number;
  high: number;
  step: number;
  log: boolean;
}

/** Kernels of one categorical parameter: a row of probabilities per kernel (the prior's last). */
export interface CategoricalKernels {
  kind: 'categorical';
  weights: number[][];
}

export interface ParzenEstimator {
  /** The mixture's weights, one per kernel, the prior's last. */
  weights: number[];
  /** Per parameter, in the search space's order. */
  kernels: (NumericKernels | CategoricalKernels)[];
}

/** Optuna's `default_weights`: flat for the newest 25, a linear ramp from 1/n before them. */
export function defaultWeights(n: number): number[] {
  if (n < 25) return Array.from({ length: n }, () => 1);
  const ramp = n - 25;
  const step = ramp > 1 ? (1 - 1 / n) / (ramp - 1) : Number.NaN;
  const out = Array.from({ length: ramp }, (_, i) => (ramp > 1 ? i * step + 1 / n : 1 / n));
  if (ramp > 1) out[ramp - 1] = 1;
  return out.concat(Array.from({ length: 25 }, () => 1));
}

type NumericDomain = Exclude<TpeDomain, { kind: 'categorical' }>;

/**
 * Where a numeric domain's kernels sit: `edges` bound the bandwidths and the
 * prior (in log space on log domains, half a step out on stepped ones), and
 * `kernels` is what the kernels record. 4.6 models an integer log domain as
 * continuous over log space; 4.7 keeps its bins.
 */
function numericLayout(
  domain: NumericDomain,
  options: ParzenOptions,
): { edges: { low: number; high: number }; kernels: Pick<NumericKernels, 'low' | 'high' | 'step' | 'log'> } {
  const step = domain.step ?? 0;
  if (!options.logIntegerMass) {
    if (domain.log && step !== 0) {
      const low = Math.log(domain.low - step / 2);
      const high = Math.log(domain.high + step / 2);
      return { edges: { low, high }, kernels: { low, high, step: 0, log: false } };
    }
    if (domain.log) {
      const low = Math.log(domain.low);
      const high = Math.log(domain.high);
      return { edges: { low, high }, kernels: { low, high, step: 0, log: false } };
    }
    // 4.6 adds the half steps where it uses them; the edges below say where.
    return {
      edges: { low: domain.low, high: domain.high },
      kernels: { low: domain.low, high: domain.high, step, log: false },
    };
  }
  const low = domain.low - step / 2;
  const high = domain.high + step / 2;
  if (!domain.log) return { edges: { low, high }, kernels: { low: domain.low, high: domain.high, step, log: false } };
  const logEdges = { low: Math.log(low), high: Math.log(high) };
  if (step === 0) return { edges: logEdges, kernels: { ...logEdges, step: 0, log: false } };
  return { edges: logEdges, kernels: { low: domain.low, high: domain.high, step, log: true } };
}

/**
 * The estimator over `observations` (per parameter, the transformed values of
 * the same trials, oldest first).
 */
export function parzenEstimator(
  observations: number[][],
  domains: readonly TpeDomain[],
  options: ParzenOptions = DEFAULT_PARZEN_OPTIONS,
): ParzenEstimator {
  const n = observations[0]?.length ?? 0;
  const raw = n === 0 ? [1] : [...defaultWeights(n), options.priorWeight];
  const total = pairwiseSum(raw);
  return {
    weights: raw.map((w) => w / total),
    kernels: domains.map((domain, i) =>
      domain.kind === 'categorical'
        ? categoricalKernels(observations[i]!, domain.choices, options)
        : numericKernels(observations[i]!, domain, domains.length, options),
    ),
  };
}

function categoricalKernels(observed: number[], choices: number, options: ParzenOptions): CategoricalKernels {
  if (observed.length === 0)
    return { kind: 'categorical', weights: [Array.from({ length: choices }, () => 1 / choices)] };
  const kernels = observed.length + 1;
  const rows = Array.from({ length: kernels }, () =>
    Array.from({ length: choices }, () => options.priorWeight / kernels),
  );
  observed.forEach((choice, i) => (rows[i]![choice]! += 1));
  return {
    kind: 'categorical',
    weights: rows.map((row) => {
      const sum = pairwiseSum(row);
      return row.map((w) => w / (sum === 0 ? 1 : sum));
    }),
  };
}

function numericKernels(
  observed: number[],
  domain: NumericDomain,
  dimensions: number,
  options: ParzenOptions,
): NumericKernels {
  const n = observed.length;
  const { edges: bounds, kernels } = numericLayout(domain, options);
  const { low, high } = bounds;
  // 4.6 widens by the bin inside each expression, 4.7 once up front: the same number but for an ulp.
  const half = options.logIntegerMass ? 0 : kernels.step / 2;
  const width = options.logIntegerMass ? high - low : high - low + kernels.step;
  const priorMu = 0.5 * (low + high);
  let sigmas: number[];
  if (options.multivariate) {
    const sigma = 0.2 * Math.pow(Math.max(n, 1), -1 / (dimensions + 4)) * width;
    sigmas = observed.map(() => sigma);
  } else {
    // Each kernel as wide as the larger gap to its neighbours (up to 4.7, the prior's mean among them).
    const neighbours = options.priorInBandwidth ? [...observed, priorMu] : observed;
    const order = argsort(neighbours);
    const edges = [low - half, ...order.map((i) => neighbours[i]!), high + half];
    const sorted = order.map((_, i) => Math.max(edges[i + 1]! - edges[i]!, edges[i + 2]! - edges[i + 1]!));
    if (!options.endpoints && edges.length >= 4) {
      sorted[0] = edges[2]! - edges[1]!;
      sorted[sorted.length - 1] = edges[edges.length - 2]! - edges[edges.length - 3]!;
    }
    const byObservation = new Array<number>(neighbours.length);
    order.forEach((observation, position) => (byObservation[observation] = sorted[position]!));
    sigmas = byObservation.slice(0, n);
  }
  const maxSigma = width;
  // The prior counts among the kernels here in every version.
  const minSigma = options.magicClip ? width / Math.min(100, 1 + (n + 1)) : 1e-12;
  const clipped = sigmas.map((s) => Math.min(Math.max(s, minSigma), maxSigma));
  return { kind: 'numeric', mus: [...observed, priorMu], sigmas: [...clipped, width], ...kernels };
}

/**
 * A candidate as the kernels of its parameter read it: the logarithm on log
 * domains, but an integer log domain's own value where its bins are kept
 * (`log`), the choice's index on categorical ones.
 */
export function kernelInput(kernels: NumericKernels | CategoricalKernels, domain: TpeDomain, value: number): number {
  if (kernels.kind === 'categorical' || kernels.log) return value;
  return domain.kind !== 'categorical' && domain.log ? Math.log(value) : value;
}

/** A bin's edge where the kernels live: its logarithm on an integer log domain whose bins are kept. */
function binEdge(kernels: NumericKernels, edge: number): number {
  return kernels.log ? Math.log(edge) : edge;
}

/**
 * log p(x) of each candidate (transformed values, one array per parameter).
 * Terms are added in Optuna's order: categorical and binned ones parameter by
 * parameter, then the continuous ones summed together, then the log weights.
 */
export function logPdf(estimator: ParzenEstimator, candidates: number[][]): number[] {
  const count = candidates[0]?.length ?? 0;
  const k = estimator.weights.length;
  const out: number[] = [];
  const continuous = estimator.kernels.flatMap((kernels, i) =>
    kernels.kind === 'numeric' && kernels.step === 0 ? [i] : [],
  );
  for (let c = 0; c < count; c++) {
    const terms = new Array<number>(k).fill(0);
    estimator.kernels.forEach((kernels, i) => {
      const x = candidates[i]![c]!;
      if (kernels.kind === 'categorical') {
        for (let j = 0; j < k; j++) terms[j]! += Math.log(kernels.weights[j]![x]!);
      } else if (kernels.step !== 0) {
        // The mass of x's bin, over the mass of the whole domain.
        const { mus, sigmas, low, high, step } = kernels;
        const [lower, upper] = [binEdge(kernels, x - step / 2), binEdge(kernels, x + step / 2)];
        const [lowEdge, highEdge] = [binEdge(kernels, low - step / 2), binEdge(kernels, high + step / 2)];
        for (let j = 0; j < k; j++) {
          const mu = mus[j]!;
          const sigma = sigmas[j]!;
          terms[j]! += logGaussMass((lower - mu) / sigma, (upper - mu) / sigma);
        }
        for (let j = 0; j < k; j++) {
          const mu = mus[j]!;
          const sigma = sigmas[j]!;
          terms[j]! -= logGaussMass((lowEdge - mu) / sigma, (highEdge - mu) / sigma);
        }
      }
    });
    if (continuous.length > 0) {
      for (let j = 0; j < k; j++) {
        const each = continuous.map((i) => {
          const { mus, sigmas, low, high } = estimator.kernels[i] as NumericKernels;
          const mu = mus[j]!;
          const sigma = sigmas[j]!;
          return truncnormLogPdf(candidates[i]![c]!, (low - mu) / sigma, (high - mu) / sigma, mu, sigma);
        });
        terms[j]! += pairwiseSum(each);
      }
    }
    for (let j = 0; j < k; j++) terms[j]! += Math.log(estimator.weights[j]!);
    let max = Math.max(...terms);
    if (max === Number.NEGATIVE_INFINITY) max = 0;
    out.push(Math.log(pairwiseSum(terms.map((t) => Math.exp(t - max)))) + max);
  }
  return out;
}

/**
 * `count` candidates drawn from the estimator (transformed values, one array
 * per parameter), taking uniforms in Optuna's order: the kernel of each
 * candidate, then the categorical parameters, then the numeric ones. An
 * integer log domain's draws stay in log space, unsnapped, in every version:
 * the hyperparameter is taken from them as 4.6 took it.
 */
export function sampleCandidates(estimator: ParzenEstimator, count: number, uniform: () => number): number[][] {
  const cdf: number[] = [];
  estimator.weights.reduce((sum, w) => (cdf.push(sum + w), sum + w), 0);
  const last = cdf[cdf.length - 1]!;
  const normalized = cdf.map((c) => c / last);
  const active = Array.from({ length: count }, () => {
    const u = uniform();
    const index = normalized.findIndex((c) => c > u);
    return index === -1 ? normalized.length - 1 : index;
  });
  const out: number[][] = estimator.kernels.map(() => []);
  estimator.kernels.forEach((kernels, i) => {
    if (kernels.kind !== 'categorical') return;
    for (const kernel of active) {
      const u = uniform();
      const row = kernels.weights[kernel]!;
      let cumulative = 0;
      let below = 0;
      row.forEach((p, j) => {
        cumulative = j === row.length - 1 ? 1 : cumulative + p;
        if (cumulative < u) below++;
      });
      out[i]!.push(below);
    }
  });
  estimator.kernels.forEach((kernels, i) => {
    if (kernels.kind === 'categorical') return;
    const { mus, sigmas, low, high, step, log } = kernels;
    const lowEdge = binEdge(kernels, low - step / 2);
    const highEdge = binEdge(kernels, high + step / 2);
    for (const kernel of active) {
      const mu = mus[kernel]!;
      const sigma = sigmas[kernel]!;
      const x = truncnormPpf(uniform(), (lowEdge - mu) / sigma, (highEdge - mu) / sigma) * sigma + mu;
      const binned = step !== 0 && !log;
      out[i]!.push(binned ? Math.min(Math.max(low + roundHalfEven((x - low) / step) * step, low), high) : x);
    }
  });
  return out;
}
