"""Intervals within regions and on the genome: ``NAME:START:END`` positions within every
region, each base's genome coordinate, and overlaps of interval tables. Low in the house:
config, priors, evaluate and tracks import it. numpy and pandas are imported where used:
the workflow reads ``is_interval`` when it parses the config, where only Snakemake may be
installed (``--sdm conda``)."""

from __future__ import annotations

import re

from .errors import InputError


def is_interval(item: str) -> bool:
    """Whether a ``model.prior`` item is a ``NAME:START:END`` interval within every region
    (as ``evaluate.nuisance``), not the path of a BED file.

    Parameters
    ----------
    item : str

    Returns
    -------
    bool
    """
    return re.fullmatch(r"[^:/\\]+:-?[0-9]*:-?[0-9]*", item) is not None


def parse_interval(text: str, length: int, *, key: str = "evaluate.nuisance") -> tuple:
    """``NAME:START:END`` (0-based, half-open, within each region as the model reads it;
    negative positions count from the 3' end, an empty END is the end) to
    ``(name, start, end)``.

    Parameters
    ----------
    text : str
    length : int
        The regions' length, against which the positions are checked.
    key : str, optional
        The config key named in errors. Default is "evaluate.nuisance".

    Returns
    -------
    interval : tuple
        ``(name, start, end)`` with 0 <= start < end <= length.

    Raises
    ------
    InputError
        When ``text`` has not that form or the interval is empty.
    """
    parts = text.split(":")
    try:
        name, start, end = parts
        start = int(start) if start else 0
        end = int(end) if end else length
    except ValueError:
        raise InputError(
            f"{key}: expected NAME:START:END (e.g. adapter:0:20 or primer:-18:), found {text!r}"
        ) from None
    start, end = (p + length if p < 0 else p for p in (start, end))
    if not 0 <= start < end <= length:
        raise InputError(
            f"{key}: expected 0 <= start < end <= {length} in {text!r}, found {start}..{end}"
        )
    return name, start, end


def genome_positions(regions, length: int):
    """Genome coordinate of each base of each region, in the region's own orientation.

    Returns
    -------
    positions : numpy.ndarray of int64, shape=(N, L)
        For a ``-`` strand region, offset 0 is its last genome base. N padding added at a
        contig end (``pad_left``/``pad_right``) has position -1.

    Parameters
    ----------
    regions : pandas.DataFrame
        ``start, end, strand`` and the pads.
    length : int
        L, the one-hot's length.
    """
    import numpy as np

    offsets = np.arange(length)[None, :]
    minus = (regions["strand"].to_numpy() == "-")[:, None]
    starts = regions["start"].to_numpy()[:, None]
    ends = regions["end"].to_numpy()[:, None]
    pads = regions.reindex(columns=["pad_left", "pad_right"], fill_value=0).to_numpy()
    first, last = starts - pads[:, :1], ends + pads[:, 1:]  # the window, N padding included
    positions = np.where(minus, last - 1 - offsets, first + offsets).astype(np.int64)
    return np.where((positions >= starts) & (positions < ends), positions, -1)


def chrom_offsets(*tables) -> list:
    """Per row of each table, an offset that lays all chroms end to end on one axis
    (the chrom's rank times a span longer than any of them)."""
    import numpy as np
    import pandas as pd

    chroms = pd.Categorical(np.concatenate([t["chrom"].to_numpy().astype(str) for t in tables]))
    span = max(int(t["end"].max()) for t in tables) + 1
    codes = np.split(chroms.codes.astype(np.int64), np.cumsum([len(t) for t in tables])[:-1])
    return [c * span for c in codes]


def truth_mask(regions, truth, length: int):
    """Whether each base of each region (own strand) lies in a known site.

    Returns
    -------
    mask : numpy.ndarray of bool, shape=(N, L)

    Parameters
    ----------
    regions : pandas.DataFrame
        ``chrom, start, end, strand`` (and pads) per region.
    truth : pandas.DataFrame
        Known sites (BED).
    length : int
        L.
    """
    import numpy as np

    positions = genome_positions(regions, length)
    if len(regions) == 0 or len(truth) == 0:
        return np.zeros(positions.shape, dtype=bool)
    at_region, at_site = chrom_offsets(regions, truth)
    order = np.argsort(at_site + truth["start"].to_numpy(), kind="stable")
    starts = (at_site + truth["start"].to_numpy())[order]
    reach = np.maximum.accumulate((at_site + truth["end"].to_numpy())[order])
    axis = positions + at_region[:, None]
    index = np.searchsorted(starts, axis, side="right") - 1
    return (positions >= 0) & (index >= 0) & (axis < reach[index.clip(0)])


def overlap_pairs(a, b) -> tuple:
    """Every overlapping pair of an interval of ``a`` and one of ``b`` on one chrom:
    ``(i, j, bases)`` arrays (rows of ``a``, rows of ``b``, overlap in bases)."""
    import numpy as np

    from .io.bigwig import within_runs

    at_a, at_b = chrom_offsets(a, b)
    a_start, a_end = at_a + a["start"].to_numpy(), at_a + a["end"].to_numpy()
    order = np.argsort(at_b + b["start"].to_numpy(), kind="stable")
    b_start = (at_b + b["start"].to_numpy())[order]
    b_end = (at_b + b["end"].to_numpy())[order]
    # the b intervals that can overlap an a interval start in (a_start - longest, a_end)
    first = np.searchsorted(b_start, a_start - (b_end - b_start).max(), side="right")
    n = np.clip(np.searchsorted(b_start, a_end, side="left") - first, 0, None)
    i = np.repeat(np.arange(len(a)), n)
    k = np.repeat(first, n) + within_runs(n)
    bases = np.minimum(a_end[i], b_end[k]) - np.maximum(a_start[i], b_start[k])
    keep = bases > 0
    return i[keep], order[k[keep]], bases[keep]
