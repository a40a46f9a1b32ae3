"""Benchmark: training on a busy machine, OpenMP's spinning wait against seqsal's passive one.

Each measurement runs in a fresh process (OpenMP reads its wait policy when PyTorch loads
it): the demo's model (``cnn``, 4,000 random 200 bp sequences, batch 64) trains
``--epochs`` epochs at 1 and at 2 threads, under each of :data:`POLICIES` (OpenMP's
default, what seqsal ran before; a spinning wait; the passive wait every ``seqsal``
process now sets; a short spin), on a quiet machine and beside ``--load`` busy
processes (each a Python loop, the stand-in for Snakemake's other jobs or a shared node).
The median epoch time of each is printed, and each setting's ratio to its quiet 1-thread
time. With ``--workflow``, the
demo itself (``snakemake --cores 2`` on ``config/config.yaml`` with ``--overlay``) runs
quietly and under the load, under each policy, and its wall times are printed (the
policy set in the environment, which seqsal keeps; ``default`` is then seqsal's own,
``PASSIVE``: compare ``ACTIVE``, which behaves as OpenMP's default here).

    python benchmarks/threads.py [--epochs 3] [--load 2] [--workflow --overlay tiny.yaml]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EPOCHS = """
import json, sys
import torch  # first: its OpenMP runtime reads the environment the parent gave
import numpy as np
from seqsal.train import train_model
rng = np.random.default_rng(0)
X = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (4000, 200))].transpose(0, 2, 1).copy()
y = rng.normal(size=(4000, 1)).astype(np.float32)
split = np.where(np.arange(4000) < 3600, "train", "valid")
_, _, history = train_model(X, y, split, tasks=["regression"], max_epochs=int(sys.argv[1]),
                            patience=100, batch_size=64)
print(json.dumps(history["seconds"].tolist()))
"""


def _spin():
    while True:
        pass


#: OpenMP's settings compared: its default (no variable: spin a while, then sleep), a
#: spinning wait, the passive one every seqsal process sets, and a short spin.
POLICIES = {
    "default": {},
    "ACTIVE": {"OMP_WAIT_POLICY": "ACTIVE"},
    "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    "spin 10k": {"GOMP_SPINCOUNT": "10000"},
}


def _environment(policy: str, threads: int | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(POLICIES[policy])
    if threads is not None:
        env.update({name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    return env


def epoch_seconds(threads: int, policy: str, epochs: int) -> float:
    """The median epoch time of a fresh process training the demo's model."""
    env = _environment(policy, threads)
    done = subprocess.run(
        [sys.executable, "-c", EPOCHS, str(epochs)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = sorted(json.loads(done.stdout.strip().splitlines()[-1]))
    return seconds[len(seconds) // 2]


def workflow_seconds(policy: str, overlay: Path | None) -> float:
    """The wall time of the demo in a fresh folder."""
    with tempfile.TemporaryDirectory() as folder:
        configs = [str(ROOT / "config" / "config.yaml")] + ([str(overlay)] if overlay else [])
        command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d"]
        command += [folder, "--configfile", *configs, "--cores", "2", "--quiet"]
        env = _environment(policy)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        return time.perf_counter() - started


def measure(load: int, run, *args):
    """``run(*args)`` with ``load`` busy processes beside it."""
    busy = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(load)]
    for process in busy:
        process.start()
    try:
        return run(*args)
    finally:
        for process in busy:
            process.terminate()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--load", type=int, default=2, help="busy processes beside the job")
    parser.add_argument("--workflow", action="store_true", help="also time the whole demo")
    parser.add_argument("--overlay", type=Path, help="a config overlay for --workflow")
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=list(POLICIES))
    args = parser.parse_args(argv)
    rows = []
    for load in (0, args.load):
        for policy in args.policies:
            for threads in (1, 2):
                seconds = measure(load, epoch_seconds, threads, policy, args.epochs)
                rows.append((load, policy, threads, seconds))
                print(
                    f"load {load}, {policy}, {threads} thread(s): {seconds:.2f} s/epoch", flush=True
                )
    quiet = {policy: s for load, policy, threads, s in rows if load == 0 and threads == 1}
    print("\n| busy processes | wait policy | threads | s/epoch | vs quiet, 1 thread |")
    print("|---|---|---|---|---|")
    for load, policy, threads, seconds in rows:
        print(f"| {load} | {policy} | {threads} | {seconds:.2f} | {seconds / quiet[policy]:.2f}x |")
    if args.workflow:
        print("\n| busy processes | wait policy | demo wall time |\n|---|---|---|")
        for load in (0, args.load):
            for policy in args.policies:
                seconds = measure(load, workflow_seconds, policy, args.overlay)
                print(f"| {load} | {policy} | {seconds:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
