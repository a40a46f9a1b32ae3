"""Faithfulness: delete (or insert) bases in the order a map ranks them and watch the output
fall (or rise), against random and uniform orders."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..models import predict
from ..progress import Progress

GOLDEN = (5**0.5 - 1) / 2

log = logging.getLogger(__name__)


def uniform_order(length: int) -> np.ndarray:
    """The order a constant map gives, ties spread evenly: every prefix of it covers the
    sequence at a near-even density (a golden-ratio sequence).

    Parameters
    ----------
    length : int

    Returns
    -------
    order : numpy.ndarray of int, shape=(length,)
        A permutation of the positions.
    """
    return np.argsort((np.arange(length) * GOLDEN) % 1.0, kind="stable")


def path_inputs(x, background, orders: np.ndarray, n_steps: int, *, insertion=False):
    """One (4, L) input per order and step: the first k/n_steps of each order's bases
    taken from the background (deletion) or from ``x`` into the background (insertion).

    Returns an array of shape (len(orders) * (n_steps + 1), 4, L); step 0 is ``x`` for
    deletion and the background for insertion.

    Parameters
    ----------
    x : numpy.ndarray, shape=(4, L)
        The sequence.
    background : numpy.ndarray, shape=(4, L)
        What deleted bases become.
    orders : numpy.ndarray of int, shape=(K, L)
        Position orders, most important first.
    n_steps : int
        Steps from no base to all bases.
    insertion : bool, optional
        Insert into the background instead of deleting from ``x``. Default is False.

    Returns
    -------
    inputs : numpy.ndarray, shape=(K * (n_steps + 1), 4, L)
    """
    length = x.shape[-1]
    counts = np.round(np.linspace(0, length, n_steps + 1)).astype(int)
    rank = np.empty_like(orders)
    np.put_along_axis(rank, orders, np.arange(length)[None, :].repeat(len(orders), 0), axis=1)
    switched = (rank[:, None, :] < counts[None, :, None])[:, :, None, :]  # (O, S, 1, L)
    first, second = (x, background) if insertion else (background, x)
    return np.where(switched, first, second).reshape(-1, 4, length).astype(np.float32)


def backgrounds(X, rows, kind: str, *, seed: int = 0, keys=None) -> np.ndarray:
    """The background (N, 4, L) of each row: ``zeros`` (all N) or ``shuffle`` (one
    dinucleotide shuffle of the region, seeded by its key).

    Parameters
    ----------
    X : array-like, shape=(N, 4, L)
    rows : array-like of int
        The rows wanted.
    kind : str
        ``zeros`` or ``shuffle``.
    seed : int, optional
        Default is 0.
    keys : array-like of int or None, optional
        One integer per row of ``X`` that, with ``seed``, seeds its shuffle. Default is
        None: the row index.

    Returns
    -------
    background : numpy.ndarray, shape=(len(rows), 4, L), dtype=float32
    """
    from ..attribute import shuffled_references

    length = X.shape[-1]
    if kind == "zeros":
        return np.zeros((len(rows), 4, length), np.float32)
    return np.concatenate(
        [
            shuffled_references(
                np.asarray(X[r : r + 1]), 1, seed=seed, keys=[r if keys is None else keys[r]]
            )[:, 0]
            for r in rows
        ]
    )


def faithfulness(
    model,
    X: np.ndarray,
    attrs: dict,
    rows,
    *,
    target: int = 0,
    n_steps: int = 20,
    n_random: int = 3,
    background: str = "shuffle",
    seed: int = 0,
    keys=None,
    batch_size: int = 512,
    device="cpu",
):
    """Deletion and insertion curves of each method's order, random orders and the
    uniform order.

    A method's order takes the bases of highest attribution first when the sequence's
    output is above its background's, the lowest first when below.

    Parameters
    ----------
    model : torch.nn.Module
    X : numpy.ndarray, shape=(N, 4, L)
    attrs : dict of str to numpy.ndarray, shape=(N, L)
        Attributions per method.
    rows : array-like of int
        The regions tested (see :func:`select_regions`).
    target : int, optional
        Output explained. Default is 0.
    n_steps : int, optional
        Steps from none to all bases. Default is 20.
    n_random : int, optional
        Random orders per region. Default is 3.
    background : str, optional
        ``shuffle`` (a dinucleotide shuffle of each region) or ``zeros`` (all N).
        Default is "shuffle".
    seed : int, optional
        Seed of the random orders and the shuffles. Default is 0.
    keys : array-like of int or None, optional
        As in :func:`backgrounds`. Default is None: the row index.
    batch_size : int, optional
        Default is 512.
    device : str or torch.device, optional
        Default is "cpu".

    Returns
    -------
    per_region : pandas.DataFrame
        One row per region and method: ``region_index, method, output,
        background_output``, then ``{deletion,insertion}_auc``, ``..._auc_random``,
        ``..._auc_uniform`` and ``..._beats_random``, and ``deletion_left_half`` (the
        normalised output once the first half of the order's bases is deleted; for
        random orders, ``deletion_left_half_random``).
    curves : pandas.DataFrame
        Mean normalised curves: ``kind, order, fraction, output`` (order: a method,
        ``random`` or ``uniform``).
    """
    rng = np.random.default_rng(seed)
    rows = np.asarray(rows)
    methods = list(attrs)
    length = X.shape[-1]
    fraction = np.linspace(0, 1, n_steps + 1)
    names = [*methods, *["random"] * n_random, "uniform"]
    totals = {kind: np.zeros((len(names), n_steps + 1)) for kind in ("deletion", "insertion")}
    counted = 0
    out_rows = []
    progress = Progress(log, "faithfulness", len(rows))
    for chunk in np.array_split(rows, max(1, len(rows) // 8)):
        inputs = []
        xs = np.asarray(X[chunk], np.float32)
        bgs = backgrounds(X, chunk, background, seed=seed, keys=keys)
        # the sequence's and the background's outputs end every curve: computed once here
        ends = predict(model, np.concatenate([xs, bgs]), device=device, batch_size=batch_size)
        fulls, empties = ends[: len(chunk), target], ends[len(chunk) :, target]
        # bases are taken in the direction the sequence moves the output from the background
        direction = np.where(fulls >= empties, 1, -1)
        for j, i in enumerate(chunk):
            orders = np.stack(
                [np.argsort(-direction[j] * attrs[m][i], kind="stable") for m in methods]
                + [rng.permutation(length) for _ in range(n_random)]
                + [uniform_order(length)]
            )
            for insertion in (False, True):
                steps = path_inputs(xs[j], bgs[j], orders, n_steps, insertion=insertion)
                inputs.append(steps.reshape(len(orders), n_steps + 1, 4, length)[:, 1:-1])
        inner = np.concatenate(inputs).reshape(-1, 4, length)
        inner = predict(model, inner, device=device, batch_size=batch_size)[:, target]
        inner = inner.reshape(len(chunk), 2, len(names), n_steps - 1)
        for j, i in enumerate(chunk):
            full, empty = fulls[j], empties[j]
            first = np.array([full, empty])[:, None, None].repeat(len(names), axis=1)
            out = np.concatenate([first, inner[j], first[::-1]], axis=-1)  # (2, orders, steps)
            scale = full - empty
            if abs(scale) < 1e-6:  # the background explains as much: nothing to test
                norm = np.full_like(out, np.nan)
            else:
                norm = (out - empty) / scale
                totals["deletion"] += norm[0]
                totals["insertion"] += norm[1]
                counted += 1
            auc = np.trapezoid(norm, fraction, axis=-1)  # (2, orders)
            half = norm[0, :, n_steps // 2]  # deletion: what is left with half the bases gone
            out_rows += _region_rows(i, methods, full, empty, auc, half, n_random)
        progress.update(len(chunk))
    return pd.DataFrame(out_rows), _mean_curves(totals, counted, names, fraction)


def _region_rows(i, methods, full, empty, auc, half, n_random) -> list:
    """One region's rows of :func:`faithfulness`' table, a row per method: ``auc`` has
    the deletion and insertion areas of each order (the methods', ``n_random`` random
    ones, the uniform one), ``half`` what deleting half the bases leaves."""
    rows = []
    for k, method in enumerate(methods):
        row = {"region_index": i, "method": method, "output": full, "background_output": empty}
        for kind, a in zip(("deletion", "insertion"), auc):
            random = a[len(methods) : len(methods) + n_random].mean()
            row[f"{kind}_auc"] = a[k]
            row[f"{kind}_auc_random"] = random
            row[f"{kind}_auc_uniform"] = a[-1]
            better = a[k] < random if kind == "deletion" else a[k] > random
            row[f"{kind}_beats_random"] = bool(better) if np.isfinite(a[k]) else False
        row["deletion_left_half"] = half[k]
        row["deletion_left_half_random"] = half[len(methods) : -1].mean()
        rows.append(row)
    return rows


def _mean_curves(totals: dict, counted: int, names: list, fraction) -> pd.DataFrame:
    """The mean normalised curve of each kind and order (random orders pooled)."""
    curves = []
    for kind, total in totals.items():
        mean = total / max(counted, 1)
        for order in dict.fromkeys(names):
            picked = [k for k, name in enumerate(names) if name == order]
            output = mean[picked].mean(axis=0)
            curves.append(
                pd.DataFrame({"kind": kind, "order": order, "fraction": fraction, "output": output})
            )
    return pd.concat(curves, ignore_index=True)


def summarize_faithfulness(per_region: pd.DataFrame) -> dict:
    """Per method: mean AUCs, and the share of regions where the method's order beats
    random orders (and the uniform order).

    Parameters
    ----------
    per_region : pandas.DataFrame
        As from :func:`faithfulness`.

    Returns
    -------
    summary : dict
        ``{method: {statistic: value}}``.
    """
    summary = {}
    for method, table in per_region.groupby("method", sort=False):
        tested = table.dropna(subset=["deletion_auc"])
        entry = {"n_regions": int(len(table)), "n_scored": int(len(tested))}
        for kind in ("deletion", "insertion"):
            sign = 1 if kind == "deletion" else -1
            for suffix in ("", "_random", "_uniform"):
                entry[f"mean_{kind}_auc{suffix}"] = float(tested[f"{kind}_auc{suffix}"].mean())
            entry[f"{kind}_fraction_beats_random"] = float(tested[f"{kind}_beats_random"].mean())
            entry[f"{kind}_fraction_beats_uniform"] = float(
                (sign * (tested[f"{kind}_auc"] - tested[f"{kind}_auc_uniform"]) < 0).mean()
            )
        # which regions it loses on: by fifths of the output, lowest first
        if len(tested) >= 5:
            fifth = pd.qcut(tested["output"].rank(method="first"), 5, labels=False)
            by_fifth = tested["deletion_beats_random"].groupby(fifth).mean()
            entry["deletion_fraction_beats_random_by_output_fifth"] = by_fifth.tolist()
        # where the order loses, how much of the output half its deletions leave standing
        losing = tested[~tested["deletion_beats_random"]]
        for suffix in ("", "_random"):
            left = float(losing[f"deletion_left_half{suffix}"].median()) if len(losing) else None
            entry[f"median_deletion_left_half{suffix}_where_losing"] = left
        summary[method] = entry
    return summary


def run_faithfulness(model, X, attrs, rows, run, **curves):
    """:func:`faithfulness` of the output the run explained (strand-averaged when the
    run was), with the run's target, seed and device."""
    from ..models import strand_averaged

    explained = strand_averaged(model) if run.get("rc_average") else model
    return faithfulness(
        explained,
        X,
        attrs,
        rows,
        target=run["target"],
        seed=run["seed"],
        device=run["device"],
        **curves,
    )
