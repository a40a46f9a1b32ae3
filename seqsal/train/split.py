"""Held-out sets: whole contigs, groups that never straddle splits, contiguous blocks of
a contig, or a column of the labels; the check that no test base lies in a training
region; and the words that describe how they were drawn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError


def _pick_groups(groups, counts, fraction, rng):
    """Pick whole groups, in a seeded order, until they hold ``fraction`` of the rows."""
    chosen, total = [], 0
    for g in rng.permutation(groups):
        if total >= fraction * counts.sum():
            break
        chosen.append(g)
        total += counts[g]
    return chosen


def split_regions(
    chroms,
    *,
    groups=None,
    assigned=None,
    test=None,
    test_chroms=None,
    test_fraction: float = 0.1,
    valid_fraction: float = 0.1,
    seed: int = 0,
    starts=None,
    ends=None,
) -> np.ndarray:
    """Assign each region to ``train``, ``valid`` or ``test``, whole groups at a time.

    Parameters
    ----------
    chroms : array-like of str
        Each region's contig.
    groups : array-like of str or None, optional
        A group per region (``split.group_by``); groups never straddle splits. Default
        is None: contigs are the groups.
    assigned : array-like of str or None, optional
        A given split per region (``split.column``): ``train``, ``valid`` or ``test``.
        Default is None.
    test : array-like of bool or None, optional
        Regions held out for testing (``split.test_names``); the others are split into
        train and valid. Default is None.
    test_chroms : list of str or None, optional
        Contigs held out for testing. Default is None: seeded whole groups holding about
        ``test_fraction`` of the regions; with fewer than three groups, contiguous blocks
        of the contigs (:func:`position_blocks`) when ``starts`` and ``ends`` are given,
        else a seeded row split (sequences of a library share no bases).
    test_fraction, valid_fraction : float, optional
        Shares of regions held out. Defaults are 0.1 and 0.1.
    seed : int, optional
        Seed of the choice. Default is 0.
    starts, ends : array-like of int or None, optional
        Each region's position on its contig: training regions within one region's
        length of a test region become validation regions (:func:`buffer_regions`), so
        that no test base is trained on. Default is None.

    Returns
    -------
    split : numpy.ndarray of str, shape=(N,)
    """
    if assigned is not None:
        assigned = np.char.lower(np.char.strip(np.asarray(assigned, dtype=str)))
        unknown = sorted(set(assigned.tolist()) - {"train", "valid", "test"})
        if unknown:
            raise InputError(f"split.column: expected train, valid or test, found {unknown[:5]}")
        return assigned.astype("<U5")
    chroms = np.asarray(chroms, dtype=str)
    keys = chroms if groups is None else np.asarray(groups, dtype=str)
    rng = np.random.default_rng(seed)
    split = np.full(len(keys), "train", dtype="<U5")
    counts = pd.Series(keys).value_counts()
    if in_blocks(keys, starts=starts):
        keys = position_blocks(chroms, starts, ends)  # whole blocks, as groups
        counts = pd.Series(keys).value_counts()
    elif test is None and test_chroms is None and len(counts) < 3:
        order = rng.permutation(len(keys))
        n_test, n_valid = round(test_fraction * len(keys)), round(valid_fraction * len(keys))
        split[order[:n_test]] = "test"
        split[order[n_test : n_test + n_valid]] = "valid"
        return split
    if test is not None:
        split[np.asarray(test, dtype=bool)] = "test"
    elif test_chroms is not None:
        unknown = sorted(set(test_chroms) - set(chroms))
        if unknown:
            raise InputError(f"split.test_chroms: expected contigs with regions, found {unknown}")
        split[np.isin(chroms, test_chroms)] = "test"
    else:
        split[np.isin(keys, _pick_groups(np.sort(counts.index), counts, test_fraction, rng))] = (
            "test"
        )
    rest = pd.Series(keys[split == "train"]).value_counts()
    share = valid_fraction * len(keys) / max(rest.sum(), 1)
    split[
        np.isin(keys, _pick_groups(np.sort(rest.index), rest, share, rng)) & (split == "train")
    ] = "valid"
    if starts is not None:  # no test base trained on, however the test set was drawn
        split[buffer_regions(split, chroms, starts, ends)] = "valid"
    if not (split == "train").any():
        raise InputError("split: expected regions left for training, found none")
    return split


#: Blocks a contig is cut into when too few contigs are there to hold whole ones out.
N_BLOCKS = 20


def in_blocks(keys, *, starts=None) -> bool:
    """Whether :func:`split_regions` holds out contiguous blocks (for the test set unless
    one is named, and for the validation set): fewer than three groups (contigs, or
    ``split.group_by``'s) and the regions' positions known.

    Parameters
    ----------
    keys : array-like of str
        Each region's group (its contig when no groups are given).
    starts : array-like of int or None, optional
        As given to :func:`split_regions`. Default is None.

    Returns
    -------
    bool
    """
    return starts is not None and len(set(np.asarray(keys, dtype=str).tolist())) < 3


def position_blocks(chroms, starts, ends, *, n_blocks: int = N_BLOCKS) -> np.ndarray:
    """Contiguous blocks of about ``len / n_blocks`` consecutive regions along each contig
    (ordered by start), to hold out whole when too few contigs are there.

    Parameters
    ----------
    chroms : array-like of str
    starts, ends : array-like of int
    n_blocks : int, optional
        Default is :data:`N_BLOCKS`.

    Returns
    -------
    blocks : numpy.ndarray of str, shape=(N,)
        ``"<contig>:<block>"`` per region.
    """
    chroms = np.asarray(chroms, dtype=str)
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    size = max(1, int(np.ceil(len(starts) / n_blocks)))
    blocks = np.empty(len(starts), dtype=object)
    for chrom in np.unique(chroms):
        rows = np.flatnonzero(chroms == chrom)
        rows = rows[np.lexsort((ends[rows], starts[rows]))]
        blocks[rows] = [f"{chrom}:{i // size}" for i in range(len(rows))]
    return blocks.astype(str)


def _positions(split, chroms, starts, ends) -> tuple:
    return (
        np.asarray(split),
        np.asarray(chroms, dtype=str),
        np.asarray(starts, dtype=np.int64),
        np.asarray(ends, dtype=np.int64),
    )


def buffer_regions(split, chroms, starts, ends) -> np.ndarray:
    """The training regions within one region's length of a test region on its contig
    (overlapping it, or close enough for a model of that input to read across): moved
    to ``valid`` by :func:`split_regions`, so that no test base is trained on.

    Parameters
    ----------
    split, chroms : array-like of str
    starts, ends : array-like of int

    Returns
    -------
    buffer : numpy.ndarray of bool, shape=(N,)
    """
    split, chroms, starts, ends = _positions(split, chroms, starts, ends)
    margin = int((ends - starts).max()) if len(starts) else 0
    buffer = np.zeros(len(split), dtype=bool)
    for chrom in np.unique(chroms[split == "test"]):
        test = (chroms == chrom) & (split == "test")
        order = np.argsort(starts[test], kind="stable")
        low = starts[test][order] - margin
        high = np.maximum.accumulate(ends[test][order]) + margin
        train = np.flatnonzero((chroms == chrom) & (split == "train"))
        # the last test interval starting before this region ends: does it reach it?
        k = np.searchsorted(low, ends[train], side="left") - 1
        reach = np.where(k >= 0, high[k.clip(0)], np.iinfo(np.int64).min)
        buffer[train[reach > starts[train]]] = True
    return buffer


def shared_bases(split, chroms, starts, ends) -> dict:
    """How far the test regions lie in training: test regions that share bases with a
    training region, and the most bases one shares.

    Parameters
    ----------
    split, chroms : array-like of str
    starts, ends : array-like of int

    Returns
    -------
    shared : dict
        ``test_regions_sharing_bases`` and ``most_shared_bases`` (0 and 0: no test base
        was seen in training).
    """
    split, chroms, starts, ends = _positions(split, chroms, starts, ends)
    sharing, most = 0, 0
    for chrom in np.unique(chroms[split == "test"]):
        seen = (chroms == chrom) & (split == "train")
        order = np.argsort(starts[seen], kind="stable")
        s, own = starts[seen][order], ends[seen][order]
        e = np.maximum.accumulate(own)
        for row in np.flatnonzero((chroms == chrom) & (split == "test")):
            # training regions starting before this one ends; the furthest reaching of them
            k = np.searchsorted(s, ends[row], side="left")
            if not k:
                continue
            first = np.searchsorted(e[:k], starts[row], side="right")  # e is non-decreasing
            overlap = 0
            for j in range(first, k):  # the training regions that may reach into this one
                overlap = max(overlap, min(ends[row], own[j]) - max(starts[row], s[j]))
            if overlap > 0:
                sharing, most = sharing + 1, max(most, int(overlap))
    return {"test_regions_sharing_bases": sharing, "most_shared_bases": most}


def describe_split(
    split, chroms, *, assigned=False, grouped=False, named=False, blocks=False
) -> str:
    """How the test set was held out, in words, for the report.

    Parameters
    ----------
    split : array-like of str
        Each region's split, from :func:`split_regions`.
    chroms : array-like of str
        Each region's contig.
    assigned, grouped, named, blocks : bool, optional
        Whether the split came from ``split.column``, ``split.group_by``,
        ``split.test_names`` or contiguous blocks (:func:`position_blocks`). Defaults
        are False.

    Returns
    -------
    text : str
        E.g. "500 test regions on held-out contigs chr3, chr7".
    """
    split, chroms = np.asarray(split), np.asarray(chroms)
    n = int((split == "test").sum())
    if assigned:
        return f"{n} test regions, as the labels' split column assigns them"
    if named:
        return f"{n} test regions named in split.test_names"
    if blocks:
        held = sorted(set(chroms[split == "test"]))
        return f"{n} test regions in contiguous blocks of {', '.join(held[:5])}"
    if grouped:
        return f"{n} test regions in whole groups of split.group_by"
    held = sorted(set(chroms[split == "test"]))
    one_per_contig = len(set(chroms)) == len(chroms)  # library mode: a contig per sequence
    if held and not one_per_contig and not set(held) & set(chroms[split != "test"]):
        shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
        return f"{n} test regions on held-out contigs {shown}"
    return f"{n} test regions drawn at random"


def split_warning(split, test_fraction: float) -> str | None:
    """A warning when whole groups (contigs, ``split.group_by``) made the test share far
    from ``test_fraction``: under half or over twice it.

    Parameters
    ----------
    split : array-like of str
        Each region's split.
    test_fraction : float
        ``split.test_fraction``.

    Returns
    -------
    warning : str or None
    """
    split = np.asarray(split)
    share = float((split == "test").mean()) if len(split) else 0.0
    if test_fraction <= 0 or test_fraction / 2 <= share <= 2 * test_fraction:
        return None
    return (
        f"the test split holds {100 * share:.1f}% of the regions, against split.test_fraction "
        f"{100 * test_fraction:.0f}%: whole groups were held out (name the test contigs with "
        "split.test_chroms, or group by a finer column)"
    )
