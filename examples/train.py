#!/usr/bin/env python3
"""A stand-in training script for Trialog's worker, standard library only.

It "trains" a model whose loss depends on its hyperparameters, the way a
real script would use them:

  * hyperparameters arrive as arguments (--lr 0.01 --layers 3 --dropout 0.1),
    and, for scripts that prefer it, as JSON in $TRIALOG_HPARAMS;
  * each epoch prints metric lines the worker reports:
        TRIALOG_METRIC {"name": "loss", "value": 0.31, "step": 12}
    and a progress line (TRIALOG_PROGRESS 0.4); anything else printed is the job's log;
  * each epoch writes a checkpoint to $TRIALOG_OUTPUT_DIR; a PBT child starts
    from its parent's checkpoint in $TRIALOG_CHECKPOINT_FROM;
  * at the end it writes result.json, which becomes the job's result;
  * on SIGTERM (the job was cancelled or pruned) it saves and exits.

Run it by hand:   python3 examples/train.py --lr 0.01 --epochs 5
Run it as jobs:   npx trialog worker --experiment example-random -- python3 examples/train.py --epochs 20
"""
import argparse
import json
import math
import os
import random
import signal
import sys
import time


def parse_args():
    hparams = json.loads(os.environ.get("TRIALOG_HPARAMS") or "{}")
    # No abbreviations: a search's --epoch=5 must not reach --epochs (see "Running training commands" in the README).
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--lr", type=float, default=hparams.get("lr", 0.01))
    parser.add_argument("--layers", type=int, default=hparams.get("layers", 2))
    parser.add_argument("--dropout", type=float, default=hparams.get("dropout", 0.1))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--epoch-seconds", type=float, default=0.05, help="how long each epoch pretends to take")
    # Hyperparameters this script does not know (a search may add some) are ignored, not fatal.
    args, unknown = parser.parse_known_args()
    if unknown:
        print(f"ignoring unknown arguments: {' '.join(unknown)}", file=sys.stderr)
    return args


def metric(name, value, step):
    print("TRIALOG_METRIC " + json.dumps({"name": name, "value": value, "step": step}), flush=True)


def load_checkpoint(directory):
    """The parent's last checkpoint (PBT), or a fresh start."""
    path = os.path.join(directory, "checkpoint.json") if directory else ""
    if path and os.path.exists(path):
        with open(path) as f:
            checkpoint = json.load(f)
        print(f"resuming from {path} at epoch {checkpoint['epoch']}", flush=True)
        return checkpoint
    return {"epoch": 0, "quality": 0.0}


def save(path, payload):
    # Write then rename: a reader never sees half a file.
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f)
    os.replace(tmp, path)


def main():
    args = parse_args()
    output_dir = os.environ.get("TRIALOG_OUTPUT_DIR") or "."
    os.makedirs(output_dir, exist_ok=True)
    checkpoint_path = os.path.join(output_dir, "checkpoint.json")
    state = load_checkpoint(os.environ.get("TRIALOG_CHECKPOINT_FROM"))

    stopping = {"now": False}

    def on_term(signum, frame):
        stopping["now"] = True

    signal.signal(signal.SIGTERM, on_term)

    # The best learning rate is about 0.03, more layers help a little, dropout around 0.2.
    fit = math.exp(-(math.log10(args.lr) - math.log10(0.03)) ** 2) * (1 + 0.05 * args.layers) * (1 - abs(args.dropout - 0.2))
    rng = random.Random(os.environ.get("TRIALOG_JOB_ID", "local"))
    print(f"training lr={args.lr} layers={args.layers} dropout={args.dropout} for {args.epochs} epochs", flush=True)

    first = state["epoch"]
    loss = accuracy = None
    for epoch in range(first, first + args.epochs):
        if stopping["now"]:
            print(f"stopped at epoch {epoch}: saving and exiting", flush=True)
            save(checkpoint_path, state)
            sys.exit(143)
        time.sleep(args.epoch_seconds)
        state["quality"] += (1 - state["quality"]) * 0.25 * fit
        loss = 1.0 - state["quality"] + rng.uniform(0, 0.02)
        accuracy = max(0.0, min(1.0, state["quality"] - rng.uniform(0, 0.02)))
        state["epoch"] = epoch + 1
        metric("loss", loss, epoch)
        metric("accuracy", accuracy, epoch)
        print(f"TRIALOG_PROGRESS {(epoch - first + 1) / args.epochs:.3f}", flush=True)
        print(f"epoch {epoch}: loss {loss:.4f} accuracy {accuracy:.4f}", flush=True)
        save(checkpoint_path, state)

    save(os.path.join(output_dir, "result.json"), {"loss": loss, "accuracy": accuracy, "epochs": state["epoch"]})
    print("done", flush=True)


if __name__ == "__main__":
    main()
