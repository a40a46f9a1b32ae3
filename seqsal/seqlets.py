"""Seqlets: windows of high |attribution|, tested against a null of attributions.

Candidate windows are the local maxima of |window sum| (no overlapping window scores
higher). Their null distribution is the same statistic in maps that hold no motif:

- ``shuffle`` (the workflow's default): the attributions of dinucleotide-shuffled copies
  of the regions (``seqsal attribute --shuffled``), by the same model and method. Window
  sums are divided by their region's robust scale (:func:`region_scales`), in the
  regions and in the null alike, so that a window is significant when it stands out of
  its own map more than chance k-mers of the same composition stand out of theirs
  (gradients of a shuffled sequence, far from the positives' output, run larger or
  smaller everywhere).
- ``bootstrap``: regions stitched together from random blocks of ``window`` bases of the
  real attributions (a block bootstrap, which keeps the short-range correlation of the
  maps). The first null draws blocks clear of outlying bases (beyond 5 robust standard
  deviations); each ``refine`` round redraws them clear of the seqlets called so far.
  Cheaper (no extra attributions) but anti-conservative on correlated maps, and the
  signal itself leaks into the null where most regions hold motifs.

P-values are empirical, with an exponential tail fitted to the top of the null beyond
it, so that they are not floored at ``1 / null size``. Two-sided p-values become
Storey's q-values over all candidates (Benjamini-Hochberg times the estimated share of
windows that are null); those with q below ``alpha`` are seqlets, of both signs.

Memory: the candidates are found a block of rows at a time, and the bootstrap's blocks
are drawn from at most ``null_bases`` bases of attributions (every region when they fit,
a random subset of whole regions otherwise), so that ``attr`` may be memory-mapped and a
genome-wide run holds no per-base array of every region.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .io.bed import SEQLET_COLUMNS


def _window_sums(a: np.ndarray, window: int) -> np.ndarray:
    csum = np.cumsum(a, axis=-1)
    csum = np.concatenate([np.zeros(a.shape[:-1] + (1,)), csum], axis=-1)
    return csum[..., window:] - csum[..., :-window]


def _local_maxima(strength: np.ndarray, window: int) -> np.ndarray:
    """Windows whose strength is the largest of every window overlapping them."""
    from scipy.ndimage import maximum_filter1d

    peak = maximum_filter1d(strength, size=2 * window - 1, axis=-1, mode="constant")
    return (strength == peak) & (strength > 0)


def benjamini_hochberg(p: np.ndarray, n_tests: int | None = None) -> np.ndarray:
    """Benjamini-Hochberg q-values of p-values ``p``.

    ``n_tests``, when larger than ``len(p)``, counts tests left out whose p-values are all
    larger than those given; the q-values below 1 are then those of the whole family.

    Parameters
    ----------
    p : numpy.ndarray, shape=(n,)
    n_tests : int or None, optional
        The family's size. Default is None: ``len(p)``.

    Returns
    -------
    q : numpy.ndarray, shape=(n,)
    """
    p = np.asarray(p, float)
    order = np.argsort(p)
    ranked = p[order] * (n_tests or len(p)) / np.arange(1, len(p) + 1)
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
    blocked = np.zeros((n, length + 1), dtype=np.int32)  # excluded bases before each base
    if exclude is not None:
        np.cumsum(exclude, axis=1, out=blocked[:, 1:])
    rows, starts = np.nonzero(blocked[:, window:] == blocked[:, :-window])
    if len(rows) == 0:
        rows, starts = np.nonzero(np.ones((n, length - window + 1), dtype=bool))
    n_blocks = -(-length // window)
    null, total = [], 0
    while total < null_size:
        picks = rng.integers(len(rows), size=(2048, n_blocks))
        columns = starts[picks][..., None] + np.arange(window)
        synthetic = attr[rows[picks][..., None], columns].reshape(2048, -1)[:, :length]
        strength = np.abs(_window_sums(synthetic, window))
        null.append(strength[_local_maxima(strength, window)])
        total += len(null[-1])
        if not total:  # attributions of zero wherever blocks may come from: no null
            break
    return np.sort(np.concatenate(null))


def _median_and_scale(values: np.ndarray, axis=None) -> tuple:
    """Median and robust standard deviation (1.4826 MAD) along ``axis``, NaN ignored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: NaN, said by caller
        median = np.nanmedian(values, axis=axis, keepdims=True)
        return median, 1.4826 * np.nanmedian(np.abs(values - median), axis=axis, keepdims=True)


def _outliers(attr: np.ndarray, z: float = 5.0) -> np.ndarray:
    """Bases more than ``z`` robust standard deviations from the median."""
    median, scale = _median_and_scale(attr)
    return np.abs(attr - median) > z * max(scale.item(), 1e-12)


