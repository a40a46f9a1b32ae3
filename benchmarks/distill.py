"""Benchmark: distilling a small student from a teacher or an ensemble (issue 22).

On a finished tal_gata run (its encoded sequences and regions; ``--until`` the encode
stage is enough), trains the example's model (cnn, mean pooling) as the teacher with
``--seeds`` seeds, then a student an eleventh of its size (``n_filters: 16``, ``hidden:
16``) three ways, each with the same seeds: on the labels, on one teacher's
predictions (``model.distill.teachers: [teacher]``), and on the ensemble of all the
teachers. Per model: test AUROC (mean over the three tasks), the known-site AUROC of
gradient x input on task 1 over the test regions (``--truth``), how alike its maps
are to the first teacher's (median per-region Pearson on the test regions, as
``evaluate.compare_to`` reports it), its parameter count, and seconds per epoch.

    python benchmarks/distill.py runs/tal_gata --truth runs/tal_gata/truth.bed \\
        --test-names ../shared/data/tal_gata_sim/test.txt.gz
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from seqsal.attribute import attribute
from seqsal.evaluate import agreement, truth_recovery
from seqsal.io.bed import read_bed
from seqsal.io.tables import read_names
from seqsal.train import DistillOptions, fit

from runs import load_run, spread

TEACHER = dict(hparams={"global_pool": "mean"}, learning_rate=0.003, patience=8)
STUDENT = dict(
    hparams={"global_pool": "mean", "n_filters": 16, "hidden": 16},
    learning_rate=0.003,
    patience=8,
)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a tal_gata run folder with results/encode")
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--test-names", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data, regions = load_run(args.run)
    test = read_names(args.test_names, data["names"])
    rows = np.flatnonzero(test)
    truth, place = read_bed(args.truth), regions.iloc[rows].reset_index(drop=True)

    def measure(result):
        model = result["model"]
        _, attr, _ = attribute(model, data["X"][rows], target=0)
        return {
            "test": float(np.mean([m["auroc"] for m in result["metrics"]["test"].values()])),
            "known": truth_recovery(attr, place, truth)["auroc"],
            "attr": attr,
            "parameters": sum(p.numel() for p in model.parameters()),
            "seconds": float(result["history"]["seconds"].median()),
        }

    found = {"teacher": []}
    teachers = {}
    for seed in range(args.seeds):
        result = fit(data, test=test, seed=seed, **TEACHER)
        teachers[f"teacher {seed}"] = (result["model"], result["meta"])
        found["teacher"].append(measure(result))
        print("teacher", seed, found["teacher"][-1]["test"], flush=True)
    first = dict(list(teachers.items())[:1])
    ways = {"student, labels": None, "student, one teacher": first, "student, ensemble": teachers}
    for way, chosen in ways.items():
        found[way] = []
        for seed in range(args.seeds):
            result = fit(data, test=test, seed=seed, distill=DistillOptions(chosen), **STUDENT)
            found[way].append(measure(result))
            print(way, seed, found[way][-1]["test"], flush=True)
    reference = found["teacher"][0]["attr"]
    print(f"\n{args.seeds} seeds; test AUROC (mean of 3 tasks), task-1 maps on the test split")
    print("| model | parameters | test AUROC | known-site AUROC | map r with teacher 0 | s/epoch |")
    print("|---|---|---|---|---|---|")
    for way, runs in found.items():
        alike = [float(agreement(reference, f["attr"])["pearson"].median()) for f in runs]
        if way == "teacher":
            alike = alike[1:]  # teacher 0 with itself says nothing
        print(
            f"| {way} | {runs[0]['parameters']:,} | {spread([f['test'] for f in runs])} | "
            f"{spread([f['known'] for f in runs])} | {spread(alike) if alike else ''} | "
            f"{np.median([f['seconds'] for f in runs]):.2f} |"
        )
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
