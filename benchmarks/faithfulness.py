"""Benchmark: how the model's head decides whether gradient x input is faithful (issue 6).

On a finished tal_gata run (its encoded sequences and labels; task1 = TAL1 and GATA
together), two CNNs are trained alike (the example's settings, one seed, the example's
held-out names): the example's, whose dense ReLU layer (``hidden`` 64) can require two
motifs together, and an additive one (``hidden: 0``: the mean-pooled features feed the
outputs directly). For each: test AUROC per task, and the share of task1-positive regions
where each method's deletion order beats random orders (``seqsal.evaluate.faithfulness``
with its defaults), over all positives and by fifths of the model's output.

    python benchmarks/faithfulness.py runs/tal_gata \
        --test-names ../shared/data/tal_gata_sim/test.txt.gz
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from seqsal.attribute import attribute
from seqsal.evaluate import faithfulness
from seqsal.io import read_shards
from seqsal.metrics import auroc
from seqsal.models import predict
from seqsal.train import split_regions, train_model

HEADS = {"example (hidden 64)": 64, "additive (hidden 0)": 0}
METHODS = ("grad_x_input", "deeplift_shap")


def evaluate_head(X, y, split, hidden: int, *, target: int = 0, seed: int = 0) -> dict:
    """Train one CNN and score its test AUROC and each method's deletion test."""
    start = time.perf_counter()
    model, _, history = train_model(
        X,
        y,
        split,
        tasks=["binary"] * y.shape[1],
        hparams={"global_pool": "mean", "hidden": hidden},
        learning_rate=0.003,
        patience=8,
        seed=seed,
    )
    trained = time.perf_counter() - start
    pred = predict(model, X)
    test = split == "test"
    result = {
        "epochs": len(history),
        "train_s": trained,
        **{f"test_auroc_{k}": auroc(y[test, k], pred[test, k]) for k in range(y.shape[1])},
    }
    rows = np.flatnonzero(y[:, target] > 0.5)
    attrs = {}
    for method in METHODS:
        maps = np.zeros(X.shape[::2], np.float32)
        maps[rows] = attribute(model, X[rows], method=method, target=target)[1]
        attrs[method] = maps
    per_region, _ = faithfulness(model, X, attrs, rows, target=target)
    for method, table in per_region.groupby("method", sort=False):
        result[method] = table["deletion_beats_random"].mean()
        fifth = pd.qcut(table["output"], 5, labels=False)
        by_fifth = table["deletion_beats_random"].groupby(fifth).mean()
        result[f"{method} by output fifth"] = " ".join(f"{v:.2f}" for v in by_fifth)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished tal_gata run folder")
    parser.add_argument("--test-names", help="held-out names (split.test_names)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    data = read_shards(sorted((args.run / "results/encode").glob("*.npz")))
    X, y = np.asarray(data["X"], np.float32), np.asarray(data["y"], np.float32)
    test = None
    if args.test_names:
        listed = set(pd.read_csv(args.test_names, header=None, dtype=str)[0])
        test = np.isin(data["names"], list(listed))
    split = split_regions(data["chroms"], test=test, seed=args.seed)
    print(f"{len(X)} sequences; {int((y[:, 0] > 0.5).sum())} task1 positives tested")
    table = pd.DataFrame(
        {name: evaluate_head(X, y, split, hidden, seed=args.seed) for name, hidden in HEADS.items()}
    )
    with pd.option_context("display.float_format", "{:.4g}".format, "display.width", 120):
        print(table)


if __name__ == "__main__":
    main()
