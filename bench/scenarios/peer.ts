/**
 * The peer: the same trial lifecycle (ask, 10 reports each checked by the
 * median pruner, tell) on Optuna with its SQLite storage, W processes, when a
 * Python with Optuna is installed (bench/peer/optuna_lifecycle.py).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioResult } from '../result.js';

const script = fileURLToPath(new URL('../peer/optuna_lifecycle.py', import.meta.url));

/** The first Python that can import Optuna, and its Optuna version. */
export function findOptuna(): { python: string; version: string } | undefined {
  for (const python of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)) {
    const probe = spawnSync(python, ['-c', 'import optuna; print(optuna.__version__)'], { encoding: 'utf8' });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
  }
  return undefined;
}

export function optunaLifecycle(
  dir: string,
  optuna: { python: string; version: string },
  workers: number,
  seconds: number,
): ScenarioResult {
  const run = spawnSync(optuna.python, [script, join(dir, `optuna-${workers}.db`), String(workers), String(seconds)], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`optuna peer failed: ${run.stderr}`);
  const { trials, seconds: elapsed } = JSON.parse(run.stdout.trim()) as { trials: number; seconds: number };
  return {
    scenario: `peer: Optuna ${optuna.version}, SQLite storage, ${workers} worker process${workers > 1 ? 'es' : ''}, 10 reports + median pruner`,
    rate: trials / elapsed,
    unit: 'trials/s',
  };
}
