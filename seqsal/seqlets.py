"""Seqlets: windows of high |attribution|, tested against a shuffled-attribution null.

The null distribution of a window's attribution sum comes from the regions' own per-base
attributions with their positions shuffled within each region, pooled over regions: a
window is significant only when large values sit together, as in a motif, and when they
are large for this data set, not merely for a quiet region. Windows are picked greedily
by |sum| without overlap, their two-sided p-values are corrected by Benjamini-Hochberg
over all regions, and those with q below ``alpha`` are seqlets (both signs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEQLET_COLUMNS = ["chrom", "start", "end", "name", "score", "strand", "region",
                  "attr_sum", "p_value", "q_value"]


def _window_sums(a: np.ndarray, window: int) -> np.ndarray:
    csum = np.cumsum(a, axis=-1)
    csum = np.concatenate([np.zeros(a.shape[:-1] + (1,)), csum], axis=-1)
    return csum[..., window:] - csum[..., :-window]


def _pick_windows(strength: np.ndarray, window: int) -> list:
    """Greedy non-overlapping windows in decreasing ``strength``."""
    taken = np.zeros(len(strength) + window, dtype=bool)
    picks = []
    for start in np.argsort(-strength, kind="stable"):
        if not taken[start : start + window].any():
            picks.append(int(start))
            taken[start : start + window] = True
    return picks


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of p-values ``p``."""
    p = np.asarray(p, float)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.empty_like(p)
    q[order] = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    return q


def shuffled_null(attr: np.ndarray, *, window: int, null_size: int = 1_000_000,
                  seed: int = 0) -> np.ndarray:
    """Sorted |sums| of ``window`` attributions drawn at random (with replacement) from
    one region at a time, ``null_size`` times."""
    rng = np.random.default_rng(seed)
    null = []
    for size in np.diff(np.r_[0:null_size:2**18, null_size]):
        rows = rng.integers(len(attr), size=size)
        columns = rng.integers(attr.shape[1], size=(size, window))
        null.append(np.abs(attr[rows[:, None], columns].sum(axis=1)))
    return np.sort(np.concatenate(null))


def background_null(sums: np.ndarray, *, window: int, exclude: np.ndarray | None = None,
                    null_size: int = 1_000_000, seed: int = 0) -> np.ndarray:
    """Sorted |window sums| of the windows that overlap no excluded base.

    Real windows keep the spatial correlation of attributions, which shuffled bases
    would lose (and so call too many seqlets).

    Parameters
    ----------
    sums : numpy.ndarray, shape=(N, L - window + 1)
        Window sums of the attributions.
    window : int
    exclude : numpy.ndarray of bool, shape=(N, L), optional
        Bases whose windows are left out (e.g. seqlets already called). Default is None.
    null_size : int, optional
        At most this many windows, drawn at random, make the null. Default is 1000000.
    seed : int, optional
        Default is 0.
    """
    values = np.abs(sums)
    if exclude is not None:
        values = values[_window_sums(exclude.astype(np.float64), window) == 0]
    values = values.ravel()
    if len(values) > null_size:
        values = np.random.default_rng(seed).choice(values, size=null_size, replace=False)
    return np.sort(values)


def _test_windows(attr, sums, null, window):
    rows = []
    for i, region_sums in enumerate(sums):
        picks = np.array(_pick_windows(np.abs(region_sums), window), dtype=int)
        rows.append(pd.DataFrame({"region_index": i, "offset": picks,
                                  "attr_sum": region_sums[picks]}))
    tests = pd.concat(rows, ignore_index=True)
    exceed = len(null) - np.searchsorted(null, np.abs(tests["attr_sum"].to_numpy()), side="left")
    tests["p_value"] = (1 + exceed) / (1 + len(null))
    tests["q_value"] = benjamini_hochberg(tests["p_value"].to_numpy())
    return tests


