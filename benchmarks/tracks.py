"""Benchmark: ``seqsal tracks`` on 100,000 regions x 1 kb (issue 5's bar: under a minute).

Generates, in a temporary folder, a 100 Mb FASTA (10 contigs) with N sorted, overlapping
1 kb regions on both strands (as ``benchmarks/encode.py`` does), one attribution shard
(``attr`` and ``hyp``, float32), one one-hot shard, two seqlets per region assigned to three
motifs, and the motifs' MEME file. Then runs the workflow's tracks job (``seqsal tracks``)
in a fresh process, with the default outputs and again with ``--hypothetical``, and reports
wall time and peak RSS.

Peers, in the same run on the same arrays (the first ``--peer-n`` regions): the per-base
approach to overlapping regions (every base of every region as a row, sorted, the nearest
center kept: seqsal's former code) against seqsal's split between consecutive centers;
and pyBigWig (libBigWig, 10 zoom levels) against seqsal's bigWig writer. Each pair is
checked to give the same result.

    python benchmarks/tracks.py               # N = 100k
    python benchmarks/tracks.py --n 20000     # a quick look
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from encode import WIDTH, make_inputs  # noqa: E402

N_MOTIFS = 3


def make_track_inputs(folder: Path, n: int, seed: int = 0) -> list:
    """Every input of ``seqsal tracks`` for ``n`` regions; returns its argv (no outputs)."""
    from seqsal.io import write_meme, write_npz, write_tsv
    from seqsal.seqlets import SEQLET_COLUMNS

    rng = np.random.default_rng(seed)
    fasta, regions = make_inputs(folder, n, seed)
    write_tsv(regions, folder / "regions.bed", header=False)
    names = regions["name"].to_numpy().astype(str)
    hyp = rng.normal(size=(n, 4, WIDTH)).astype(np.float32)
    X = np.zeros((n, 4, WIDTH), dtype=np.uint8)
    np.put_along_axis(X, rng.integers(4, size=(n, 1, WIDTH)), 1, axis=1)
    write_npz(folder / "attr.npz", names=names, hyp=hyp, attr=(hyp * X).sum(axis=1))
    write_npz(folder / "onehot.npz", names=names, X=X)
    del hyp, X
    # two seqlets per region, 10 bp each, at random offsets
    index = np.repeat(np.arange(n), 2)
    offset = rng.integers(0, WIDTH - 10, size=2 * n)
    start = regions["start"].to_numpy()[index] + offset
    seqlets = pd.DataFrame(
        {
            "chrom": regions["chrom"].to_numpy()[index],
            "start": start,
            "end": start + 10,
            "name": [f"{names[i]}:{k % 2}" for k, i in enumerate(index)],
            "score": rng.integers(0, 1000, size=2 * n),
            "strand": ".",
            "region": names[index],
            "attr_sum": rng.normal(size=2 * n),
            "p_value": rng.random(2 * n) / 100,
            "q_value": rng.random(2 * n) / 20,
        }
    )[SEQLET_COLUMNS]
    write_tsv(seqlets, folder / "seqlets.bed", header=False)
    motif = rng.integers(0, N_MOTIFS + 1, size=2 * n)  # N_MOTIFS: assigned to none
    assigned = motif < N_MOTIFS
    write_tsv(
        pd.DataFrame(
            {
                "seqlet": seqlets["name"][assigned],
                "motif_id": [f"motif_{m + 1}" for m in motif[assigned]],
                "strand": np.where(rng.random(assigned.sum()) < 0.5, "+", "-"),
            }
        ),
        folder / "seqlet_motifs.tsv",
    )
    ids = [f"motif_{k + 1}" for k in range(N_MOTIFS)]
    write_tsv(
        pd.DataFrame({"motif_id": ids, "name": [f"M{k}" for k in range(N_MOTIFS)]}),
        folder / "motifs.tsv",
    )
    ppms = {f"{m} M{k}": rng.dirichlet(np.full(4, 0.3), size=10).T for k, m in enumerate(ids)}
    write_meme(ppms, folder / "motifs.meme")
    return [
        "tracks",
        "--attributions",
        str(folder / "attr.npz"),
        "--regions",
        str(folder / "regions.bed"),
        "--seqlets",
        str(folder / "seqlets.bed"),
        "--seqlet-motifs",
        str(folder / "seqlet_motifs.tsv"),
        "--motifs-tsv",
        str(folder / "motifs.tsv"),
        "--motifs-meme",
        str(folder / "motifs.meme"),
        "--onehot",
        str(folder / "onehot.npz"),
        "--fasta",
        str(fasta),
    ]


def run_job(argv: list) -> dict:
    """``seqsal tracks`` in a fresh process: wall seconds and the process's peak RSS
    (VmHWM: ``ru_maxrss`` would carry over this process's own peak through fork)."""
    code = (
        "import json, sys, time\n"
        "from seqsal.cli import main\n"
        "begin = time.perf_counter()\n"
        "status = main(sys.argv[1:])\n"
        "seconds = time.perf_counter() - begin\n"
        "status_lines = open('/proc/self/status').read().splitlines()\n"
        "peak = [int(x.split()[1]) for x in status_lines if x.startswith('VmHWM')][0] / 1024\n"
        "print(json.dumps({'status': status, 'seconds': seconds, 'peak_rss_mib': peak}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True
    )
    row = json.loads(done.stdout.strip().splitlines()[-1])
    if row["status"]:
        raise RuntimeError(f"seqsal tracks failed: {done.stderr[-2000:]}")
    return row


def per_base_owners(regions: pd.DataFrame, contigs: list) -> pd.DataFrame:
    """The peer: every base of every region as a row, sorted, the nearest center kept."""
    from seqsal.tracks import genome_positions

    positions = genome_positions(regions, WIDTH)
    center = ((regions["start"] + regions["end"]) / 2).to_numpy()[:, None]
    rank = pd.Categorical(regions["chrom"], categories=contigs).codes
    frame = pd.DataFrame(
        {
            "contig": np.repeat(rank, WIDTH),
            "start": positions.ravel(),
            "distance": np.abs(positions + 0.5 - center).ravel(),
            "region": np.repeat(np.arange(len(regions)), WIDTH),
        }
    )
    frame = frame[frame["start"] >= 0].sort_values(["contig", "start", "distance"], kind="stable")
    return frame.drop_duplicates(["contig", "start"], keep="first")


def pybigwig_write(track, sizes: dict, path) -> None:
    """The peer writer: pyBigWig (libBigWig), one fixed-step entry per run, 10 zoom levels."""
    import pyBigWig

    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(sizes.items()), maxZooms=10)
    for chrom, start, values in zip(track.chrom, track.start.tolist(), track.values):
        bw.addEntries(chrom, start, values=values.astype(np.float64), span=1, step=1)
    bw.close()


