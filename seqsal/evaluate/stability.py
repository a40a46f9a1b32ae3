"""Stability: a map against the map of the other strand, of the sequence with a few bases
changed far from its strongest ones, and of a model trained with another seed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import pearson, spearman


def agreement(ours, theirs, *, top_k: int = 20, keep=None, prefix: str = "") -> pd.DataFrame:
    """Per row of two (n, L) maps: Pearson, Spearman, and the Jaccard index of their
    ``top_k`` bases by |value|; ``keep`` (n, L) limits each row to some positions.

    Parameters
    ----------
    ours, theirs : numpy.ndarray, shape=(n, L)
    top_k : int, optional
        Default is 20.
    keep : numpy.ndarray of bool or None, shape=(n, L), optional
        Default is None: every position.
    prefix : str, optional
        Put before each column name. Default is "".

    Returns
    -------
    agreement : pandas.DataFrame
        ``{prefix}pearson, {prefix}spearman, {prefix}top_jaccard`` per row.
    """
    rows = []
    for i, (a, b) in enumerate(zip(np.asarray(ours, float), np.asarray(theirs, float))):
        if keep is not None:
            a, b = a[keep[i]], b[keep[i]]
        k = min(top_k, len(a))
        top_a = set(np.argsort(-np.abs(a), kind="stable")[:k])
        top_b = set(np.argsort(-np.abs(b), kind="stable")[:k])
        rows.append((pearson(a, b), spearman(a, b), len(top_a & top_b) / len(top_a | top_b)))
    return pd.DataFrame(
        rows, columns=[f"{prefix}pearson", f"{prefix}spearman", f"{prefix}top_jaccard"]
    )


def strand_stability(
    model, X: np.ndarray, attr: np.ndarray, rows, *, top_k: int = 20, **options
) -> pd.DataFrame:
    """Agreement of each region's attributions with its reverse complement's.

    Parameters
    ----------
    model : torch.nn.Module
    X : numpy.ndarray, shape=(N, 4, L)
    attr : numpy.ndarray, shape=(N, L)
        The attributions under test (as written by ``seqsal attribute``).
    rows : array-like of int
        The regions compared.
    top_k : int, optional
        Bases of largest |attribution| compared by their overlap. Default is 20.
    **options
        Passed to :func:`seqsal.attribute.attribute` (method, target, output, ...): how
        ``attr`` was made.

    Returns
    -------
    stability : pandas.DataFrame
        Per row: ``rc_pearson``, ``rc_spearman`` of the two maps, and ``rc_top_jaccard``
        of their ``top_k`` bases.
    """
    from ..attribute import attribute
    from ..encode import reverse_complement

    rows = np.asarray(rows)
    flipped_X = np.ascontiguousarray(reverse_complement(np.asarray(X[rows])))
    _, flipped, _ = attribute(model, flipped_X, **options)
    return agreement(attr[rows], flipped[:, ::-1], top_k=top_k, prefix="rc_")


def perturbation_stability(
    model,
    X: np.ndarray,
    attr: np.ndarray,
    rows,
    *,
    n_substitutions: int = 3,
    min_distance: int = 10,
    top_k: int = 20,
    **options,
) -> pd.DataFrame:
    """Agreement of each region's map with the map after ``n_substitutions`` random
    substitutions at least ``min_distance`` bases from its ``top_k`` strongest bases,
    compared at the bases not substituted (columns ``perturbed_*``). The substitutions
    are drawn from the attribution's own ``seed`` (in ``options``).

    Parameters
    ----------
    model : torch.nn.Module
    X : array-like, shape=(N, 4, L)
    attr : array-like, shape=(N, L)
        The maps under test.
    rows : array-like of int
        The regions tested.
    n_substitutions, min_distance, top_k : int, optional
        Defaults are 3, 10 and 20.
    options
        :func:`seqsal.attribute.attribute` keywords: how the map was made.

    Returns
    -------
    stability : pandas.DataFrame
        ``perturbed_pearson, perturbed_spearman, perturbed_top_jaccard`` per tested row.
    """
    from ..attribute import attribute

    rng = np.random.default_rng([options.get("seed", 0), 1])
    rows = np.asarray(rows)
    Xp = np.array(X[rows])
    length = Xp.shape[-1]
    keep = np.ones((len(rows), length), bool)
    for j, i in enumerate(rows):
        top = np.argsort(-np.abs(attr[i]), kind="stable")[:top_k]
        far = np.abs(np.arange(length)[:, None] - top[None, :]).min(axis=1) >= min_distance
        far &= Xp[j].sum(axis=0) > 0  # an N stays N
        chosen = rng.choice(np.flatnonzero(far), min(n_substitutions, far.sum()), replace=False)
        for position in chosen:
            base = int(Xp[j, :, position].argmax())
            Xp[j, :, position] = 0
            Xp[j, (base + rng.integers(1, 4)) % 4, position] = 1
        keep[j, chosen] = False
    _, changed, _ = attribute(model, Xp, **options)
    return agreement(attr[rows], changed, top_k=top_k, keep=keep, prefix="perturbed_")


def seed_stability(models: dict, X, attr, rows, *, top_k: int = 20, **options) -> pd.DataFrame:
    """Agreement of each region's map with the maps of models trained with other seeds
    (``models``: name -> model); long format with a ``model`` column.

    Parameters
    ----------
    models : dict
        ``{name: torch.nn.Module}``.
    X : array-like, shape=(N, 4, L)
    attr : array-like, shape=(N, L)
    rows : array-like of int
    top_k : int, optional
        Default is 20.
    options
        :func:`seqsal.attribute.attribute` keywords: how the map was made.

    Returns
    -------
    stability : pandas.DataFrame
        ``seed_*`` agreement, ``model``, ``region_index`` per model and row; empty
        without models.
    """
    from ..attribute import attribute

    rows = np.asarray(rows)
    tables = []
    for name, other in models.items():
        _, theirs, _ = attribute(other, np.asarray(X[rows]), **options)
        table = agreement(attr[rows], theirs, top_k=top_k, prefix="seed_")
        tables.append(table.assign(model=name, region_index=rows))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def summarize_stability(stability: pd.DataFrame, top_k: int) -> dict:
    """Medians of the agreement columns over the regions tested.

    Parameters
    ----------
    stability : pandas.DataFrame
        Agreement columns per region.
    top_k : int
        As used, recorded in the summary.

    Returns
    -------
    summary : dict
        ``n_regions``, ``top_k`` and ``median_<column>`` per numeric column.
    """
    return {
        "n_regions": len(stability),
        "top_k": top_k,
        **{
            f"median_{c}": float(stability[c].median())
            for c in stability.columns
            if c not in ("model", "region_index")
        },
    }


ORIENTED_STRANDS = "oriented sequences: the reverse complement is another sequence"


def stability_tests(
    model, X, attr, rows, names, run, seed_models, n_substitutions, top_k, oriented
):
    """Strand (unless ``oriented``) and perturbation stability per tested region (a
    frame) and their summary, with the other seeds' agreement when ``seed_models`` are
    given."""
    tables = [] if oriented else [strand_stability(model, X, attr, rows, top_k=top_k, **run)]
    tables.append(
        perturbation_stability(
            model, X, attr, rows, n_substitutions=n_substitutions, top_k=top_k, **run
        )
    )
    stability = pd.concat(tables, axis=1)
    by_seed = seed_stability(seed_models, X, attr, rows, top_k=top_k, **run)
    stability.insert(0, "region", names[rows])
    summary = {
        **summarize_stability(stability.drop(columns="region"), top_k),
        "n_substitutions": n_substitutions,
        **({"strand_skipped": ORIENTED_STRANDS} if oriented else {}),
    }
    if len(by_seed):
        summary["seeds"] = {
            name: summarize_stability(table, top_k) for name, table in by_seed.groupby("model")
        }
    return stability, summary
