"""Optuna's TPESampler (defaults, one trial at a time) on the functions of
bench/tpe/functions.ts: the best value found after each checkpoint, per
function and seed, as JSON on stdout.

    python3 bench/peer/optuna_tpe_quality.py TRIALS SEEDS CHECKPOINT[,CHECKPOINT…]

Debian's python3-optuna is 3.1, whose truncated-normal log density lacks the
-log(sigma) term (Optuna #5109, fixed in 3.5): it is patched in here, which
makes 3.1 decide as 4.x does on numeric spaces.
"""
import json
import math
import sys
import warnings

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")

version = tuple(int(p) for p in optuna.__version__.split(".")[:2])
if version < (3, 5):
    from optuna.samplers._tpe import _truncnorm

    _logpdf = _truncnorm.logpdf
    _truncnorm.logpdf = lambda x, a, b, loc=0, scale=1: _logpdf(x, a, b, loc, scale) - np.log(scale)


def branin(t):
    a, b = t.suggest_float("x1", -5, 10), t.suggest_float("x2", 0, 15)
    return (b - 5.1 / (4 * math.pi**2) * a**2 + 5 / math.pi * a - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(a) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [
    [v * 1e-4 for v in row]
    for row in [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
]


def hartmann6(t):
    x = [t.suggest_float(f"x{i}", 0, 1) for i in range(6)]
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6))) for i in range(4))


def rosenbrock4(t):
    x = [t.suggest_float(f"x{i}", -5, 10) for i in range(4)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


COST = {"relu": 0.3, "tanh": 0.5, "gelu": 0.0, "sigmoid": 0.8}


def mixed(t):
    layers = t.suggest_int("layers", 0, 20)
    units = t.suggest_int("units", 1, 1024, log=True)
    dropout = t.suggest_float("dropout", 0, 1, step=0.05)
    activation = t.suggest_categorical("activation", ["relu", "tanh", "gelu", "sigmoid"])
    x = t.suggest_float("x", -3, 3)
    return (
        (layers - 13) ** 2 / 40
        + (math.log2(units) - 7) ** 2 / 10
        + 4 * (dropout - 0.35) ** 2
        + COST[activation]
        + (x - 0.7) ** 2 / 3
    )


FUNCTIONS = {"Branin": branin, "Hartmann-6": hartmann6, "Rosenbrock-4D": rosenbrock4, "Mixed": mixed}

trials, seeds = int(sys.argv[1]), int(sys.argv[2])
checkpoints = [int(c) for c in sys.argv[3].split(",")]
out = {"version": optuna.__version__, "best": {}}
for name, objective in FUNCTIONS.items():
    out["best"][name] = []
    for seed in range(seeds):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(objective, n_trials=trials)
        values = [t.value for t in study.trials]
        out["best"][name].append([min(values[:c]) for c in checkpoints])
print(json.dumps(out))