def pybigtools_write(track, sizes: dict, path) -> None:
    """The peer writer: pybigtools (Rust), one (chrom, start, end, value) tuple per base, the
    only input its writer takes (0.3.0 has no numpy-array writer)."""
    import pybigtools

    def entries():
        for chrom, start, values in zip(track.chrom, track.start.tolist(), track.values):
            for offset, value in enumerate(values.tolist()):
                yield chrom, start + offset, start + offset + 1, value

    pybigtools.open(str(path), "w").write(dict(sizes), entries())


def compare_peers(folder: Path, n: int) -> dict:
    """Seconds of seqsal's overlap resolution and bigWig writer, and of the peers', on the
    first ``n`` regions, after checking that both give the same bases and values."""
    import pyBigWig

    from seqsal.io import contig_sizes, open_fasta, read_npz, read_regions
    from seqsal.io.bigwig import write_bigwig
    from seqsal.tracks import attribution_track, region_owners

    regions = read_regions(folder / "regions.bed").head(n)
    sizes = contig_sizes(open_fasta(folder / "genome.fa"))
    contigs = list(sizes)
    seconds = {}
    begin = time.perf_counter()
    runs = region_owners(regions, contigs=contigs)
    seconds["seqsal_owners"] = time.perf_counter() - begin
    begin = time.perf_counter()
    peer = per_base_owners(regions, contigs)
    seconds["peer_owners"] = time.perf_counter() - begin
    lengths = (runs["end"] - runs["start"]).to_numpy()
    if not np.array_equal(np.repeat(runs["region"].to_numpy(), lengths), peer["region"]):
        raise AssertionError("seqsal and the per-base peer disagree on overlapping regions")
    track = attribution_track(regions, read_npz(folder / "attr.npz")["attr"][:n], contigs=contigs)
    begin = time.perf_counter()
    write_bigwig(track, sizes, folder / "seqsal.bw")
    seconds["seqsal_bigwig"] = time.perf_counter() - begin
    begin = time.perf_counter()
    pybigwig_write(track, sizes, folder / "peer.bw")
    seconds["peer_bigwig"] = time.perf_counter() - begin
    written = ["peer"]
    if importlib.util.find_spec("pybigtools"):
        begin = time.perf_counter()
        pybigtools_write(track, sizes, folder / "pybigtools.bw")
        seconds["pybigtools_bigwig"] = time.perf_counter() - begin
        written.append("pybigtools")
    ours = pyBigWig.open(str(folder / "seqsal.bw"))
    for name in written:
        theirs = pyBigWig.open(str(folder / f"{name}.bw"))
        for chrom in contigs:
            if chrom not in theirs.chroms():  # pybigtools lists only contigs with data
                if ours.intervals(chrom):
                    raise AssertionError(f"{name}'s bigWig lacks {chrom}")
                continue
            if not np.array_equal(
                ours.values(chrom, 0, sizes[chrom], numpy=True),
                theirs.values(chrom, 0, sizes[chrom], numpy=True),
                equal_nan=True,
            ):
                raise AssertionError(f"seqsal's and {name}'s bigWigs differ on {chrom}")
    seconds["bases"] = int(lengths.sum())
    return seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--peer-n", type=int, default=20_000, help="regions the peers run on")
    parser.add_argument("--folder", help="where to write inputs and tracks (default: temp dir)")
    args = parser.parse_args(argv)
    folder = Path(args.folder or tempfile.mkdtemp(prefix="seqsal-tracks-"))
    inputs = make_track_inputs(folder, args.n)
    print(f"N = {args.n:,} regions x {WIDTH} bp, {2 * args.n:,} seqlets, {N_MOTIFS} motifs")
    print(f"{'outputs':<32} {'wall s':>8} {'peak RSS MiB':>13}")
    for label, extra in (
        ("default (attribution.bw, BEDs)", []),
        ("--hypothetical", ["--hypothetical"]),
    ):
        row = run_job([*inputs, *extra, "--out-dir", str(folder / "tracks")])
        print(f"{label:<32} {row['seconds']:>8.1f} {row['peak_rss_mib']:>13,.0f}")
    peers = compare_peers(folder, min(args.peer_n, args.n))
    print(f"\npeers on the first {min(args.peer_n, args.n):,} regions ({peers['bases']:,} bases):")
    rows = [
        ("overlap resolution", "per-base sort", "owners", "peer_owners"),
        ("bigWig with zoom levels", "pyBigWig", "bigwig", "peer_bigwig"),
        ("bigWig with zoom levels", "pybigtools", "bigwig", "pybigtools_bigwig"),
    ]
    for label, peer, step, key in rows:
        if key not in peers:
            print(f"  {label:<24} {peer}: not installed (pip install {peer.lower()})")
            continue
        ours, theirs = peers[f"seqsal_{step}"], peers[key]
        print(
            f"  {label:<24} seqsal {ours:6.2f} s, {peer} {theirs:6.2f} s, "
            f"ratio {theirs / ours:5.1f}x"
        )


if __name__ == "__main__":
    main()
