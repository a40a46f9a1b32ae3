"""Benchmark: the map priors (smoothness, consistency) on tal_gata_sim (issue 22).

On a finished run of ``config/examples/tal_gata.yaml`` (its encoded sequences, regions
and the original test split), trains the example's model (cnn, mean pooling, learning
rate 0.003, patience 8, both strands) plainly and with each ``model.prior`` setting
given (``--priors smoothness=0.3 consistency=1 smoothness=0.3,consistency=1``), over
several seeds, and reports per setting:

- test AUROC per task;
- the known-site AUROC of gradient x input on task 1 (TAL1 and GATA): how well
  |attribution| ranks the planted sites' bases above the rest (``--truth``: the
  simulation's planted sites, as the slow workflow test writes them), over every
  region (as ``seqsal evaluate``'s ``summary.json`` has it) and over the test split's
  positives;
- map stability: the median per-region Pearson of the gradient x input maps between
  every pair of seeds;
- seconds per training epoch, as a ratio to plain training.

    python benchmarks/priors_tal_gata.py runs/tal_gata --truth runs/tal_gata/truth.bed \\
        --test-names ../shared/data/tal_gata_sim/test.txt.gz --priors smoothness=0.3

``--hparams '{"first_activation": "exp"}' --learning-rate 0.001`` trains another model
than the example's (the hyperparameters are added to the example's), for every setting.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np

from seqsal.attribute import attribute
from seqsal.evaluate import truth_recovery
from seqsal.io.bed import read_bed
from seqsal.io.tables import read_names
from seqsal.train import PriorOptions, fit

from runs import load_run, spread

EXAMPLE = dict(
    arch="cnn",
    hparams={"global_pool": "mean"},
    learning_rate=0.003,
    patience=8,
    oriented=False,
)


def pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1) + 1e-30)


def setting(text: str) -> dict:
    """``smoothness=0.3,consistency=1`` as ``fit`` keywords."""
    pairs = (part.split("=") for part in text.split(","))
    return {key: float(value) for key, value in pairs}


def label(prior: dict) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in prior.items()) or "plain"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished tal_gata run folder")
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--test-names", type=Path, required=True)
    parser.add_argument("--priors", nargs="+", default=["smoothness=0.3"], type=setting)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--hparams", type=json.loads, default={}, help="JSON, added to cnn's")
    parser.add_argument("--learning-rate", type=float, default=EXAMPLE["learning_rate"])
    args = parser.parse_args(argv)
    model = {
        **EXAMPLE,
        "hparams": {**EXAMPLE["hparams"], **args.hparams},
        "learning_rate": args.learning_rate,
    }
    started = time.perf_counter()
    data, regions = load_run(args.run)
    test = read_names(args.test_names, data["names"])
    truth = read_bed(args.truth)
    held_out = np.flatnonzero(test & (data["y"][:, 0] > 0.5))
    table = []
    for prior in [{}, *args.priors]:
        found = []
        for seed in range(args.seeds):
            result = fit(data, test=test, seed=seed, prior=PriorOptions(**prior), **model)
            known = {}
            for name, rows in (("all", np.arange(len(test))), ("held_out", held_out)):
                _, attr, _ = attribute(result["model"], data["X"][rows], target=0)
                place = regions.iloc[rows].reset_index(drop=True)
                known[name] = truth_recovery(attr, place, truth)["auroc"]
            found.append(
                {
                    "test": {t: m["auroc"] for t, m in result["metrics"]["test"].items()},
                    "known": known,
                    "attr": attr,  # of the held-out positives, the same rows for every seed
                    "seconds": float(result["history"]["seconds"].median()),
                    "epochs": result["metrics"]["epochs"],
                }
            )
            print(
                label(prior), seed, {k: v for k, v in found[-1].items() if k != "attr"}, flush=True
            )
        pairs = itertools.combinations([f["attr"] for f in found], 2)
        stability = [np.median(pearson_rows(a, b)) for a, b in pairs]
        table.append((prior, found, float(np.mean(stability)) if stability else float("nan")))
    plain = np.median([f["seconds"] for f in table[0][1]])
    print(f"\nmodel: {model}")
    print(
        f"{args.seeds} seeds; known sites of task1: over all {len(test):,} regions, and "
        f"the {len(held_out)} held-out positives"
    )
    print(
        "| prior | test AUROC task1 / task2 / task3 | known-site AUROC, all | "
        "held out | map stability | s/epoch (× plain) |"
    )
    print("|---|---|---|---|---|---|")
    for prior, found, stability in table:
        tasks = [np.array([f["test"][t] for f in found]) for t in found[0]["test"]]
        known = [np.array([f["known"][k] for f in found]) for k in ("all", "held_out")]
        seconds = np.median([f["seconds"] for f in found])
        print(
            f"| {label(prior)} | {' / '.join(map(spread, tasks))} | "
            f"{' | '.join(map(spread, known))} | {stability:.3f} | "
            f"{seconds:.1f} ({seconds / plain:.1f}×) |"
        )
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
