/**
 * TPE's numerics against SciPy (test/fixtures/tpe/generate_numerics.py):
 * every branch of erf and erfc, log Φ's three regimes, and truncated normals
 * left of, straddling and right of zero, narrow and wide.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { erf, erfc } from '../../src/domain/experiment/tpe/erf.js';
import {
  logGaussMass,
  logNdtr,
  ndtriExp,
  truncnormLogPdf,
  truncnormPpf,
} from '../../src/domain/experiment/tpe/truncnorm.js';

interface Truncated {
  x: number;
  a: number;
  b: number;
  loc: number;
  scale: number;
  q: number;
  logPdf: number;
  logMass: number;
  ppf: number | null;
}
const reference = JSON.parse(readFileSync(new URL('../fixtures/tpe/numerics.json', import.meta.url), 'utf8')) as {
  erf: [number, number][];
  erfc: [number, number][];
  libm: [number, number, number][];
  logNdtr: [number, number][];
  ndtriExp: [number, number][];
  truncated: Truncated[];
};

/** |actual - expected| within `relative` of |expected|, plus `absolute`. */
function expectClose(actual: number, expected: number, relative: number, what: string, absolute = 0): void {
  const error = Math.abs(actual - expected);
  if (!(error <= relative * Math.abs(expected) + absolute)) {
    throw new Error(`${what}: ${actual} against ${expected} (error ${error})`);
  }
}

describe('erf and erfc, as libm computes them', () => {
  // glibc evaluates the same polynomials in another order, and exp rounds
  // differently from V8's: a few ulp apart, far inside TPE's needs (1e-12).
  it("are Python's math.erf and math.erfc (the C library's) within a few ulp, on every branch, both signs", () => {
    for (const [x, erfOf, erfcOf] of reference.libm) {
      expectClose(erf(x), erfOf, 1e-15, `erf(${x})`);
      expectClose(erfc(x), erfcOf, 4e-15, `erfc(${x})`);
    }
  });

  it('agree with SciPy, an independent implementation, within a few ulp', () => {
    for (const [x, expected] of reference.erf) expectClose(erf(x), expected, 1e-15, `erf(${x})`);
    for (const [x, expected] of reference.erfc) expectClose(erfc(x), expected, 4e-15, `erfc(${x})`);
  });

  it('are exact at the limits: ±1 and 0/2 at infinity, NaN for NaN', () => {
    expect([erf(Infinity), erf(-Infinity), erfc(Infinity), erfc(-Infinity)]).toEqual([1, -1, 0, 2]);
    expect(Number.isNaN(erf(Number.NaN)) && Number.isNaN(erfc(Number.NaN))).toBe(true);
    expect(Object.is(erf(-0), -0)).toBe(true);
  });
});

describe('log Φ and its inverse', () => {
  it('log Φ agrees with SciPy in the body, below -20 (asymptotic series) and above 6', () => {
    // Absolutely near 0 (Φ near 1), where log(Φ) carries Φ's absolute error, as Optuna's does.
    for (const [x, expected] of reference.logNdtr) expectClose(logNdtr(x), expected, 1e-13, `logNdtr(${x})`, 1e-16);
  });

  it("the inverse of log Φ, by Newton's method, agrees with SciPy", () => {
    for (const [y, expected] of reference.ndtriExp) expectClose(ndtriExp(y), expected, 1e-12, `ndtriExp(${y})`);
  });
});

describe('the truncated normal', () => {
  it('log mass, log density (with its −log σ term) and quantile agree with SciPy', () => {
    for (const t of reference.truncated) {
      const where = `a=${t.a} b=${t.b}`;
      // Absolutely near 0, where Optuna's formula straddling zero cancels (as the original does).
      expectClose(logGaussMass(t.a, t.b), t.logMass, 1e-12, `log mass ${where}`, 1e-15);
      expectClose(truncnormLogPdf(t.x, t.a, t.b, t.loc, t.scale), t.logPdf, 1e-12, `log pdf ${where}`, 1e-15);
      if (t.ppf !== null) expectClose(truncnormPpf(t.q, t.a, t.b), t.ppf, 1e-9, `ppf(${t.q}) ${where}`, 1e-12);
    }
  });

  it('has no density outside its bounds, and its quantiles 0 and 1 are its bounds', () => {
    expect(truncnormLogPdf(3, -1, 1, 0, 1)).toBe(-Infinity);
    expect(truncnormLogPdf(-1.5, -1, 1, 0, 1)).toBe(-Infinity);
    expect([truncnormPpf(0, -1, 2), truncnormPpf(1, -1, 2)]).toEqual([-1, 2]);
  });
});
