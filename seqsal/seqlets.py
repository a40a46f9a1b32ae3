"""Seqlets: windows of high |attribution|, tested against a block-bootstrap null.

Candidate windows are the local maxima of |window sum| (no overlapping window scores
higher). Their null distribution is made the same way from synthetic regions stitched
together from random blocks of ``window`` bases of the real attributions (a block
bootstrap, which keeps the short-range correlation of attribution maps). The first null
draws blocks clear of outlying bases (beyond 5 robust standard deviations); each
``refine`` round redraws them clear of the seqlets called so far, so that strong motifs
do not inflate the null that weaker ones are tested against. Two-sided p-values are
corrected by Benjamini-Hochberg over all candidates; those with q below ``alpha`` are
seqlets, of both signs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEQLET_COLUMNS = [
    "chrom",
    "start",
    "end",
    "name",
    "score",
    "strand",
    "region",
    "attr_sum",
    "p_value",
    "q_value",
]


def _window_sums(a: np.ndarray, window: int) -> np.ndarray:
    csum = np.cumsum(a, axis=-1)
    csum = np.concatenate([np.zeros(a.shape[:-1] + (1,)), csum], axis=-1)
    return csum[..., window:] - csum[..., :-window]


def _local_maxima(strength: np.ndarray, window: int) -> np.ndarray:
    """Windows whose strength is the largest of every window overlapping them."""
    from scipy.ndimage import maximum_filter1d

    peak = maximum_filter1d(strength, size=2 * window - 1, axis=-1, mode="constant")
    return (strength == peak) & (strength > 0)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of p-values ``p``."""
    p = np.asarray(p, float)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.empty_like(p)
    q[order] = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    return q


def block_null(
    attr: np.ndarray,
    *,
    window: int,
    exclude: np.ndarray | None = None,
    null_size: int = 200_000,
    seed: int = 0,
) -> np.ndarray:
    """Sorted |window sums| at the local maxima of block-bootstrapped regions.

    Parameters
    ----------
    attr : numpy.ndarray, shape=(N, L)
        Actual attributions.
    window : int
        Window (and block) width.
    exclude : numpy.ndarray of bool, shape=(N, L), optional
        Bases no block may contain (e.g. seqlets already called). Default is None.
    null_size : int, optional
        Least number of null candidates collected. Default is 200000.
    seed : int, optional
        Default is 0.

    Returns
    -------
    null : numpy.ndarray, shape=(>= null_size,)
    """
    rng = np.random.default_rng(seed)
    n, length = attr.shape
    blocked = np.zeros(attr.shape) if exclude is None else exclude.astype(np.float64)
    rows, starts = np.nonzero(_window_sums(blocked, window) == 0)
    if len(rows) == 0:
        rows, starts = np.nonzero(_window_sums(np.zeros(attr.shape), window) == 0)
    n_blocks = -(-length // window)
    null, total = [], 0
    while total < null_size:
        picks = rng.integers(len(rows), size=(2048, n_blocks))
        columns = starts[picks][..., None] + np.arange(window)
        synthetic = attr[rows[picks][..., None], columns].reshape(2048, -1)[:, :length]
        strength = np.abs(_window_sums(synthetic, window))
        null.append(strength[_local_maxima(strength, window)])
        total += len(null[-1])
    return np.sort(np.concatenate(null))


def _outliers(attr: np.ndarray, z: float = 5.0) -> np.ndarray:
    """Bases more than ``z`` robust standard deviations (1.4826 MAD) from the median."""
    median = np.median(attr)
    scale = 1.4826 * np.median(np.abs(attr - median))
    return np.abs(attr - median) > z * max(scale, 1e-12)


def _test_windows(sums: np.ndarray, null: np.ndarray, window: int) -> pd.DataFrame:
    strength = np.abs(sums)
    region_index, offset = np.nonzero(_local_maxima(strength, window))
    tests = pd.DataFrame(
        {"region_index": region_index, "offset": offset, "attr_sum": sums[region_index, offset]}
    )
    exceed = len(null) - np.searchsorted(null, strength[region_index, offset], side="left")
    tests["p_value"] = (1 + exceed) / (1 + len(null))
    tests["q_value"] = benjamini_hochberg(tests["p_value"].to_numpy())
    return tests


def call_seqlets(
    attr: np.ndarray,
    *,
    window: int = 10,
    null_size: int = 200_000,
    alpha: float = 0.05,
    refine: int = 2,
    seed: int = 0,
) -> pd.DataFrame:
    """Call seqlets in actual attributions.

    Parameters
    ----------
    attr : numpy.ndarray, shape=(N, L)
        Actual per-base attributions, each region on its own strand.
    window : int, optional
        Seqlet width in bases. Default is 10.
    null_size : int, optional
        Candidates in the null; the smallest possible p-value is about
        ``1 / null_size``. Default is 200000.
    alpha : float, optional
        False discovery rate. Default is 0.05.
    refine : int, optional
        Rounds that redraw the null clear of the seqlets called so far. Default is 2.
    seed : int, optional
        Seed of the bootstrap. Default is 0.

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
    exclude = _outliers(attr)
    for _ in range(refine + 1):
        null = block_null(attr, window=window, exclude=exclude, null_size=null_size, seed=seed)
        tests = _test_windows(sums, null, window)
        hits = tests[tests["q_value"] < alpha]
        exclude = np.zeros(attr.shape, dtype=bool)
        exclude[
            hits["region_index"].to_numpy()[:, None],
            hits["offset"].to_numpy()[:, None] + np.arange(window),
        ] = True
    return hits.sort_values(["region_index", "offset"]).reset_index(drop=True)


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
    first, last = _window(r)
    starts = np.where(minus, last - offset - length, first + offset)
    # a seqlet reaching into N padding (at a contig end) is clipped to the contig
    clipped = np.clip(starts, r["start"].to_numpy(), r["end"].to_numpy())
    ends = np.clip(starts + length, r["start"].to_numpy(), r["end"].to_numpy())
    return clipped.astype(np.int64), ends.astype(np.int64)


def _window(regions: pd.DataFrame):
    """Genome start and end of each region's encoded window, N padding included."""
    pads = regions.reindex(columns=["pad_left", "pad_right"], fill_value=0).to_numpy()
    return regions["start"].to_numpy() - pads[:, 0], regions["end"].to_numpy() + pads[:, 1]


def seqlets_to_bed(seqlets: pd.DataFrame, regions: pd.DataFrame, *, window: int) -> pd.DataFrame:
    """Give seqlets genome coordinates, names and BED scores (DESIGN.md's BED6+)."""
    r = regions.iloc[seqlets["region_index"].to_numpy()]
    starts, ends = offsets_to_genome(regions, seqlets["region_index"], seqlets["offset"], window)
    count = seqlets.groupby("region_index").cumcount().to_numpy()
    q = seqlets["q_value"].to_numpy()
    return pd.DataFrame(
        {
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
        }
    )[SEQLET_COLUMNS]


def bed_to_offsets(seqlets: pd.DataFrame, regions: pd.DataFrame) -> tuple:
    """Inverse of :func:`seqlets_to_bed`: region index and own-strand offset of each."""
    index = pd.Series(np.arange(len(regions)), index=regions["name"].to_numpy())
    region_index = index.loc[seqlets["region"].to_numpy()].to_numpy()
    r = regions.iloc[region_index]
    minus = r["strand"].to_numpy() == "-"
    first, last = _window(r)
    offset = np.where(minus, last - seqlets["end"].to_numpy(), seqlets["start"].to_numpy() - first)
    return region_index, offset.astype(np.int64)