def call_seqlets(attr: np.ndarray, *, window: int = 10, null_size: int = 1_000_000,
                 alpha: float = 0.05, refine: int = 2, seed: int = 0) -> pd.DataFrame:
    """Call seqlets in actual attributions.

    Parameters
    ----------
    attr : numpy.ndarray, shape=(N, L)
        Actual per-base attributions, each region on its own strand.
    window : int, optional
        Seqlet width in bases. Default is 10.
    null_size : int, optional
        Window sums in the shuffled null; the smallest possible p-value is
        ``1 / (null_size + 1)``. Default is 1000000.
    alpha : float, optional
        False discovery rate. Default is 0.05.
    refine : int, optional
        Rounds that rebuild the null without the bases of the seqlets called so far, so
        strong motifs do not inflate the null that weaker ones are tested against; the
        first null draws bases at random, later ones use real windows clear of seqlets.
        Default is 2.
    seed : int, optional
        Seed of the shuffles. Default is 0.

    Returns
    -------
    seqlets : pandas.DataFrame
        Columns ``region_index, offset, attr_sum, p_value, q_value``: offsets on each
        region's own strand, sorted by region then offset.
    """
    if attr.ndim != 2 or attr.shape[1] < window:
        raise ValueError(f"attr: expected shape (N, L >= {window}), found {attr.shape}")
    attr = np.asarray(attr, dtype=np.float64)
    sums = _window_sums(attr, window)
    null = shuffled_null(attr, window=window, null_size=null_size, seed=seed)
    tests = _test_windows(attr, sums, null, window)
    for _ in range(refine):
        exclude = np.zeros(attr.shape, dtype=bool)
        hits = tests[tests["q_value"] < alpha]
        columns = hits["offset"].to_numpy()[:, None] + np.arange(window)
        exclude[hits["region_index"].to_numpy()[:, None], columns] = True
        null = background_null(sums, window=window, exclude=exclude, null_size=null_size,
                               seed=seed)
        tests = _test_windows(attr, sums, null, window)
    seqlets = tests[tests["q_value"] < alpha]
    return seqlets.sort_values(["region_index", "offset"]).reset_index(drop=True)


def offsets_to_genome(regions: pd.DataFrame, region_index, offset, length) -> tuple:
    """Map offsets on each region's own strand to + strand genome starts and ends.

    Parameters
    ----------
    regions : pandas.DataFrame
        BED6 regions.
    region_index, offset, length : array-like of int
        Which region, where in it (on its own strand), and how many bases.

    Returns
    -------
    starts, ends : numpy.ndarray of int64
    """
    r = regions.iloc[np.asarray(region_index)]
    offset, length = np.asarray(offset), np.asarray(length)
    minus = r["strand"].to_numpy() == "-"
    starts = np.where(minus, r["end"].to_numpy() - offset - length, r["start"].to_numpy() + offset)
    return starts.astype(np.int64), (starts + length).astype(np.int64)


def seqlets_to_bed(seqlets: pd.DataFrame, regions: pd.DataFrame, *, window: int) -> pd.DataFrame:
    """Give seqlets genome coordinates, names and BED scores (DESIGN.md's BED6+)."""
    r = regions.iloc[seqlets["region_index"].to_numpy()]
    starts, ends = offsets_to_genome(regions, seqlets["region_index"], seqlets["offset"], window)
    count = seqlets.groupby("region_index").cumcount().to_numpy()
    q = seqlets["q_value"].to_numpy()
    return pd.DataFrame({
        "chrom": r["chrom"].to_numpy(),
        "start": starts,
        "end": ends,
        "name": [f"{name}:{k}" for name, k in zip(r["name"], count)],
        "score": np.clip(np.round(-100 * np.log10(np.maximum(q, 1e-10))), 0, 1000).astype(int),
        "strand": ".",
        "region": r["name"].to_numpy(),
        "attr_sum": seqlets["attr_sum"].round(6).to_numpy(),
        "p_value": seqlets["p_value"].to_numpy(),
        "q_value": q,
    })[SEQLET_COLUMNS]


def bed_to_offsets(seqlets: pd.DataFrame, regions: pd.DataFrame) -> tuple:
    """Inverse of :func:`seqlets_to_bed`: region index and own-strand offset of each."""
    index = pd.Series(np.arange(len(regions)), index=regions["name"].to_numpy())
    region_index = index.loc[seqlets["region"].to_numpy()].to_numpy()
    r = regions.iloc[region_index]
    minus = r["strand"].to_numpy() == "-"
    offset = np.where(minus, r["end"].to_numpy() - seqlets["end"].to_numpy(),
                      seqlets["start"].to_numpy() - r["start"].to_numpy())
    return region_index, offset.astype(np.int64)
