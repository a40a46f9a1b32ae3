"""Benchmark: scoring SNVs with an ensemble, each member on its own fast path against every
variant in full, in one process.

A 5-member ``deepstarr`` ensemble (random weights: the cost does not depend on them) on
198 bp windows, as the README's advice for an oriented promoter library builds it.
seqsal scores each member through fastISM where it pays (measured on the first block,
as in a run) and averages; the full path runs every member on every edited window,
which is what an ensemble cost when fastISM found no body in it. Rounds alternate, and
the outputs of the two are compared (max |difference|).

    python benchmarks/ensemble_variants.py                   # 6,000 SNVs
    python benchmarks/ensemble_variants.py --n-variants 20000
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np
import torch
from variants import dataset

import seqsal.attribute.ism as ism
from seqsal.models import build_model, ensemble_of
from seqsal.variants import place_variants, score_variants

WIDTH = 198


def scores(model, contig, placed, *, full: bool):
    """REF and ALT outputs; ``full``: every variant in full (no member takes fastISM)."""
    chosen = ism.fast_path_pays
    if full:
        ism.fast_path_pays = lambda *args, **kwargs: False
    try:
        ref, alt, _, _ = score_variants(
            placed, lambda chrom: contig, model, width=WIDTH, oriented=True, n_null=0,
            log=logging.getLogger("seqsal"),
        )  # fmt: skip
    finally:
        ism.fast_path_pays = chosen
    return ref, alt


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-variants", type=int, default=6000)
    parser.add_argument("--per-window", type=int, default=30)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.manual_seed(0)
    hparams = {"input_length": WIDTH, "n_outputs": 1}
    members = [build_model("deepstarr", **hparams).eval() for _ in range(args.members)]
    model = ensemble_of(members, arch="deepstarr", hparams=hparams)
    contig, regions, variants = dataset(args.n_variants, args.per_window, width=WIDTH)
    placed = place_variants(variants, regions, width=WIDTH)
    paths = {"members on their fast paths": False, "every variant in full": True}
    times, found = {name: [] for name in paths}, {}
    for _ in range(args.rounds):  # alternating, so that the machine's load falls on both
        for name, full in paths.items():
            start = time.perf_counter()
            found[name] = scores(model, contig, placed, full=full)
            times[name].append(time.perf_counter() - start)
    (ref, alt), (full_ref, full_alt) = found.values()
    error = float(np.abs((alt - ref) - (full_alt - full_ref)).max())
    best = {name: min(values) for name, values in times.items()}
    ratio = best["every variant in full"] / best["members on their fast paths"]
    print(
        json.dumps(
            {
                "n_variants": args.n_variants,
                "members": args.members,
                "width": WIDTH,
                "seconds": {k: [round(t, 2) for t in v] for k, v in times.items()},
                "speed_up": round(ratio, 2),
                "max_abs_delta_difference": error,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
