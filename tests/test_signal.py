"""Signal tracks as labels: window sums equal to the per-base definition, whatever the
file (bigWig, bedGraph, gzip), span or chunking; every bad line named."""

import gzip

import numpy as np
import pandas as pd
import pyBigWig
import pytest

import seqsal.io.signal as signal
from seqsal.cli import main
from seqsal.errors import InputError
from seqsal.io.fasta import write_fasta
from seqsal.io.signal import interval_sums, signal_contigs, signal_sums
from seqsal.regions import signal_targets, track_name

SIZES = {"chr1": 5000, "chr2": 3000}


def step_track(rng, sizes=SIZES, n=60):
    """Non-overlapping intervals with values (gaps between them hold no data), and the
    same as per-base arrays (gaps 0)."""
    intervals, bases = [], {}
    for chrom, size in sizes.items():
        cuts = np.sort(rng.choice(np.arange(1, size), size=2 * n, replace=False))
        values = np.zeros(size)
        for start, end in cuts.reshape(-1, 2):
            value = float(rng.integers(-3, 9)) / 2
            intervals.append((chrom, int(start), int(end), value))
            values[start:end] = value
        bases[chrom] = values
    return intervals, bases


def write_bigwig(path, intervals, sizes=SIZES):
    with pyBigWig.open(str(path), "w") as out:
        out.addHeader(list(sizes.items()))
        for chrom, start, end, value in intervals:
            out.addEntries([chrom], [start], ends=[end], values=[value])


def write_bedgraph(path, intervals, header="track type=bedGraph\n"):
    text = header + "".join(f"{c}\t{s}\t{e}\t{v}\n" for c, s, e, v in intervals)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt") as out:
        out.write(text)


def random_windows(rng, n=300, sizes=SIZES):
    chrom = rng.choice(list(sizes), size=n)
    width = rng.integers(1, 400, size=n)
    start = np.array([rng.integers(0, sizes[c] - w) for c, w in zip(chrom, width)])
    return pd.DataFrame({"chrom": chrom, "start": start, "end": start + width})


@pytest.mark.parametrize("kind", ["bigwig", "bedgraph", "bedgraph.gz"])
def test_window_sums_are_the_sum_of_the_bases(tmp_path, monkeypatch, kind):
    """Every file kind, with spans and chunks small enough that windows straddle them."""
    rng = np.random.default_rng(0)
    intervals, bases = step_track(rng)
    path = tmp_path / f"track.{kind}"
    (write_bigwig if kind == "bigwig" else write_bedgraph)(path, intervals)
    monkeypatch.setattr(signal, "SPAN", 700)
    monkeypatch.setattr(signal, "GAP", 50)
    monkeypatch.setattr(signal, "CHUNK", 17)
    windows = random_windows(rng)
    sums, absent = signal_sums(path, windows, SIZES)
    expected = [bases[c][s:e].sum() for c, s, e in windows.itertuples(index=False)]
    np.testing.assert_allclose(sums, expected, atol=1e-6)
    assert not absent.any()


def test_interval_sums_match_a_brute_force_integral():
    rng = np.random.default_rng(1)
    for _ in range(20):
        cuts = np.sort(rng.choice(200, size=2 * 8, replace=False))
        starts, ends = cuts[0::2], cuts[1::2]
        values = rng.normal(size=8)
        line = np.zeros(200)
        for s, e, v in zip(starts, ends, values):
            line[s:e] = v
        lo = rng.integers(0, 199, size=50)
        hi = lo + rng.integers(0, 200 - lo)
        expected = [line[a:b].sum() for a, b in zip(lo, hi)]
        np.testing.assert_allclose(interval_sums(starts, ends, values, lo, hi), expected)


def test_a_bigwig_names_the_contigs_it_lacks_and_another_assembly(tmp_path):
    write_bigwig(tmp_path / "one.bw", [("chr1", 0, 10, 1.0)], sizes={"chr1": 5000})
    windows = pd.DataFrame({"chrom": ["chr1", "chr2"], "start": [0, 0], "end": [5, 5]})
    sums, absent = signal_sums(tmp_path / "one.bw", windows, SIZES)
    assert sums.tolist() == [5.0, 0.0] and absent.tolist() == [False, True]
    assert signal_contigs(tmp_path / "one.bw", SIZES) == {"chr1"}
    write_bigwig(tmp_path / "other.bw", [("chr1", 0, 10, 1.0)], sizes={"chr1": 4000})
    with pytest.raises(InputError, match="contig chr1 of 5,000 bp as in the FASTA, found 4,000"):
        signal_contigs(tmp_path / "other.bw", SIZES)


