import numpy as np
import pyBigWig
import pytest

from seqsal.io.bigwig import FIRST_REDUCTION, write_bigwig
from seqsal.tracks import Track


def random_track(rng, sizes, n_contigs):
    """Runs with gaps on the first ``n_contigs`` contigs, some longer than a section."""
    chrom, start, values = [], [], []
    for name in list(sizes)[:n_contigs]:
        position = int(rng.integers(0, 50))
        while True:
            length = int(rng.integers(1, 3000))
            if position + length > sizes[name]:
                break
            chrom.append(name)
            start.append(position)
            values.append(rng.normal(size=length).astype(np.float32))
            position += length + int(rng.integers(0, 2000))
    return Track(np.array(chrom, dtype=object), np.array(start), values)


@pytest.mark.parametrize("compress", [False, True])
def test_every_base_reads_back_and_gaps_stay_empty(tmp_path, compress):
    rng = np.random.default_rng(0)
    # more contigs and sections than one index node holds: multi-level trees
    sizes = {f"contig_{i}": int(rng.integers(3000, 60000)) for i in range(300)}
    track = random_track(rng, sizes, 120)
    write_bigwig(track, sizes, tmp_path / "t.bw", compress=compress)
    bw = pyBigWig.open(str(tmp_path / "t.bw"))
    assert bw.chroms() == sizes
    for chrom in set(track.chrom):
        intervals = bw.intervals(chrom)
        runs = [k for k in range(len(track.chrom)) if track.chrom[k] == chrom]
        expected = np.concatenate([track.values[k] for k in runs])
        positions = np.concatenate([track.start[k] + np.arange(len(track.values[k])) for k in runs])
        np.testing.assert_array_equal([i[0] for i in intervals], positions)
        np.testing.assert_array_equal(np.array([i[2] for i in intervals], np.float32), expected)
    assert bw.intervals("contig_299") is None  # a contig without data
    every = np.concatenate(track.values).astype(np.float64)
    header = bw.header()
    assert header["nBasesCovered"] == len(every)
    assert (header["minVal"], header["maxVal"]) == (int(every.min()), int(every.max()))


def test_zoom_levels_give_exact_summaries_over_aligned_bins(tmp_path):
    rng = np.random.default_rng(1)
    size = FIRST_REDUCTION * 4**5
    sizes = {"a": size, "b": size}
    track = random_track(rng, sizes, 2)
    write_bigwig(track, sizes, tmp_path / "t.bw")
    bw = pyBigWig.open(str(tmp_path / "t.bw"))
    assert bw.header()["nLevels"] >= 4
    for chrom in sizes:
        for n_bins in (4, 16, 64):  # each bin a whole number of zoom records' bins
            for kind in ("mean", "min", "max", "coverage"):
                zoomed = bw.stats(chrom, 0, size, type=kind, nBins=n_bins)
                exact = bw.stats(chrom, 0, size, type=kind, nBins=n_bins, exact=True)
                np.testing.assert_allclose(
                    np.array(zoomed, float), np.array(exact, float), rtol=1e-4, atol=1e-5
                )


def test_empty_track_is_a_valid_file(tmp_path):
    write_bigwig(
        Track(np.array([], dtype=object), np.array([], int), []), {"a": 100}, tmp_path / "e.bw"
    )
    bw = pyBigWig.open(str(tmp_path / "e.bw"))
    assert bw.chroms() == {"a": 100} and bw.intervals("a") is None
