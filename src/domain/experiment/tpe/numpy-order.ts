/**
 * The few numpy behaviours whose rounding or order TPE's results depend on,
 * so that Trialog's choices are Optuna's to the last bit where they can be:
 *
 * - `pairwiseSum`: numpy's `sum` adds in blocks of eight, then pairs, not left
 *   to right; the mixture's weights and log-sum-exp go through it.
 * - `argsort`: numpy's default sort of indices (introsort) is not stable past
 *   16 elements, and which of two equal observations comes first decides
 *   which one gets which bandwidth.
 * - `roundHalfEven`: numpy rounds halves to even, JavaScript's Math.round up.
 */

/** numpy's pairwise summation (numpy/core/src/umath/loops_utils.h, PW_BLOCKSIZE 128). */
export function pairwiseSum(values: ArrayLike<number>, start = 0, length = values.length - start): number {
  if (length < 8) {
    let sum = 0; // numpy starts from -0.0 and adds in order; -0 + x = x for every x but -0
    for (let i = 0; i < length; i++) sum += values[start + i]!;
    return length === 0 ? 0 : sum;
  }
  if (length <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => values[start + j]!);
    let i = 8;
    for (; i < length - (length % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j]! += values[start + i + j]!;
    }
    let sum = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < length; i++) sum += values[start + i]!;
    return sum;
  }
  let half = Math.floor(length / 2);
  half -= half % 8;
  return pairwiseSum(values, start, half) + pairwiseSum(values, start + half, length - half);
}

/** Indices that sort `values` ascending, in the order numpy 1.24's `argsort` (introsort) leaves ties. */
export function argsort(values: readonly number[]): number[] {
  const v = values;
  const t = values.map((_, i) => i);
  const num = t.length;
  if (num <= 1) return t;
  const swap = (i: number, j: number) => {
    const x = t[i]!;
    t[i] = t[j]!;
    t[j] = x;
  };
  let pl = 0;
  let pr = num - 1;
  const stack: [number, number, number][] = [];
  let depth = 2 * Math.floor(Math.log2(num));
  for (;;) {
    if (depth < 0) {
      heapsortIndices(v, t, pl, pr - pl + 1);
    } else {
      while (pr - pl > 15) {
        const pm = pl + ((pr - pl) >> 1);
        if (v[t[pm]!]! < v[t[pl]!]!) swap(pm, pl);
        if (v[t[pr]!]! < v[t[pm]!]!) swap(pr, pm);
        if (v[t[pm]!]! < v[t[pl]!]!) swap(pm, pl);
        const pivot = v[t[pm]!]!;
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do pi++;
          while (v[t[pi]!]! < pivot);
          do pj--;
          while (pivot < v[t[pj]!]!);
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        depth--;
        if (pi - pl < pr - pi) {
          stack.push([pi + 1, pr, depth]);
          pr = pi - 1;
        } else {
          stack.push([pl, pi - 1, depth]);
          pl = pi + 1;
        }
      }
      for (let pi = pl + 1; pi <= pr; pi++) {
        const vi = t[pi]!;
        const value = v[vi]!;
        let pj = pi;
        while (pj > pl && value < v[t[pj - 1]!]!) {
          t[pj] = t[pj - 1]!;
          pj--;
        }
        t[pj] = vi;
      }
    }
    const next = stack.pop();
    if (!next) return t;
    [pl, pr, depth] = next;
  }
}

/** numpy's `aheapsort_` on t[lo .. lo + n - 1] (1-based inside, as numpy's). */
function heapsortIndices(v: readonly number[], t: number[], lo: number, n: number): void {
  const at = (i: number) => t[lo + i - 1]!;
  const set = (i: number, x: number) => (t[lo + i - 1] = x);
  const siftDown = (top: number, size: number, item: number) => {
    let i = top;
    let j = top << 1;
    while (j <= size) {
      if (j < size && v[at(j)]! < v[at(j + 1)]!) j++;
      if (v[item]! < v[at(j)]!) {
        set(i, at(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, item);
  };
  for (let l = n >> 1; l > 0; l--) siftDown(l, n, at(l));
  for (let size = n; size > 1;) {
    const item = at(size);
    set(size, at(1));
    size--;
    siftDown(1, size, item);
  }
}

/** Rounds to the nearest integer, halves to even (numpy's `round`). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