@pytest.mark.parametrize(
    "lines, line, expected",
    [
        (["chr1\t0\t10\t1", "chr1\tx\t20\t1"], 3, "integer start and end"),
        (["chr1\t0\t10\t1", "chr1\t10\t20\tnan"], 3, "a finite value"),
        (["chr1\t10\t5\t1"], 2, "0 <= start < end"),
        (["chr1\t0\t10\t1", "chr1\t5\t20\t1"], 3, "not overlapping|none overlapping"),
        (["chr1\t0\t10\t1", "chr2\t0\t10\t1", "chr1\t20\t30\t1"], 4, "each contig's lines"),
        (["chr2\t0\t3001\t1"], 2, "within the contig's length"),
    ],
)
def test_each_bad_bedgraph_line_is_named(tmp_path, lines, line, expected):
    path = tmp_path / "bad.bedGraph"
    path.write_text("track type=bedGraph\n" + "\n".join(lines) + "\n")
    windows = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [10]})
    with pytest.raises(InputError, match=rf"bad.bedGraph, line {line}: expected .*({expected})"):
        signal_sums(path, windows, SIZES)


def test_a_file_that_is_no_track_is_refused_in_one_line(tmp_path):
    path = tmp_path / "noise.bw"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    windows = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [10]})
    with pytest.raises(InputError, match="noise.bw"):
        signal_sums(path, windows, SIZES)


def test_targets_by_strand_and_statistic():
    plus, minus = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])
    strands = ["+", "-", "."]
    table = signal_targets({"cage": (plus, minus)}, strands, stat="sum", window=10)
    assert table["cage"].tolist() == [1.0, 20.0, 33.0]
    table = signal_targets({"atac": (plus, None)}, strands, window=10)
    np.testing.assert_allclose(table["atac"], np.log1p(plus))
    mean = signal_targets({"fc": (-plus, None)}, strands, stat="mean", window=10)
    np.testing.assert_allclose(mean["fc"], -plus / 10)
    with pytest.raises(InputError, match="input.signal_stat: expected counts"):
        signal_targets({"fc": (-plus, None)}, strands, window=10)
    assert [track_name(p) for p in ("a/ATAC.bw", "k27.bedGraph.gz", "x.bigWig")] == [
        "ATAC",
        "k27",
        "x",
    ]


def test_regions_cli_labels_regions_from_a_bigwig_and_rejects_untracked_contigs(tmp_path):
    rng = np.random.default_rng(2)
    write_fasta({c: "".join(rng.choice(list("ACGT"), size=n)) for c, n in SIZES.items()},
                tmp_path / "genome.fa")  # fmt: skip
    intervals, bases = step_track(rng, sizes={"chr1": 5000})
    intervals = [i for i in intervals if i[3] >= 0]  # counts
    write_bigwig(tmp_path / "cov.bw", intervals, sizes={"chr1": 5000})
    (tmp_path / "r.bed").write_text("chr1\t100\t300\ta\t0\t+\nchr2\t100\t300\tb\t0\t+\n"
                                    "chr1\t1000\t1200\tc\t0\t-\n")  # fmt: skip
    out = tmp_path / "out"
    status = main(
        ["regions", "--bed", str(tmp_path / "r.bed"), "--fasta", str(tmp_path / "genome.fa"),
         "--signal", str(tmp_path / "cov.bw"), "--signal-stat", "sum", "--signal-window", "50",
         "--width", "200", "--out-dir", str(out)]
    )  # fmt: skip
    assert status == 0
    labels = pd.read_csv(out / "labels.tsv", sep="\t").set_index("name")
    line = np.zeros(5000)
    for _, s, e, v in intervals:
        line[s:e] = v
    assert labels.loc["a", "cov"] == pytest.approx(line[175:225].sum())
    assert labels.loc["c", "cov"] == pytest.approx(line[1075:1125].sum())
    rejected = pd.read_csv(out / "rejected.tsv", sep="\t")
    assert rejected[["line", "name"]].values.tolist() == [[2, "b"]]
    assert "contig not in signal track" in rejected["reason"].iloc[0]


def test_signal_targets_join_the_beds_own_labels(tmp_path):
    rng = np.random.default_rng(3)
    write_fasta({"chr1": "".join(rng.choice(list("ACGT"), size=5000))}, tmp_path / "g.fa")
    write_bigwig(tmp_path / "atac.bw", [("chr1", 0, 5000, 2.0)], sizes={"chr1": 5000})
    (tmp_path / "r.bed").write_text("chr1\t100\t300\ta\t7\t+\nchr1\t1000\t1200\tb\t9\t-\n")
    out = tmp_path / "out"
    args = ["regions", "--bed", str(tmp_path / "r.bed"), "--fasta", str(tmp_path / "g.fa"),
            "--bed-targets", "5", "--signal", str(tmp_path / "atac.bw"), "--signal-stat", "sum",
            "--out-dir", str(out)]  # fmt: skip
    assert main(args) == 0
    labels = pd.read_csv(out / "labels.tsv", sep="\t").set_index("name")
    assert list(labels.columns) == ["score", "atac"]
    assert labels.loc["b"].tolist() == [9.0, 400.0]
