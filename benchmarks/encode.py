"""Benchmark: fetch + one-hot encode regions from a FASTA, streaming to shards.

Generates a 100 Mb FASTA (10 contigs) and a sorted ``regions.bed`` of 1 kb regions in a
temporary folder, then runs the workflow's encode jobs (``seqsal encode --shard k``), one
fresh process per shard (``--shard-size``, 250k by default: the one-hot streams to disk,
so a job's memory does not grow with it), one at a time and then two at a time (as
``snakemake --cores 2`` runs them), for N = 100k and 1M regions, and reports regions/s
and the largest peak RSS of any job. The peer, measured in
the same run on a subset, is the common approach: one pyfaidx fetch per region followed
by a per-sequence one-hot encoding.

    python benchmarks/encode.py            # N = 100k and 1M, shards of 250k
    python benchmarks/encode.py --n 20000  # one size
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

WIDTH = 1000
CONTIGS = 10
CONTIG_LENGTH = 10_000_000


def make_inputs(folder: Path, n: int, seed: int = 0):
    """A random 100 Mb FASTA (once) and ``n`` sorted, named 1 kb regions on both strands."""
    from seqsal.io import write_fasta

    fasta = folder / "genome.fa"
    rng = np.random.default_rng(seed)
    if not fasta.exists():
        bases = np.frombuffer(b"ACGTacgtN", dtype=np.uint8)
        weights = np.array([0.2, 0.2, 0.2, 0.2, 0.045, 0.045, 0.045, 0.045, 0.02])
        draw = lambda: bases[rng.choice(9, CONTIG_LENGTH, p=weights)].tobytes().decode()  # noqa: E731
        write_fasta({f"chr{i + 1}": draw() for i in range(CONTIGS)}, fasta)
    chrom = rng.integers(CONTIGS, size=n)
    start = rng.integers(0, CONTIG_LENGTH - WIDTH, size=n)
    order = np.lexsort((start, chrom))
    regions = pd.DataFrame(
        {
            "chrom": [f"chr{c + 1}" for c in chrom[order]],
            "start": start[order],
            "end": start[order] + WIDTH,
            "name": [f"r{i}" for i in range(n)],
            "score": 0,
            "strand": np.where(rng.random(n) < 0.5, "+", "-"),
        }
    )
    return fasta, regions


def encode_job(argv: list) -> int:
    """One workflow encode job, in its own process: ``seqsal encode ...``."""
    from seqsal.cli import main

    status = main(argv)
    Path(argv[argv.index("--out") + 1]).unlink()  # streaming: no shard is kept on disk
    return status


def run_seqsal(fasta: Path, bed: Path, out: Path, n_shards: int, jobs: int = 1) -> float:
    """Run the ``n_shards`` encode jobs, ``jobs`` at a time, each in a fresh process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    argvs = [
        [
            "encode",
            "--regions",
            str(bed),
            "--fasta",
            str(fasta),
            "--shard",
            str(k),
            "--n-shards",
            str(n_shards),
            "--out",
            str(out / f"{k:03d}.npz"),
        ]
        for k in range(n_shards)
    ]
    begin = time.perf_counter()
    spawn = multiprocessing.get_context("spawn")  # fresh jobs, as Snakemake starts them
    with ProcessPoolExecutor(jobs, mp_context=spawn, max_tasks_per_child=1) as pool:
        if any(list(pool.map(encode_job, argvs))):
            raise RuntimeError("an encode job failed")
    return time.perf_counter() - begin


def run_peer(fasta: Path, regions: pd.DataFrame) -> float:
    """One pyfaidx fetch per region, then a per-sequence one-hot: the common approach."""
    import pyfaidx

    begin = time.perf_counter()
    genome = pyfaidx.Fasta(str(fasta), sequence_always_upper=True)
    lookup = {b: i for i, b in enumerate("ACGT")}
    complement = str.maketrans("ACGTN", "TGCAN")
    out = np.zeros((len(regions), 4, WIDTH), dtype=np.uint8)
    for i, (chrom, start, end, strand) in enumerate(
        regions[["chrom", "start", "end", "strand"]].itertuples(index=False)
    ):
        sequence = genome[chrom][int(start) : int(end)].seq
        if strand == "-":
            sequence = sequence.translate(complement)[::-1]
        for j, base in enumerate(sequence):
            if base in lookup:
                out[i, lookup[base], j] = 1
    return time.perf_counter() - begin


def measure(n: int, shard_size: int, folder: Path, peer_n: int) -> dict:
    """Rates of seqsal's encode jobs (1 and 2 at a time) and of the peer; jobs' peak RSS."""
    import logging

    from seqsal.io import fetch_onehot, open_fasta, write_tsv

    logging.disable(logging.INFO)
    fasta, regions = make_inputs(folder, n)
    bed = folder / f"regions_{n}.bed"
    write_tsv(regions, bed, header=False)
    sample = regions.sample(min(peer_n, n), random_state=0).sort_values(["chrom", "start"])
    del regions
    np.testing.assert_array_equal(  # both give the same arrays before either is timed
        fetch_onehot(open_fasta(fasta), sample.head(200)), _peer_arrays(fasta, sample.head(200))
    )
    n_shards = -(-n // shard_size)
    seconds = run_seqsal(fasta, bed, folder, n_shards)
    parallel = run_seqsal(fasta, bed, folder, n_shards, jobs=2)
    peer_seconds = run_peer(fasta, sample)
    return {
        "n": n,
        "seqsal_regions_per_s": n / seconds,
        "seqsal_2_jobs_per_s": n / parallel,
        "peer_regions_per_s": len(sample) / peer_seconds,
        "job_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _peer_arrays(fasta, regions):
    import pyfaidx

    from seqsal.encode import encode_regions

    genome = pyfaidx.Fasta(str(fasta), sequence_always_upper=True)
    sequences = [
        genome[c][int(s) : int(e)].seq
        for c, s, e in regions[["chrom", "start", "end"]].itertuples(index=False)
    ]
    return encode_regions(sequences, regions["strand"].to_numpy())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--shard-size", type=int, default=250_000)
    parser.add_argument("--peer-n", type=int, default=5_000)
    parser.add_argument("--folder", help="where to keep the generated FASTA (default: a temp dir)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder = Path(args.folder or tempfile.mkdtemp(prefix="seqsal-bench-"))
    if args.child:
        print(json.dumps(measure(args.n[0], args.shard_size, folder, args.peer_n)))
        return
    make_inputs(folder, 1)  # the FASTA, once, outside the timed processes
    print(
        f"{'N':>9} {'seqsal reg/s':>13} {'2 jobs reg/s':>13} {'peer reg/s':>11} {'ratio':>6} "
        f"{'job peak RSS MiB':>17}"
    )
    for n in args.n:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--n",
                str(n),
                "--folder",
                str(folder),
                "--shard-size",
                str(args.shard_size),
                "--peer-n",
                str(args.peer_n),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        ratio = row["seqsal_regions_per_s"] / row["peer_regions_per_s"]
        print(
            f"{row['n']:>9} {row['seqsal_regions_per_s']:>13,.0f} "
            f"{row['seqsal_2_jobs_per_s']:>13,.0f} {row['peer_regions_per_s']:>11,.0f} "
            f"{ratio:>5.0f}x {row['job_peak_rss_mib']:>17,.0f}"
        )


if __name__ == "__main__":
    main()
