#!/usr/bin/env python3
"""The same trial lifecycle on Optuna with its RDB (SQLite) storage, for comparison.

W worker processes each loop for SECONDS: ask a trial (random sampler), report
10 intermediate values one at a time with the median pruner's check after
each, and tell the trial complete (or pruned). Prints {"trials": n,
"seconds": s} as JSON. Used by `npm run bench` when Optuna is installed.

usage: optuna_lifecycle.py DB_PATH WORKERS SECONDS
"""
import json
import multiprocessing
import random
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def work(storage, name, until, counter):
    study = optuna.load_study(study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(),
                              pruner=optuna.pruners.MedianPruner())
    done = 0
    while time.time() < until:
        trial = study.ask()
        trial.suggest_float("x", 0, 1)
        state = optuna.trial.TrialState.COMPLETE
        for step in range(10):
            trial.report(random.random() + 1 / (step + 1), step)
            if trial.should_prune():
                state = optuna.trial.TrialState.PRUNED
                break
        study.tell(trial, random.random() if state == optuna.trial.TrialState.COMPLETE else None, state=state)
        done += 1
    with counter.get_lock():
        counter.value += done


def main():
    path, workers, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}", engine_kwargs={"connect_args": {"timeout": 60}})
    optuna.create_study(study_name="bench", storage=storage, direction="minimize")
    counter = multiprocessing.Value("i", 0)
    started = time.time()
    until = started + seconds
    procs = [multiprocessing.Process(target=work, args=(f"sqlite:///{path}", "bench", until, counter)) for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(json.dumps({"trials": counter.value, "seconds": time.time() - started}))


if __name__ == "__main__":
    main()
