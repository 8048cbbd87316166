/** The correctly rounded logarithm Hyperband's bracket count needs, against glibc's (Python's math.log). */
import { describe, expect, it } from 'vitest';
import { correctLog } from '../../src/domain/experiment/correct-log.js';

describe('the correctly rounded natural logarithm', () => {
  it("is glibc's where V8's Math.log is one ulp off", () => {
    // Python 3.11 on glibc 2.36: math.log(3), math.log(243), math.log(59049).
    expect(Math.log(3)).toBe(1.0986122886681096);
    expect(correctLog(3)).toBe(1.0986122886681098);
    expect(correctLog(243)).toBe(5.493061443340548);
    expect(correctLog(59049)).toBe(10.986122886681096);
  });

  it('agrees with Math.log within one ulp everywhere, and exactly at powers of two', () => {
    for (let i = 0; i < 5000; i++) {
      const x = Math.exp((i / 5000 - 0.5) * 200);
      const ours = correctLog(x);
      expect(Math.abs(ours - Math.log(x))).toBeLessThanOrEqual(Math.abs(ours) * 2.3e-16);
    }
    expect(correctLog(8)).toBe(3 * Math.LN2);
    expect(correctLog(1)).toBe(0);
  });
});
