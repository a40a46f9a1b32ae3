"""Benchmark: ``seqsal evaluate`` on 2,000 regions x 1 kb with gradient x input (issue 6).

Random 1 kb sequences, the default ``cnn`` (random weights), every region labelled
positive so that all 2,000 are tested (``--max-regions``: fewer), default settings
otherwise: deletion and insertion curves (20 steps, 3 random orders, the uniform order,
shuffled background), reverse-complement and perturbation stability, saturation, the
receptive field and a shortcut audit. ``seqsal evaluate`` runs as the workflow runs it, a
fresh process; the bar is 10 minutes on 2 cores. Prints the wall time, the peak RSS and
the model evaluations per second.

    python benchmarks/evaluate.py               # 2,000 regions
    python benchmarks/evaluate.py --n 500       # quicker
    python benchmarks/evaluate.py --n 20000 --max-regions 256   # many regions, few tested
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from seqsal.io import write_npz
from seqsal.models import build_model, save_checkpoint

LENGTH = 1000
PEAK = """
import sys, resource
from seqsal.cli import main
rc = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
sys.exit(rc)
"""


def seqsal(*argv) -> tuple:
    """Wall seconds and peak RSS (MiB) of one ``seqsal`` command in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *map(str, argv)], check=True, capture_output=True, text=True
    )
    return time.perf_counter() - start, float(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="regions")
    parser.add_argument("--max-regions", type=int, help="regions tested (default: all)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="seqsal-evaluate-"))
    rng = np.random.default_rng(0)
    X = np.zeros((args.n, 4, LENGTH), np.uint8)
    X[np.arange(args.n)[:, None], rng.integers(0, 4, (args.n, LENGTH)), np.arange(LENGTH)] = 1
    names = np.array([f"r{i}" for i in range(args.n)])
    write_npz(folder / "onehot.npz", X=X, names=names, y=np.ones((args.n, 1), np.float32))
    (folder / "regions.bed").write_text(
        "".join(f"chr1\t{i * LENGTH}\t{(i + 1) * LENGTH}\tr{i}\t0\t+\n" for i in range(args.n))
    )
    torch.manual_seed(0)
    model = build_model("cnn", input_length=LENGTH, n_outputs=1)
    hparams = {"input_length": LENGTH, "n_outputs": 1}
    save_checkpoint(
        model,
        folder / "model.pt",
        arch="cnn",
        hparams=hparams,
        targets=["t"],
        tasks=["binary"],
        metrics={},
    )
    shared = ["--regions", folder / "regions.bed", "--attributions", folder / "attr.npz"]
    onehot = ["--model", folder / "model.pt", "--onehot", folder / "onehot.npz"]
    steps = {
        "attribute": ["attribute", *onehot, "--device", "cpu", "--out", folder / "attr.npz"],
        "seqlets": ["seqlets", *shared, "--out", folder / "seqlets.bed"],
        "evaluate": [
            "evaluate",
            *onehot,
            *shared,
            "--seqlets",
            folder / "seqlets.bed",
            "--max-regions",
            args.max_regions or args.n,
            "--nuisance",
            "left:0:100",
            "--artefacts",
            "ACGTACGTAC",
            "--device",
            "cpu",
            "--out-dir",
            folder / "evaluate",
        ],
    }
    for name, command in steps.items():
        seconds, rss = seqsal(*command)
        print(f"seqsal {name:<9} {seconds:7.1f} s   peak RSS {rss:7.0f} MiB", flush=True)
    summary = json.loads((folder / "evaluate" / "summary.json").read_text())
    tested = summary["faithfulness"]["grad_x_input"]["n_regions"]
    evaluations = tested * ((1 + 3 + 1) * (21 - 2) * 2 + 2)  # curve ends once per region
    print(
        f"\nevaluate: {tested} regions tested, {evaluations:,} model evaluations in the "
        f"curves alone; {seconds:.0f} s against the bar of 600 s ({600 / seconds:.1f}x margin)"
    )


if __name__ == "__main__":
    main()
