"""Benchmark: labels from a signal track for many regions, seqsal against the per-region
loop peers write, in one run.

A coverage-like bigWig (and the same track as a bedGraph) over a random genome, and
``--n-regions`` windows of ``--width`` bp on it. seqsal sums every window
(``seqsal.io.signal.signal_sums``: per contig, spans of per-base values and a cumulative
sum; a bedGraph in chunks). The peer is the loop that gReLU-style and hand-written
pipelines run: ``pyBigWig.stats(chrom, start, end, type="sum", exact=True)`` per region,
timed on a sample of ``--sample`` regions and scaled. Sums are compared on the sample
(max relative difference); times as a ratio (loop / seqsal) per region. Then the peak
RSS of seqsal's sums in a fresh process, for N and 4N regions.

    python benchmarks/signal_labels.py                       # 1,000,000 regions of 1 kb
    python benchmarks/signal_labels.py --n-regions 100000    # a quicker look
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
import pyBigWig

from seqsal.io.signal import signal_sums

CONTIGS = {f"chr{i}": 40_000_000 for i in range(1, 6)}  # 200 Mb


def coverage(folder: Path, seed: int = 0) -> tuple:
    """A bigWig and a bedGraph of runs of 1-60 bp with Poisson counts (gaps without
    data between some), as coverage tracks are."""
    rng = np.random.default_rng(seed)
    bigwig, bedgraph = folder / "coverage.bw", folder / "coverage.bedGraph"
    with pyBigWig.open(str(bigwig), "w") as out, open(bedgraph, "w") as text:
        out.addHeader(list(CONTIGS.items()))
        for chrom, size in CONTIGS.items():
            lengths = rng.integers(1, 60, size=size // 20)
            starts = np.cumsum(lengths + rng.integers(0, 2, size=len(lengths)) * 5) - lengths
            keep = starts + lengths <= size
            starts, ends = starts[keep], (starts + lengths)[keep]
            values = rng.poisson(3, size=len(starts)).astype(float)
            out.addEntries([chrom] * len(starts), starts.tolist(), ends=ends.tolist(),
                           values=values.tolist())  # fmt: skip
            frame = pd.DataFrame({"c": chrom, "s": starts, "e": ends, "v": values})
            frame.to_csv(text, sep="\t", header=False, index=False)
    return bigwig, bedgraph


def windows(n: int, width: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    chrom = rng.choice(list(CONTIGS), size=n)
    start = rng.integers(0, 40_000_000 - width, size=n)
    return pd.DataFrame({"chrom": chrom, "start": start, "end": start + width})


def peak_rss(path: Path, n: int, width: int) -> float:
    """MiB that summing ``n`` windows adds to a fresh process (after its imports)."""
    done = subprocess.run(
        [sys.executable, __file__, "--probe", str(path), "--n-regions", str(n)]
        + ["--width", str(width)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])["mib"]


def probe(path: str, n: int, width: int) -> None:
    import resource

    regions = windows(n, width)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    signal_sums(path, regions, CONTIGS)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"mib": (after - before) / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-regions", type=int, default=1_000_000)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # a bigWig: one fresh process
    args = parser.parse_args()
    if args.probe:
        return probe(args.probe, args.n_regions, args.width)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        bigwig, bedgraph = coverage(folder)
        regions = windows(args.n_regions, args.width)
        started = time.perf_counter()
        sums, _ = signal_sums(bigwig, regions, CONTIGS)
        seqsal_s = time.perf_counter() - started
        started = time.perf_counter()
        from_text, _ = signal_sums(bedgraph, regions, CONTIGS)
        bedgraph_s = time.perf_counter() - started
        sample = regions.sample(min(args.sample, len(regions)), random_state=0)
        started = time.perf_counter()
        with pyBigWig.open(str(bigwig)) as track:
            loop = [
                track.stats(c, int(s), int(e), type="sum", exact=True)[0] or 0.0
                for c, s, e in sample.itertuples(index=False)
            ]
        loop_s = (time.perf_counter() - started) * len(regions) / len(sample)
        picked = sums[sample.index.to_numpy()]
        difference = np.max(np.abs(picked - np.array(loop)) / np.maximum(np.abs(loop), 1))
        rss = [peak_rss(bigwig, n, args.width) for n in (args.n_regions // 4, args.n_regions)]
    print(f"{len(regions):,} regions of {args.width} bp on {sum(CONTIGS.values()) / 1e6:.0f} Mb")
    print(f"seqsal, bigWig:    {seqsal_s:7.1f} s")
    print(f"seqsal, bedGraph:  {bedgraph_s:7.1f} s (same sums: {np.allclose(sums, from_text)})")
    print(f"pyBigWig.stats per region (scaled from {len(sample):,}): {loop_s:7.1f} s")
    print(
        f"ratio loop / seqsal: {loop_s / seqsal_s:.1f}x; max relative difference {difference:.1e}"
    )
    print(f"peak RSS added: {rss[0]:.0f} MiB for N/4, {rss[1]:.0f} MiB for N regions")


if __name__ == "__main__":
    main()
