"""Benchmark: saliency-guided masking against random masking, EvoAug and none (issue 22).

On finished runs (their encoded sequences and regions; ``--until`` the encode stage is
enough), trains each run's model with each ``model.augment`` mode, on all of the
training split and on a share of it (``--fractions``), over several seeds, and reports
per mode and share:

- the test metric (Pearson for regression, AUROC for binary targets; the mean over
  targets), on the same held-out regions for every model;
- the known-site AUROC of gradient x input on the first target over the test regions
  (``--truth``: the planted sites), how well |attribution| ranks their bases first;
- seconds per training epoch, as a ratio to plain training.

The modes: none; ``random`` and ``saliency`` masking (one 10 bp window in half of each
batch's sequences, filled from a dinucleotide shuffle); ``evoaug`` (all five of its
changes, then 5 epochs of fine-tuning).

    snakemake --cores 2 -d runs/demo results/encode/000.npz results/regions/regions.bed \\
        results/simulate/truth.bed
    python benchmarks/augment.py runs/demo --truth runs/demo/results/simulate/truth.bed
    python benchmarks/augment.py runs/tal_gata --truth runs/tal_gata/truth.bed \\
        --test-names ../shared/data/tal_gata_sim/test.txt.gz --example tal_gata
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from seqsal.attribute import attribute
from seqsal.augment import Augment
from seqsal.evaluate import truth_recovery
from seqsal.io.bed import read_bed
from seqsal.io.tables import read_names
from seqsal.metrics import score_predictions
from seqsal.models import predict
from seqsal.train import infer_tasks, split_regions, train_model

from runs import load_run, spread

#: ``train_model`` keywords of the default config and of config/examples/tal_gata.yaml
EXAMPLES = {
    "default": {},
    "tal_gata": dict(hparams={"global_pool": "mean"}, learning_rate=0.003, patience=8),
}
MODES = {
    "none": {},
    "random": {"mask": "random"},
    "saliency": {"mask": "saliency"},
    "evoaug": {"evoaug": ["mutation", "insertion", "deletion", "inversion", "translocation"]},
}


def subsample(split: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """``split`` with all but ``fraction`` of its training rows left out."""
    if fraction >= 1:
        return split
    train = np.flatnonzero(split == "train")
    dropped = np.random.default_rng([seed, 7]).permutation(train)[int(fraction * len(train)) :]
    split = split.copy()
    split[dropped] = "unused"
    return split


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder with results/encode")
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--test-names", type=Path)
    parser.add_argument("--example", choices=sorted(EXAMPLES), default="default")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.25, 1.0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data, regions = load_run(args.run)
    X, y, tasks = data["X"], data["y"].astype(np.float32), infer_tasks(data["y"])
    test = read_names(args.test_names, data["names"]) if args.test_names else None
    split = split_regions(data["chroms"], test=test, seed=0)  # as seqsal train, seed 0
    rows = np.flatnonzero(split == "test")
    truth, place = read_bed(args.truth), regions.iloc[rows].reset_index(drop=True)
    metric = "pearson" if tasks[0] == "regression" else "auroc"
    print(f"{args.run}: {len(X):,} regions, {len(rows):,} tested, {metric}", flush=True)
    table = {}
    for fraction in args.fractions:
        for mode in args.modes:
            found = []
            for seed in range(args.seeds):
                model, _, history = train_model(
                    X,
                    y,
                    subsample(split, fraction, seed),
                    tasks=tasks,
                    augment=Augment(**MODES[mode], length=X.shape[-1]),
                    seed=seed,
                    **EXAMPLES[args.example],
                )
                scores = score_predictions(y[rows], predict(model, X[rows]), tasks)
                _, attr, _ = attribute(model, X[rows], target=0)
                found.append(
                    {
                        "test": float(np.mean([s[metric] for s in scores])),
                        "known": truth_recovery(attr, place, truth)["auroc"],
                        "seconds": float(history["seconds"].median()),
                        "epochs": len(history),
                    }
                )
                print(fraction, mode, seed, found[-1], flush=True)
            table[fraction, mode] = found
    print(f"\n{args.seeds} seeds; test {metric} (mean over targets) and known-site AUROC")
    print("| training data | mode | test | known sites | epochs | s/epoch (× none) |")
    print("|---|---|---|---|---|---|")
    for (fraction, mode), found in table.items():
        plain = table.get((fraction, "none"), found)
        ratio = np.median([f["seconds"] for f in found]) / np.median([f["seconds"] for f in plain])
        print(
            f"| {fraction:.0%} | {mode} | {spread([f['test'] for f in found])} | "
            f"{spread([f['known'] for f in found])} | "
            f"{np.median([f['epochs'] for f in found]):.0f} | {ratio:.1f}× |"
        )
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
