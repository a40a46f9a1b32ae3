"""Benchmark: the whole workflow at 1x, 4x and 16x the regions (issue 7).

Runs the demo (simulated regions, 200 bp) with ``--cores 2`` at several sizes, keeping the
density of regions per contig and the shard size fixed, and a fixed number of training
epochs (so that every stage's work is proportional to the regions). Reads Snakemake's own
per-job benchmark files (``results/benchmarks/<rule>/...tsv``: seconds and max RSS) and
reports, per size, the wall time, the summed job seconds per stage and the largest peak
RSS of any job; then the marginal cost per region between consecutive sizes (linear
growth: equal costs, once fixed costs no longer dominate) and, from the measured
per-region job seconds at the largest size, the wall time of 1,000,000 regions x 1 kb on
a cluster (per-shard jobs spread over it).

    python benchmarks/scale.py                      # 1k, 4k, 16k regions
    python benchmarks/scale.py --factors 4 16 64    # 4k, 16k, 64k regions
    python benchmarks/scale.py --base 500           # quicker
    python benchmarks/scale.py --width 1000 --from-checkpoint --base 2500 --factors 1 4
                                                    # 1 kb regions, a given model
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PER_SHARD = ("encode", "attribute")  # the stages that scale out, a job per shard


def run(
    folder: Path,
    n_regions: int,
    n_contigs: int,
    shard_size: int,
    epochs: int,
    *,
    width: int = 200,
    checkpoint: Path | None = None,
) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    model = f"max_epochs: {epochs}, patience: {epochs}"
    if checkpoint:
        model = f"checkpoint: {checkpoint}"
    (folder / "overlay.yaml").write_text(
        f"simulate: {{n_regions: {n_regions}, n_contigs: {n_contigs}, "
        f"contig_length: {max(250_000, -(-n_regions // n_contigs) * width * 5 // 2)}}}\n"
        f"input: {{width: {width}}}\n"
        f"shard_size: {shard_size}\n"
        f"model: {{{model}}}\n"
    )
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if (folder / "wall.txt").exists():  # --reuse: measured by an earlier call
        return float((folder / "wall.txt").read_text())
    begin = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(ROOT / "Snakefile"),
            "-d",
            str(folder),
            "--configfile",
            str(ROOT / "config" / "config.yaml"),
            str(folder / "overlay.yaml"),
            "--cores",
            "2",
            "--quiet",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    wall = time.perf_counter() - begin
    (folder / "wall.txt").write_text(f"{wall:.1f}\n")
    return wall


def job_table(folder: Path) -> pd.DataFrame:
    """One row per job: rule, seconds, max RSS (MiB), from Snakemake's benchmark files."""
    rows = []
    for path in (folder / "results" / "benchmarks").rglob("*.tsv"):
        rule = path.relative_to(folder / "results" / "benchmarks").parts[0]
        table = pd.read_csv(path, sep="\t")
        rows.append({"rule": rule, "s": table["s"].iloc[0], "max_rss": table["max_rss"].iloc[0]})
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=1000, help="regions at 1x")
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument(
        "--folder", help="where the runs go (default: a temp dir); finished runs are reused"
    )
    parser.add_argument("--width", type=int, default=200, help="bases per region")
    parser.add_argument(
        "--from-checkpoint",
        action="store_true",
        help="train once (on the smallest size, not timed), then explain that model at every "
        "size: the stages after training, as for a model the user brings",
    )
    args = parser.parse_args(argv)
    folder = Path(args.folder or tempfile.mkdtemp(prefix="seqsal-scale-"))
    results, checkpoint = {}, None
    factors = sorted(args.factors)
    shape = dict(width=args.width)
    if args.from_checkpoint:
        run(folder / "trained", args.base, 2, args.shard_size, args.epochs, **shape)
        checkpoint = folder / "trained" / "results" / "train" / "model.pt"
    for factor in factors:
        n = args.base * factor
        wall = run(
            folder / f"x{factor}", n, 2 * factor, args.shard_size, args.epochs,
            checkpoint=checkpoint, **shape,
        )  # fmt: skip
        results[factor] = (n, wall, job_table(folder / f"x{factor}"))
    stages = sorted(set().union(*(set(t["rule"]) for _, _, t in results.values())))
    print(
        f"{'size':>5} {'regions':>8} {'wall s':>7} {'jobs':>5} {'max job RSS MiB':>16}  "
        + " ".join(f"{s:>9}" for s in stages)
    )
    for factor, (n, wall, jobs) in results.items():
        per_stage = jobs.groupby("rule")["s"].sum()
        print(
            f"{factor:>4}x {n:>8,} {wall:>7.0f} {len(jobs):>5} {jobs['max_rss'].max():>16,.0f}  "
            + " ".join(f"{per_stage.get(s, 0):>9.1f}" for s in stages)
        )
    print("\npeak RSS per job, by stage (MiB):")
    for stage in stages:
        peaks = [(t := results[f][2])[t["rule"] == stage]["max_rss"].max() for f in factors]
        print(f"  {stage:<18} " + "  ".join(f"{p:>7,.0f}" for p in peaks))
    marginal = [
        (a, b, 1000 * (results[b][1] - results[a][1]) / (results[b][0] - results[a][0]))
        for a, b in zip(factors, factors[1:])
    ]
    print("\nmarginal wall time per 1,000 regions:")
    for a, b, cost in marginal:
        print(f"  {a}x->{b}x: {cost:.2f} s")
    if len(marginal) > 1:
        print(f"  last / first: {marginal[-1][2] / marginal[0][2]:.2f} (linear: 1)")
    first, last = factors[0], factors[-1]
    growth = {
        stage: results[last][2].query("rule == @stage")["s"].sum()
        / max(results[first][2].query("rule == @stage")["s"].sum(), 1e-9)
        for stage in stages
    }
    print(f"\njob seconds, {last}x against {first}x (the regions grew {last // first}x):")
    print("  " + ", ".join(f"{stage} {ratio:.2f}x" for stage, ratio in growth.items()))
    largest = factors[-1]
    n_largest, _, jobs = results[largest]
    per_region = jobs.groupby("rule")["s"].sum() / n_largest
    print(
        f"\njob seconds per region at {largest}x ({args.width} bp, 2 cores per job): "
        + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in per_region.items())
    )
    # 1 kb regions: every stage's work taken as linear in the width and the regions (an
    # overestimate for the stages that grow slower: see the growth ratios above)
    seconds = 1000 / args.width * per_region * 1e6
    shard_s = sum(seconds.get(k, 0) for k in PER_SHARD)
    print(f"\nestimate, 1,000,000 regions x 1 kb, from the {largest}x job seconds (2-core jobs):")
    for jobs_at_once in (500, 50):  # 1,000 cores; 100 cores
        print(
            f"  encode + attribute over {jobs_at_once:>3} jobs at once: "
            f"{shard_s / jobs_at_once / 3600:.2f} h"
        )
    for stage, value in seconds.items():
        if stage not in PER_SHARD:
            print(f"  {stage:<9} (one job): {value / 3600:.2f} h")


if __name__ == "__main__":
    main()
