/**
 * Deterministic sampling. Every draw is keyed by (seed, trial index,
 * parameter name): the same seed gives the same trials in any order of
 * claims and across restarts, because no generator carries hidden state from
 * one trial to the next.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../job/events.js';
import type { Distribution, Parameter } from './settings.js';

/** Uniform numbers in [0, 1), as many as asked (up to 4), from the key's hash. */
export function uniforms(key: string, count: number): number[] {
  const digest = createHash('sha256').update(key).digest();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    // 53 random bits per draw: the full precision of a double.
    const high = digest.readUInt32BE(i * 8) >>> 5; // 27 bits
    const low = digest.readUInt32BE(i * 8 + 4) >>> 6; // 26 bits
    out.push((high * 67108864 + low) / 9007199254740992);
  }
  return out;
}

/**
 * How many values low, low + step, … lie in [low, high]: the last whole step
 * that fits, with room for the rounding of a decimal step (0.3 / 0.1 is
 * 2.9999999999999996 in binary).
 */
export function stepsIn(low: number, high: number, step: number): number {
  return Math.floor((high - low) / step + 1e-9) + 1;
}

/**
 * An endless stream of uniform numbers in [0, 1) for one key: block i is the
 * hash of (key, i), four draws each. A sampler that needs many draws (TPE's
 * candidates) takes them in order; the key still fixes them all.
 */
export function uniformStream(key: string): () => number {
  let block: number[] = [];
  let next = 0;
  return () => {
    if (block.length === 0) block = uniforms(`${key}:${next++}`, 4).reverse();
    return block.pop()!;
  };
}

function standardNormal(u1: number, u2: number): number {
  // Box–Muller; 1 - u1 lies in (0, 1], so the logarithm is finite.
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

export function sample(distribution: Distribution, key: string): Json {
  const [u1, u2] = uniforms(key, 2) as [number, number];
  if (distribution.constant !== undefined) return distribution.constant;
  if (distribution.uniform) {
    const { low, high, step } = distribution.uniform;
    if (step != null) return low + step * Math.floor(u1 * stepsIn(low, high, step));
    return low + u1 * (high - low);
  }
  if (distribution.logUniform) {
    const { low, high } = distribution.logUniform;
    return Math.exp(Math.log(low) + u1 * (Math.log(high) - Math.log(low)));
  }
  if (distribution.intUniform) {
    const { low, high, step } = distribution.intUniform;
    const count = Math.floor((high - low) / step) + 1;
    return low + step * Math.floor(u1 * count);
  }
  if (distribution.intLogUniform) {
    // As Optuna: uniform in log space over the integers' cells [low - ½, high + ½], then the nearest integer.
    const { low, high } = distribution.intLogUniform;
    const x = Math.exp(Math.log(low - 0.5) + u1 * (Math.log(high + 0.5) - Math.log(low - 0.5)));
    return Math.min(Math.max(Math.round(x), low), high);
  }
  if (distribution.normal) return distribution.normal.mean + distribution.normal.std * standardNormal(u1, u2);
  if (distribution.logNormal) {
    return Math.exp(distribution.logNormal.mean + distribution.logNormal.std * standardNormal(u1, u2));
  }
  if (distribution.choice) {
    const { values, weights } = distribution.choice;
    const w = weights ?? values.map(() => 1);
    const total = w.reduce((a, b) => a + b, 0);
    let acc = 0;
    for (let i = 0; i < values.length; i++) {
      acc += w[i]! / total;
      if (u1 < acc) return values[i]!;
    }
    return values[values.length - 1]!;
  }
  throw new TypeError('a distribution with no kind');
}

export function sampleSpace(space: readonly Parameter[], seed: number, index: number): Record<string, Json> {
  return Object.fromEntries(space.map((p) => [p.name, sample(p.distribution, `${seed}:${index}:${p.name}`)]));
}
