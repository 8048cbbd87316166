/**
 * The test functions TPE's quality is measured on, each with its search space
 * (as Trialog declares it) and its optimum. bench/peer/optuna_tpe_quality.py
 * defines the same ones for Optuna: keep the two in step.
 */
import type { Json } from '../../src/domain/job/events.js';

export interface TestFunction {
  name: string;
  space: { name: string; distribution: Record<string, unknown> }[];
  optimum: number;
  value(params: Record<string, Json>): number;
}

const uniform = (name: string, low: number, high: number) => ({ name, distribution: { uniform: { low, high } } });

const branin: TestFunction = {
  name: 'Branin',
  space: [uniform('x1', -5, 10), uniform('x2', 0, 15)],
  optimum: 0.397887357729739,
  value: ({ x1, x2 }) => {
    const [a, b] = [x1 as number, x2 as number];
    return (
      (b - (5.1 / (4 * Math.PI ** 2)) * a ** 2 + (5 / Math.PI) * a - 6) ** 2 +
      10 * (1 - 1 / (8 * Math.PI)) * Math.cos(a) +
      10
    );
  },
};

const ALPHA = [1.0, 1.2, 3.0, 3.2];
const A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

const hartmann6: TestFunction = {
  name: 'Hartmann-6',
  space: [0, 1, 2, 3, 4, 5].map((i) => uniform(`x${i}`, 0, 1)),
  optimum: -3.32236801141551,
  value: (params) => {
    const x = [0, 1, 2, 3, 4, 5].map((i) => params[`x${i}`] as number);
    return -ALPHA.reduce((sum, alpha, i) => {
      const inner = x.reduce((s, xj, j) => s + A[i]![j]! * (xj - P[i]![j]!) ** 2, 0);
      return sum + alpha * Math.exp(-inner);
    }, 0);
  },
};

const rosenbrock4: TestFunction = {
  name: 'Rosenbrock-4D',
  space: [0, 1, 2, 3].map((i) => uniform(`x${i}`, -5, 10)),
  optimum: 0,
  value: (params) => {
    const x = [0, 1, 2, 3].map((i) => params[`x${i}`] as number);
    let sum = 0;
    for (let i = 0; i < 3; i++) sum += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
    return sum;
  },
};

const ACTIVATION_COST: Record<string, number> = { relu: 0.3, tanh: 0.5, gelu: 0, sigmoid: 0.8 };

/** Integers, log integers, a stepped float, a categorical and a float: optimum 0 at (13, 128, 0.35, gelu, 0.7). */
const mixed: TestFunction = {
  name: 'Mixed',
  space: [
    { name: 'layers', distribution: { intUniform: { low: 0, high: 20 } } },
    { name: 'units', distribution: { intLogUniform: { low: 1, high: 1024 } } },
    { name: 'dropout', distribution: { uniform: { low: 0, high: 1, step: 0.05 } } },
    { name: 'activation', distribution: { choice: { values: ['relu', 'tanh', 'gelu', 'sigmoid'] } } },
    uniform('x', -3, 3),
  ],
  optimum: 0,
  value: ({ layers, units, dropout, activation, x }) =>
    ((layers as number) - 13) ** 2 / 40 +
    (Math.log2(units as number) - 7) ** 2 / 10 +
    4 * ((dropout as number) - 0.35) ** 2 +
    ACTIVATION_COST[activation as string]! +
    ((x as number) - 0.7) ** 2 / 3,
};

export const TEST_FUNCTIONS = [branin, hartmann6, rosenbrock4, mixed];
