"""Benchmark: seqsal's motif discovery against modisco-lite on a finished run (issue 4).

Both tools get the run's own attributions (the first method's ``hyp`` and the one-hot):
seqsal as the workflow runs it (``seqsal motifs`` on the run's seqlets, a fresh process),
modisco-lite with its defaults (``TFMoDISco``, which calls its own seqlets). For each
known motif (a MEME file: the simulation's planted PWMs) the best TOMTOM p-value among
each tool's motifs and that motif's seqlet count; the precision and recall of each tool's
seqlets against the planted sites, when given (a BED in genome coordinates; library mode:
the sequence name is the chromosome); and the wall time of each.

    pip install -e ".[bench]"
    python benchmarks/motifs.py runs/tal_gata --truth runs/tal_gata/truth.bed \
        --known ../shared/data/tal_gata_sim/ground_truth_motifs_TAL1_known1_GATA_disc1.meme
    python benchmarks/motifs.py runs/ctcf --known ctcf.meme  # JASPAR's CTCF matrices

TOMTOM's p-values are computed against the found motifs plus ``--decoys`` (JASPAR's 879
vertebrate motifs by default), one background for both tools.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from seqsal.evaluate import seqlet_recovery
from seqsal.io import read_bed, read_meme, read_regions, read_shards
from seqsal.seqlets import offsets_to_genome

DECOYS = (
    Path(__file__).resolve().parents[2]
    / "shared/data/jaspar/JASPAR2024_CORE_vertebrates_nonredundant.meme"
)


def best_matches(known: dict, found: list, decoys=()) -> dict:
    """For each known motif: the best TOMTOM p-value among ``found`` [(PPM, n), ...].

    TOMTOM's null is made of the target columns: ``decoys`` (e.g. JASPAR) join the targets
    so that both tools' p-values share one background, whatever number of motifs each
    found."""
    from memelite import tomtom

    if not found:
        return {name: (np.nan, 0) for name in known}
    targets = [np.asarray(ppm, np.float64) for ppm, _ in found]
    targets += [np.asarray(m, np.float64) for m in decoys]
    p = tomtom([np.asarray(m, np.float64) for m in known.values()], targets)[0][:, : len(found)]
    return {name: (float(p[i].min()), found[int(p[i].argmin())][1]) for i, name in enumerate(known)}


def run_seqsal(run: Path, out: Path) -> tuple:
    results = run / "results"
    command = [
        sys.executable,
        "-c",
        "import sys; from seqsal.cli import main; sys.exit(main(sys.argv[1:]))",
        "motifs",
        "--seqlets",
        results / "seqlets/seqlets.bed",
        "--attributions",
        *sorted((results / "attribute").glob("*.npz")),
        "--onehot",
        *sorted((results / "encode").glob("*.npz")),
        "--regions",
        results / "regions/regions.bed",
        "--out-dir",
        out,
    ]
    start = time.perf_counter()
    subprocess.run(list(map(str, command)), check=True, capture_output=True)
    seconds = time.perf_counter() - start
    table = pd.read_csv(out / "motifs.tsv", sep="\t")
    ppms = list(read_meme(out / "motifs.meme").values())
    seqlets = pd.read_csv(results / "seqlets/seqlets.bed", sep="\t", header=None)
    seqlets = seqlets.rename(columns={0: "chrom", 1: "start", 2: "end"})
    return seconds, list(zip(ppms, table["n_seqlets"])), seqlets


def run_modisco(X, hyp, regions) -> tuple:
    from modiscolite.tfmodisco import TFMoDISco

    start = time.perf_counter()
    positive, negative = TFMoDISco(
        one_hot=np.ascontiguousarray(X.transpose(0, 2, 1), dtype=np.float32),
        hypothetical_contribs=np.ascontiguousarray(hyp.transpose(0, 2, 1), dtype=np.float32),
    )
    seconds = time.perf_counter() - start
    found, rows = [], []
    for pattern in [*(positive or []), *(negative or [])]:
        found.append((pattern.sequence.T, len(pattern.seqlets)))
        rows += [(s.example_idx, max(s.start, 0), s.end) for s in pattern.seqlets]
    index, first, last = np.array(rows, dtype=np.int64).reshape(-1, 3).T
    starts, ends = offsets_to_genome(regions, index, first, last - first)  # genome coordinates
    seqlets = pd.DataFrame(
        {"chrom": regions["chrom"].to_numpy()[index], "start": starts, "end": ends}
    ).drop_duplicates()
    return seconds, found, seqlets


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished run folder (-d of snakemake)")
    parser.add_argument("--known", required=True, help="MEME file of the planted motifs")
    parser.add_argument("--truth", help="BED of the planted sites (else no precision/recall)")
    parser.add_argument(
        "--decoys",
        default=str(DECOYS),
        help="MEME file whose motifs join TOMTOM's targets, as a shared background "
        "(default: the shared JASPAR file; '' for none)",
    )
    args = parser.parse_args(argv)
    decoys = list(read_meme(args.decoys).values()) if args.decoys else []
    results = args.run / "results"
    known = read_meme(args.known)
    truth = read_bed(args.truth) if args.truth else None
    regions = read_regions(results / "regions/regions.bed")
    data = read_shards(sorted((results / "attribute").glob("*.npz")), skip=("attr", "pred"))
    X = read_shards(sorted((results / "encode").glob("*.npz")))["X"]
    assert regions["name"].tolist() == data["names"].tolist()
    with tempfile.TemporaryDirectory() as folder:
        ours = run_seqsal(args.run, Path(folder))
    theirs = run_modisco(X, data["hyp"], regions)
    header = f"{'tool':<12} {'seconds':>8} {'motifs':>7} {'seqlets':>8} {'precision':>10}"
    print(
        header
        + f" {'recall':>7}  "
        + "  ".join(f"{n.split()[-1]}: best p (seqlets)" for n in known)
    )
    for tool, (seconds, found, seqlets) in (("seqsal", ours), ("modisco-lite", theirs)):
        recovery = (
            seqlet_recovery(seqlets, truth)
            if truth is not None
            else {"seqlet_precision": np.nan, "seqlet_recall": np.nan}
        )
        best = best_matches(known, found, decoys).values()
        print(
            f"{tool:<12} {seconds:>8.1f} {len(found):>7} {len(seqlets):>8} "
            f"{recovery['seqlet_precision']:>10.3f} {recovery['seqlet_recall']:>7.3f}  "
            + "  ".join(f"{p:.2e} ({n})" for p, n in best)
        )


if __name__ == "__main__":
    main()
