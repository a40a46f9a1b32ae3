"""GC-matched negatives: clean windows away from every region, their GC the regions'."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from seqsal.errors import InputError
from seqsal.negatives import gc_matched_negatives, match_gc, outside, tile_gc


def test_outside_is_true_exactly_for_windows_missing_every_interval():
    rng = np.random.default_rng(0)
    excluded = np.sort(rng.integers(0, 1000, size=(30, 2)), axis=1)
    starts = np.arange(0, 990)
    covered = np.zeros(1000, bool)
    for lo, hi in excluded:
        covered[lo:hi] = True
    expected = [not covered[s : s + 10].any() for s in starts]
    assert outside(starts, 10, excluded).tolist() == expected


def test_tiles_count_gc_and_mark_n_per_window():
    codes = np.frombuffer(b"GGCCAAAANATTGC", np.uint8)
    starts, gc, clean = tile_gc(codes, 4)
    assert starts.tolist() == [0, 4, 8] and gc.tolist() == [1.0, 0.0, 0.0]
    assert clean.tolist() == [True, True, False]


def test_matched_gc_follows_the_targets_distribution():
    rng = np.random.default_rng(1)
    target = rng.beta(8, 6, size=2000)  # GC-rich peaks
    candidates = rng.beta(4, 6, size=50000)  # an AT-rich genome
    chosen = match_gc(target, candidates, 2000, rng)
    assert len(np.unique(chosen)) == 2000
    assert ks_2samp(target, candidates).statistic > 0.3  # unmatched: far apart
    assert ks_2samp(target, candidates[chosen]).statistic < 0.03


def genome(rng, size=2_000_000):
    """A genome whose GC drifts along it (isochores), with a run of N."""
    gc = 0.3 + 0.4 * (np.sin(np.arange(size) / 30_000) + 1) / 2
    bases = np.where(rng.random(size) < gc, rng.choice([71, 67], size), rng.choice([65, 84], size))
    bases[50_000:51_000] = ord("N")
    return bases.astype(np.uint8)


def test_negatives_match_gc_and_touch_no_region_n_or_blacklist():
    rng = np.random.default_rng(2)
    codes = genome(rng)
    gc_line = np.isin(codes, [67, 71])
    # regions where GC is high
    centres = rng.choice(np.flatnonzero(np.convolve(gc_line, np.ones(500), "same") > 330), 150)
    starts = np.unique(np.clip(centres - 100, 0, len(codes) - 200))
    regions = pd.DataFrame(
        {"chrom": "chr1", "start": starts, "end": starts + 200, "name": [f"p{i}" for i in starts]}
        | {"score": 0, "strand": ".", "pad_left": 0, "pad_right": 0}
    )
    blacklist = pd.DataFrame({"chrom": ["chr1"], "start": [120_000], "end": [140_000]})
    negatives, stats = gc_matched_negatives(
        regions, {"chr1": len(codes)}, lambda chrom: codes, blacklist=blacklist, seed=0
    )
    assert len(negatives) == len(regions) and stats["gc_ks"] < 0.1
    assert abs(stats["gc_negatives"] - stats["gc_positives"]) < 0.01
    for s, e in zip(negatives["start"], negatives["end"]):
        assert e - s == 200 and not (s < 140_000 and e > 120_000)
        assert not (s < 51_000 and e > 50_000)  # no N
        assert np.all((regions["end"] + 200 <= s) | (regions["start"] - 200 >= e))
    with pytest.raises(InputError, match="input.negative_ratio: expected at most"):
        gc_matched_negatives(regions, {"chr1": len(codes)}, lambda chrom: codes, ratio=1e4)
