"""Held-out sets: whole contigs, groups that never straddle splits, or a column of the
labels, and the words that describe how they were drawn."""

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
        ``test_fraction`` of the regions (a seeded row split when there are fewer than
        three groups).
    test_fraction, valid_fraction : float, optional
        Shares of regions held out. Defaults are 0.1 and 0.1.
    seed : int, optional
        Seed of the choice. Default is 0.

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
    if test is None and test_chroms is None and len(counts) < 3:
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
    if not (split == "train").any():
        raise InputError("split: expected regions left for training, found none")
    return split


def describe_split(split, chroms, *, assigned=False, grouped=False, named=False) -> str:
    """How the test set was held out, in words, for the report.

    Parameters
    ----------
    split : array-like of str
        Each region's split, from :func:`split_regions`.
    chroms : array-like of str
        Each region's contig.
    assigned, grouped, named : bool, optional
        Whether the split came from ``split.column``, ``split.group_by`` or
        ``split.test_names``. Defaults are False.

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
