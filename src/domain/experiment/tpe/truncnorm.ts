/**
 * The standard normal's log CDF and the truncated normal's log mass, log
 * density and quantile, computed as Optuna's TPE computes them
 * (optuna/samplers/_tpe/_truncnorm.py, itself from SciPy): TPE's kernels are
 * truncated normals, and its choice between candidates compares sums of
 * these log densities, so the same formulas (the same tails, the same
 * cancellation-avoiding branches) keep Trialog's choices Optuna's.
 */
import { erf, erfc } from './erf.js';

const LOG_SQRT_2PI = Math.log(Math.sqrt(2 * Math.PI));

/** log(e^p + e^q) without overflow, as numpy's logaddexp. */
export function logAddExp(p: number, q: number): number {
  if (p === q) return p + Math.LN2;
  const d = p - q;
  if (d > 0) return p + Math.log1p(Math.exp(-d));
  if (d <= 0) return q + Math.log1p(Math.exp(d));
  return p + q; // NaN
}

/** log(e^p - e^q) for p ≥ q. */
function logDiff(p: number, q: number): number {
  return p + Math.log1p(-Math.exp(q - p));
}

/** The standard normal CDF Φ(a), each side from erfc where erf would cancel. */
export function ndtr(a: number): number {
  const x = a / Math.SQRT2;
  if (x < -Math.SQRT1_2) return 0.5 * erfc(-x);
  if (x < Math.SQRT1_2) return 0.5 + 0.5 * erf(x);
  return 1 - 0.5 * erfc(x);
}

/** log Φ(a): exact in the body, the asymptotic series below -20, log1p's limit above 6. */
export function logNdtr(a: number): number {
  if (a > 6) return -ndtr(-a);
  if (a > -20) return Math.log(ndtr(a));
  const logLeft = -0.5 * a * a - Math.log(-a) - 0.5 * Math.log(2 * Math.PI);
  let lastTotal = 0;
  let rightSide = 1;
  let numerator = 1;
  let denominatorFactor = 1;
  const denominatorStep = 1 / (a * a);
  let sign = 1;
  for (let i = 1; Math.abs(lastTotal - rightSide) > Number.EPSILON; i++) {
    lastTotal = rightSide;
    sign = -sign;
    denominatorFactor *= denominatorStep;
    numerator *= 2 * i - 1;
    rightSide += sign * numerator * denominatorFactor;
  }
  return logLeft + Math.log(rightSide);
}

/** log(Φ(b) - Φ(a)), a < b: worked in the left tail, where it is accurate. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  // Straddling zero: 1 - Φ(a) - Φ(-b) avoids the cancellation of Φ(b) - Φ(a) near 1.
  return Math.log1p(-(0.5 + 0.5 * erf(a / Math.SQRT2)) - (0.5 + 0.5 * erf(-b / Math.SQRT2)));
}

/**
 * The x with log Φ(x) = y, by Newton's method from Optuna's starting guess
 * (4.5 and later; bisection before), in the upper tail on the mirrored side.
 */
export function ndtriExp(y: number): number {
  const flipped = y > -1e-2;
  const z = flipped ? Math.log(-Math.expm1(y)) : y;
  let x = z < -5 ? -Math.sqrt(-2 * (z + LOG_SQRT_2PI)) : (-Math.sqrt(3) / Math.PI) * Math.log(Math.expm1(-z));
  for (let i = 0; i < 100; i++) {
    const logPhi = logNdtr(x);
    const dx = (logPhi - z) * Math.exp(logPhi - (-0.5 * x * x - LOG_SQRT_2PI));
    x -= dx;
    if (Math.abs(dx) < 1e-8 * Math.abs(x)) break;
  }
  return flipped ? -x : x;
}

/** The q-quantile of the standard normal truncated to [a, b]. */
export function truncnormPpf(q: number, a: number, b: number): number {
  if (a === b) return Number.NaN;
  if (q === 0) return a;
  if (q === 1) return b;
  if (a < 0) return ndtriExp(logAddExp(logNdtr(a), Math.log(q) + logGaussMass(a, b)));
  return -ndtriExp(logAddExp(logNdtr(-b), Math.log1p(-q) + logGaussMass(a, b)));
}

/**
 * The log density at x of N(loc, scale²) truncated to [loc + a·scale, loc + b·scale]
 * (a and b standardized), -∞ outside. The −log(scale) term is Optuna's since 3.5 (#5109).
 */
export function truncnormLogPdf(x: number, a: number, b: number, loc: number, scale: number): number {
  if (a === b) return Number.NaN;
  const z = (x - loc) / scale;
  if (z < a || b < z) return Number.NEGATIVE_INFINITY;
  return -(z * z) / 2 - LOG_SQRT_2PI - logGaussMass(a, b) - Math.log(scale);
}
