"""Negatives for peaks on a genome: windows from the same reference whose GC matches.

A model trained on peaks against random genome windows learns GC content first: peaks are
GC-rich. As chrombpnet does, the background here is sampled from the reference itself,
outside the peaks, so that its GC distribution is the peaks': every window of the
peaks' length, tiled along each contig, is a candidate unless it holds an ``N``, lies in
a blacklisted interval, or comes within one window length of a peak (so a negative
shares no context with a positive); candidates are binned by GC fraction, and each bin
gives as many negatives as ``ratio`` times the peaks in it (a bin that runs short is
made up from its nearest bins). The two-sample Kolmogorov-Smirnov statistic of the GC
fractions says how close the match came.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InputError

GC_BINS = 100
BLOCK = 1 << 24  # bases of a contig counted at once
GC = np.zeros(256, bool)
GC[[ord("G"), ord("C")]] = True
ACGT = np.zeros(256, bool)
ACGT[[ord(b) for b in "ACGT"]] = True


def tile_gc(codes: np.ndarray, width: int) -> tuple:
    """Every whole window of ``width`` bases tiled from a contig's start, in blocks of
    :data:`BLOCK` bases (memory bounded for any contig).

    Returns
    -------
    starts : numpy.ndarray of int
    gc : numpy.ndarray of float
        GC fraction.
    clean : numpy.ndarray of bool
        No base other than A, C, G or T.
    """
    block = max(BLOCK // width, 1) * width
    parts = []
    for offset in range(0, len(codes) - width + 1, block):
        piece = codes[offset : offset + block]
        n = len(piece) // width
        tiles = piece[: n * width].reshape(n, width)
        gc = GC[tiles].sum(axis=1) / width
        clean = ACGT[tiles].all(axis=1)
        parts.append((offset + np.arange(n, dtype=np.int64) * width, gc, clean))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)
    return tuple(np.concatenate(p) for p in zip(*parts))


def outside(starts: np.ndarray, width: int, excluded: np.ndarray) -> np.ndarray:
    """Whether each window ``[start, start + width)`` misses every excluded interval.

    Parameters
    ----------
    starts : numpy.ndarray of int
    width : int
    excluded : numpy.ndarray of int, shape=(m, 2)
        ``[start, end)`` intervals, in any order, overlapping or not.

    Returns
    -------
    clear : numpy.ndarray of bool
    """
    if not len(excluded):
        return np.ones(len(starts), bool)
    order = np.argsort(excluded[:, 0], kind="stable")
    lo, hi = excluded[order, 0], np.maximum.accumulate(excluded[order, 1])
    last = np.searchsorted(lo, starts + width, side="left") - 1  # the last to start before
    return (last < 0) | (hi[np.maximum(last, 0)] <= starts)


def match_gc(target: np.ndarray, candidates: np.ndarray, n: int, rng) -> np.ndarray:
    """Pick ``n`` candidates, without replacement, whose GC follows ``target``'s.

    Parameters
    ----------
    target : numpy.ndarray of float
        The positives' GC fractions.
    candidates : numpy.ndarray of float
    n : int
        Negatives wanted (at most ``len(candidates)``).
    rng : numpy.random.Generator

    Returns
    -------
    chosen : numpy.ndarray of int
        Indices into ``candidates``.
    """
    bins = np.minimum((candidates * GC_BINS).astype(int), GC_BINS - 1)
    wanted = np.minimum((target * GC_BINS).astype(int), GC_BINS - 1)
    share = np.bincount(wanted, minlength=GC_BINS) / max(len(target), 1)
    need = np.floor(share * n).astype(int)
    extra = rng.choice(GC_BINS, size=n - need.sum(), p=share, replace=True)
    need += np.bincount(extra, minlength=GC_BINS)
    pools = [rng.permutation(np.flatnonzero(bins == b)) for b in range(GC_BINS)]
    taken = np.zeros(GC_BINS, int)
    chosen = []
    for b in np.argsort(-need, kind="stable"):  # the fullest bins first
        owed = need[b]
        for near in sorted(range(GC_BINS), key=lambda x: (abs(x - b), x)):  # b, then out
            if not owed:
                break
            got = pools[near][taken[near] : taken[near] + owed]
            taken[near] += len(got)
            owed -= len(got)
            chosen.append(got)
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, int)


def gc_matched_negatives(
    regions: pd.DataFrame,
    sizes: dict,
    read_contig,
    *,
    ratio: float = 1.0,
    blacklist: pd.DataFrame | None = None,
    seed: int = 0,
) -> tuple:
    """GC-matched negative windows for the regions (peaks) of a genome.

    Parameters
    ----------
    regions : pandas.DataFrame
        The kept positives (``regions.bed``'s columns), all of one width.
    sizes : dict
        ``{contig: length}`` of the reference.
    read_contig : callable
        ``read_contig(chrom)`` → the contig as upper-case ASCII codes (uint8).
    ratio : float, optional
        Negatives per positive. Default is 1.0.
    blacklist : pandas.DataFrame or None, optional
        ``chrom, start, end`` intervals no negative may touch. Default is None.
    seed : int, optional
        Default is 0.

    Returns
    -------
    negatives : pandas.DataFrame
        BED6 + ``pad_left, pad_right`` (0), named ``negative_<chrom>_<start>``.
    stats : dict
        ``n_candidates``, ``gc_positives``, ``gc_negatives`` (means), ``gc_ks`` (the
        Kolmogorov-Smirnov statistic), ``ratio``.

    Raises
    ------
    InputError
        When the reference holds fewer clean windows than the negatives wanted.
    """
    from scipy.stats import ks_2samp

    spans = regions["end"] + regions["pad_right"] - regions["start"] + regions["pad_left"]
    width = int(spans.max())
    positive_gc, found = np.zeros(len(regions)), []
    by_chrom = regions.groupby("chrom", sort=False).indices
    for chrom in sizes:
        codes = read_contig(chrom)
        rows = by_chrom.get(chrom, np.zeros(0, int))
        starts, ends = regions["start"].to_numpy()[rows], regions["end"].to_numpy()[rows]
        positive_gc[rows] = [GC[codes[s:e]].mean() if e > s else 0.0 for s, e in zip(starts, ends)]
        excluded = [np.stack([starts - width, ends + width], axis=1)]
        if blacklist is not None:
            listed = blacklist[blacklist["chrom"] == chrom]
            excluded.append(listed[["start", "end"]].to_numpy(np.int64))
        tiles, gc, clean = tile_gc(codes, width)
        keep = clean & outside(tiles, width, np.concatenate(excluded))
        found.append(pd.DataFrame({"chrom": chrom, "start": tiles[keep], "gc": gc[keep]}))
    candidates = pd.concat(found, ignore_index=True)
    n = int(round(ratio * len(regions)))
    if n > len(candidates):
        raise InputError(
            f"input.negative_ratio: expected at most {len(candidates) / max(len(regions), 1):.2f} "
            f"negatives per region ({len(candidates)} clean windows of {width} bp lie away from "
            f"the regions in the reference), found {ratio}"
        )
    rng = np.random.default_rng(seed)
    picked = candidates.iloc[match_gc(positive_gc, candidates["gc"].to_numpy(), n, rng)]
    negatives = pd.DataFrame(
        {
            "chrom": picked["chrom"].to_numpy(),
            "start": picked["start"].to_numpy(np.int64),
            "end": picked["start"].to_numpy(np.int64) + width,
            "name": [f"negative_{c}_{s}" for c, s in zip(picked["chrom"], picked["start"])],
            "score": 0,
            "strand": ".",
            "pad_left": 0,
            "pad_right": 0,
        }
    )
    gc = picked["gc"].to_numpy()
    stats = {
        "method": "gc_matched",
        "ratio": ratio,
        "n_negatives": len(negatives),
        "n_candidates": len(candidates),
        "gc_positives": round(float(positive_gc.mean()), 4) if len(regions) else None,
        "gc_negatives": round(float(gc.mean()), 4) if len(gc) else None,
        "gc_ks": round(float(ks_2samp(positive_gc, gc).statistic), 4) if len(gc) else None,
    }
    return negatives, stats
