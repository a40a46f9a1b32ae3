"""Benchmark: seqsal's seqlet caller against tangermeme's recursive seqlets (issues 4, 7).

Synthetic attribution maps with a known answer: correlated noise (an AR(1) process, as
attribution maps are correlated along the sequence) with blocks of 10 bases planted in a
fifth of the regions, half raised and half lowered. Each tool runs in its own process on
the same maps: seqsal as the workflow runs it (``seqsal seqlets`` on a float16 shard,
read memory-mapped), with each of its nulls: ``shuffle``, fresh maps without blocks
(what the attributions of shuffled regions are; up to 5,000 regions, as
``seqlets.null_regions``), and ``bootstrap``, blocks of the maps themselves; and
tangermeme's ``recursive_seqlets`` with its defaults, on the maps and on their negation
(its way to get negative seqlets). Reported per size: wall time, the process's peak RSS,
the share of planted blocks found and the share of calls that hit no planted block, to
set against the FDR asked for (``--alpha``, seqsal only).

    pip install -e ".[bench]"
    python benchmarks/seqlets.py                     # 5,000 and 20,000 regions x 1 kb
    python benchmarks/seqlets.py --sizes 5000 --length 500
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
import pandas as pd

BLOCK = 10

SEQSAL = """
import json, resource, sys
from seqsal.cli import main
main(["seqlets", "--attributions", sys.argv[1], "--regions", sys.argv[2], "--out", sys.argv[3],
      *sys.argv[4:]])
print(json.dumps({"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

TANGERMEME = """
import json, resource, sys
import numpy as np, torch
from tangermeme.seqlet import recursive_seqlets
attr = torch.from_numpy(np.load(sys.argv[1])["attr"].astype(np.float32))
calls = []
for sign in (1, -1):
    found = recursive_seqlets(sign * attr)
    calls.append(found[["example_idx", "start", "end"]])
import pandas as pd
pd.concat(calls).to_csv(sys.argv[3], sep="\\t", index=False)
print(json.dumps({"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def synthetic(n: int, length: int, seed: int = 0, every: int = 5):
    """AR(1) noise (phi 0.6) with a +0.5 or -0.5 block in the middle half of every
    ``every``-th region (none with ``every=0``)."""
    rng = np.random.default_rng(seed)
    attr = np.empty((n, length), np.float16)
    for rows in range(0, n, 5000):
        block = rng.normal(0, 0.05, size=(min(5000, n - rows), length))
        for j in range(1, length):
            block[:, j] += 0.6 * block[:, j - 1]
        attr[rows : rows + len(block)] = block
    planted = np.arange(0, n, every) if every else np.zeros(0, int)
    starts = rng.integers(length // 4, 3 * length // 4, size=len(planted))
    signs = np.where(np.arange(len(planted)) % 2, -1.0, 1.0)
    for i, s, sign in zip(planted, starts, signs):
        attr[i, s : s + BLOCK] += sign * 0.5
    return attr, pd.DataFrame({"region": planted, "start": starts})


def score(calls: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Share of planted blocks overlapped by a call; share of calls overlapping none."""
    merged = calls.merge(truth, on="region", how="left", suffixes=("", "_planted"))
    hit = (merged["start"] < merged["start_planted"] + BLOCK) & (
        merged["end"] > merged["start_planted"]
    )
    merged["hit"] = hit.fillna(False)
    found = merged[merged["hit"]].drop_duplicates("region")
    return {
        "calls": len(calls),
        "planted_found": len(found) / len(truth),
        "false_share": float((~merged["hit"]).mean()) if len(merged) else float("nan"),
    }


def run(code: str, *args) -> tuple:
    begin = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], check=True, capture_output=True, text=True
    )
    seconds = time.perf_counter() - begin
    return seconds, json.loads(out.stdout.strip().splitlines()[-1])["rss"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000])
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args(argv)
    print(
        f"{'regions':>8} {'tool':<17} {'seconds':>8} {'peak MiB':>9} {'calls':>8} "
        f"{'planted found':>14} {'false share':>12}"
    )
    for n in args.sizes:
        attr, truth = synthetic(n, args.length)
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            from seqsal.io import write_npz

            names = np.array([f"r{i}" for i in range(n)])
            write_npz(folder / "000.npz", attr=attr, names=names)
            null = synthetic(min(n, 5000), args.length, seed=1, every=0)[0]
            write_npz(folder / "null.npz", attr=null, names=names[: len(null)])
            pd.DataFrame(
                {
                    "chrom": names,
                    "start": 0,
                    "end": args.length,
                    "name": names,
                    "score": 0,
                    "strand": "+",
                }
            ).to_csv(folder / "regions.bed", sep="\t", header=False, index=False)
            del attr
            rows = []
            for null, options in (
                ("shuffle", ["--null-attributions", folder / "null.npz"]),
                ("bootstrap", []),
            ):
                ours = run(
                    SEQSAL,
                    folder / "000.npz",
                    folder / "regions.bed",
                    folder / "s.bed",
                    "--alpha",
                    args.alpha,
                    *options,
                )
                try:
                    bed = pd.read_csv(folder / "s.bed", sep="\t", header=None)
                except pd.errors.EmptyDataError:  # no seqlets
                    bed = pd.DataFrame({0: [], 1: [], 2: []}, dtype=object)
                calls = pd.DataFrame(
                    {"region": bed[0].str[1:].astype(int), "start": bed[1], "end": bed[2]}
                )
                rows.append((f"seqsal {null}", *ours, score(calls, truth)))
            theirs = run(TANGERMEME, folder / "000.npz", "-", folder / "t.tsv")
            found = pd.read_csv(folder / "t.tsv", sep="\t")
            calls = found.rename(columns={"example_idx": "region"})
            rows.append(("tangermeme", *theirs, score(calls, truth)))
        for tool, seconds, rss, result in rows:
            print(
                f"{n:>8,} {tool:<17} {seconds:>8.1f} {rss:>9.0f} {result['calls']:>8,} "
                f"{result['planted_found']:>14.3f} {result['false_share']:>12.3f}"
            )


if __name__ == "__main__":
    main()
