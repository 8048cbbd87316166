/**
 * The natural logarithm rounded correctly to the nearest double, as glibc's
 * `log` (and so Python's math.log) gives it. V8's Math.log is sometimes one
 * ulp off (Math.log(3) is 1.0986122886681096, glibc's 1.0986122886681098),
 * and Hyperband's bracket count floors log(max / min) / log(rf), where one ulp
 * decides: Python's log(243, 3) is 4.999999999999999 (5 brackets), V8's
 * quotient exactly 5 (6). So the logarithm is computed in double-double
 * arithmetic (about 106 bits) and rounded once.
 */

type DD = [number, number];

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function twoProduct(a: number, b: number): DD {
  const p = a * b;
  // Veltkamp splitting (no fused multiply-add in JavaScript).
  const split = (x: number): DD => {
    const c = 134217729 * x; // 2^27 + 1
    const hi = c - (c - x);
    return [hi, x - hi];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function add(x: DD, y: DD): DD {
  const [s, e] = twoSum(x[0], y[0]);
  return twoSum(s, e + x[1] + y[1]);
}

function mul(x: DD, y: DD): DD {
  const [p, e] = twoProduct(x[0], y[0]);
  return twoSum(p, e + x[0] * y[1] + x[1] * y[0]);
}

function div(x: DD, y: DD): DD {
  const q1 = x[0] / y[0];
  const r = add(x, mul(y, [-q1, 0]));
  const q2 = r[0] / y[0];
  const r2 = add(r, mul(y, [-q2, 0]));
  const q3 = r2[0] / y[0];
  return add(twoSum(q1, q2), [q3, 0]);
}

const LN2: DD = [0.6931471805599453, 2.3190468138462996e-17];

/** ln(x) for a finite x > 0, correctly rounded but for the rarest halfway cases. */
export function correctLog(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return Math.log(x);
  // x = m · 2^e with m in [√½, √2): ln x = e·ln 2 + 2·atanh((m − 1)/(m + 1)).
  let e = Math.floor(Math.log2(x));
  let m = x / 2 ** e;
  if (m > Math.SQRT2) {
    m /= 2;
    e += 1;
  } else if (m < Math.SQRT1_2) {
    m *= 2;
    e -= 1;
  }
  const s = div([m - 1, 0], twoSum(m, 1));
  const s2 = mul(s, s);
  let term = s;
  let sum: DD = s;
  for (let k = 3; k < 80; k += 2) {
    term = mul(term, s2);
    const next = add(sum, div(term, [k, 0]));
    if (next[0] === sum[0] && next[1] === sum[1]) break;
    sum = next;
  }
  const result = add(mul(LN2, [e, 0]), mul(sum, [2, 0]));
  return result[0] + result[1];
}