def _row_blocks(n: int, length: int, bases: int = 1 << 20):
    """Slices of rows holding about ``bases`` bases each."""
    step = max(1, bases // max(length, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def region_scales(attr: np.ndarray) -> np.ndarray:
    """Each region's robust scale (N, 1): 1.4826 x the median absolute deviation of its
    non-zero attributions (N padding and bases outside an ISM window are exactly zero).

    Parameters
    ----------
    attr : array-like, shape=(N, L)

    Returns
    -------
    scales : numpy.ndarray, shape=(N, 1)
        ``inf`` where a region has no non-zero attribution (no window stands out).
    """
    _, scale = _median_and_scale(np.where(attr != 0, attr, np.nan), axis=1)
    return np.where(np.isfinite(scale) & (scale > 0), scale, np.inf)  # all-zero: no scale


def _candidates(attr, window: int, standardize: bool = False) -> tuple:
    """Every local maximum of |window statistic|, by row blocks: region index and offset
    (int32), the window sum and the statistic of each, in row-major order. The statistic
    is the window sum, or with ``standardize`` the sum over the region's scale."""
    empty = np.zeros(0, dtype=np.int32)
    parts = [(empty, empty, np.zeros(0), np.zeros(0))]
    for rows in _row_blocks(len(attr), attr.shape[1]):
        block = np.asarray(attr[rows], dtype=np.float64)
        sums = _window_sums(block, window)
        stats = sums / region_scales(block) if standardize else sums
        index, offset = np.nonzero(_local_maxima(np.abs(stats), window))
        parts.append(
            (
                (index + rows.start).astype(np.int32),
                offset.astype(np.int32),
                sums[index, offset],
                stats[index, offset],
            )
        )
    return tuple(np.concatenate(column) for column in zip(*parts))


def null_p_values(values: np.ndarray, null: np.ndarray) -> np.ndarray:
    """P(null >= value) for each value, from a sorted null.

    Empirical, ``(1 + exceedances) / (1 + len(null))``, up to the top ``k`` null values
    (the largest 1%, and at least 100); beyond their smallest, ``u``, an exponential tail
    fitted to them: ``k / (1 + len(null)) * exp(-(value - u) / mean excess)``. The tail
    keeps p-values of values past the whole null apart instead of flooring them at
    ``1 / (1 + len(null))``.

    Parameters
    ----------
    values : numpy.ndarray, shape=(n,)
    null : numpy.ndarray, shape=(m,)
        Sorted ascending.

    Returns
    -------
    p : numpy.ndarray, shape=(n,)
    """
    values = np.asarray(values, dtype=np.float64)
    exceed = len(null) - np.searchsorted(null, values, side="left")
    p = (1 + exceed) / (1 + len(null))
    k = min(len(null), max(100, len(null) // 100))
    if k:
        top = null[len(null) - k :]
        u, scale = top[0], float(np.mean(top - top[0]))
        if scale > 0:
            beyond = values > u
            p[beyond] = k / (1 + len(null)) * np.exp(-(values[beyond] - u) / scale)
    return p


def null_maxima(attr, window: int) -> np.ndarray:
    """The null of :func:`call_seqlets` from attributions that hold no motif (e.g. of
    shuffled sequences): sorted |standardized window sums| at their local maxima.

    Parameters
    ----------
    attr : array-like, shape=(M, L)
        Read a block of rows at a time.
    window : int
        Bases per window.

    Returns
    -------
    null : numpy.ndarray
        Sorted ascending.
    """
    if attr.ndim != 2 or attr.shape[1] < window:
        raise ValueError(f"null attr: expected shape (N, L >= {window}), found {attr.shape}")
    return np.sort(np.abs(_candidates(attr, window, standardize=True)[3]))


def _significant(sums: np.ndarray, null: np.ndarray, alpha: float) -> tuple:
    """Which window sums are significant against a sorted null, with their p- and
    q-values: two-sided p, Storey's q (Benjamini-Hochberg times the estimated share of
    null windows, ``pi0 = (1 + #{p > 1/2}) / (m / 2)``, at most 1), q < alpha.

    A first pass counts the p-values above 1/2; the second keeps only p < alpha / pi0,
    the only ones that can pass: the larger p-values count, a block at a time, and are
    not kept.
    """
    blocks = _row_blocks(len(sums), 1)
    above = sum(int((null_p_values(np.abs(sums[b]), null) > 0.5).sum()) for b in blocks)
    pi0 = min(1.0, (1 + above) / (0.5 * max(len(sums), 1)))
    strong, p = [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
    for block in blocks:
        block_p = null_p_values(np.abs(sums[block]), null)
        (chosen,) = np.nonzero(block_p < alpha / pi0)
        strong.append(chosen + block.start)
        p.append(block_p[chosen])
    strong, p = np.concatenate(strong), np.concatenate(p)
    q = pi0 * benjamini_hochberg(p, n_tests=len(sums))
    keep = q < alpha
    return strong[keep], p[keep], q[keep]


def call_seqlets(
    attr,
    *,
    null_attr=None,
    window: int = 10,
    null_size: int = 200_000,
    alpha: float = 0.2,
    refine: int = 2,
    seed: int = 0,
    null_bases: int = 1 << 23,
) -> pd.DataFrame:
    """Call seqlets in actual attributions.

    Parameters
    ----------
    attr : numpy.ndarray or seqsal.io.RowStack, shape=(N, L)
        Actual per-base attributions, each region on its own strand (may be
        memory-mapped: it is read a block of rows at a time).
    null_attr : numpy.ndarray or seqsal.io.RowStack, shape=(M, L), optional
        Attributions of sequences without motifs (dinucleotide shuffles of regions, by
        the same model and method): the null. Default is None: a block bootstrap of
        ``attr`` itself (``null_size``, ``refine``, ``null_bases``).
    window : int, optional
        Seqlet width in bases. Default is 10.
    null_size : int, optional
        Candidates in the null; the smallest possible p-value is about
        ``1 / null_size``. Default is 200000.
    alpha : float, optional
        False discovery rate. Default is 0.2 (TF-MoDISco's target seqlet FDR).
    refine : int, optional
        Rounds that redraw the null clear of the seqlets called so far. Default is 2.
    seed : int, optional
        Seed of the bootstrap. Default is 0.
    null_bases : int, optional
        Most bases the null's blocks are drawn from: when ``N * L`` is larger, a random
        subset of whole regions (drawn with ``seed``) of about this many bases. Default
        is 2**23.

    Returns
    -------
    seqlets : pandas.DataFrame
        Columns ``region_index, offset, attr_sum, p_value, q_value``: offsets on each
        region's own strand, sorted by region then offset.
    """
    if attr.ndim != 2 or attr.shape[1] < window:
        raise ValueError(f"attr: expected shape (N, L >= {window}), found {attr.shape}")
    n, length = attr.shape
    index, offset, sums, stats = _candidates(attr, window, standardize=null_attr is not None)
    if null_attr is not None:
        hits, p, q = _significant(stats, null_maxima(null_attr, window), alpha)
    else:
        hits, p, q = _bootstrap_significant(
            attr, index, offset, sums, window, alpha, null_size, refine, seed, null_bases
        )
    return pd.DataFrame(
        {
            "region_index": index[hits].astype(np.int64),
            "offset": offset[hits].astype(np.int64),
            "attr_sum": sums[hits],
            "p_value": p,
            "q_value": q,
        }
    )


def _bootstrap_significant(
    attr, index, offset, sums, window, alpha, null_size, refine, seed, null_bases
):
    """:func:`_significant` against a block bootstrap of ``attr``, refined ``refine`` times
    (see :func:`call_seqlets`)."""
    n, length = attr.shape
    if n * length > null_bases:
        rng = np.random.default_rng(seed)
        source_rows = np.sort(rng.choice(n, size=max(1, null_bases // length), replace=False))
    else:
        source_rows = np.arange(n)
    source = np.asarray(attr[source_rows], dtype=np.float64)
    exclude = _outliers(source)
    for _ in range(refine + 1):
        null = block_null(source, window=window, exclude=exclude, null_size=null_size, seed=seed)
        hits, p, q = _significant(sums, null, alpha)
        # the seqlets inside the null's regions, at those regions' rows of the source
        row = np.searchsorted(source_rows, index[hits]).clip(max=len(source_rows) - 1)
        inside = source_rows[row] == index[hits]
        exclude = np.zeros(source.shape, dtype=bool)
        exclude[row[inside][:, None], offset[hits][inside][:, None] + np.arange(window)] = True
    return hits, p, q


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
    """Give seqlets genome coordinates, names and BED scores (BED6+, docs/design.md).

    Parameters
    ----------
    seqlets : pandas.DataFrame
        As from :func:`call_seqlets` (``region_index``, ``offset``, ``attr_sum``,
        ``p_value``, ``q_value``).
    regions : pandas.DataFrame
        The regions the indices refer to.
    window : int
        The seqlets' width.

    Returns
    -------
    bed : pandas.DataFrame
        The columns of :data:`SEQLET_COLUMNS`.
    """
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
    """Inverse of :func:`seqlets_to_bed`: region index and own-strand offset of each.

    Parameters
    ----------
    seqlets : pandas.DataFrame
        ``seqlets.bed``.
    regions : pandas.DataFrame

    Returns
    -------
    region_index, offset : numpy.ndarray of int, shape=(S,)
    """
    index = pd.Series(np.arange(len(regions)), index=regions["name"].to_numpy())
    region_index = index.loc[seqlets["region"].to_numpy()].to_numpy()
    r = regions.iloc[region_index]
    minus = r["strand"].to_numpy() == "-"
    first, last = _window(r)
    offset = np.where(minus, last - seqlets["end"].to_numpy(), seqlets["start"].to_numpy() - first)
    return region_index, offset.astype(np.int64)
