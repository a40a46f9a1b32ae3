"""Can you trust these maps? Faithfulness, stability, saturation, receptive field,
shortcuts, and recovery of known sites.

Faithfulness: bases are deleted (replaced by a background: a dinucleotide shuffle of the
region or all-``N``) in order of decreasing attribution, in ``n_steps`` equal steps, or
inserted into the background in the same order, and the model's output is recorded.
Each curve is normalised to 1 for the intact sequence and 0 for the background, and its
area (AUC; deletion: lower is more faithful, insertion: higher) is compared with the
same curve for random orders and for the uniform order (a constant map: ties spread
evenly along the sequence).

Stability: each region's map against the map of its reverse complement (mapped back),
of the region with a few substitutions far from its strongest bases, and of models
trained with other seeds.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .errors import InputError
from .intervals import overlap_pairs, truth_mask
from .intervals import parse_interval as parse_interval  # importable here, as before
from .metrics import auprc, auroc, pearson, score_predictions, spearman
from .models import predict
from .progress import Progress

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
    from .attribute import shuffled_references

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


def select_regions(pred, labels=None, *, max_regions: int = 256) -> np.ndarray:
    """The regions tested: the positive ones (label > 0.5) when binary labels are given,
    else all; the ``max_regions`` with the highest output among them.

    Parameters
    ----------
    pred : numpy.ndarray, shape=(N,)
        The explained output of each region.
    labels : numpy.ndarray or None, shape=(N,), optional
        Binary labels. Default is None.
    max_regions : int, optional
        Default is 256.

    Returns
    -------
    rows : numpy.ndarray of int
        Highest output first.
    """
    candidates = np.arange(len(pred))
    if labels is not None:
        candidates = candidates[np.asarray(labels) > 0.5]
    return candidates[np.argsort(-pred[candidates], kind="stable")][:max_regions]


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
            for k, method in enumerate(methods):
                row = {
                    "region_index": i,
                    "method": method,
                    "output": full,
                    "background_output": empty,
                }
                for kind, a in zip(("deletion", "insertion"), auc):
                    random = a[len(methods) : len(methods) + n_random].mean()
                    row[f"{kind}_auc"] = a[k]
                    row[f"{kind}_auc_random"] = random
                    row[f"{kind}_auc_uniform"] = a[-1]
                    better = a[k] < random if kind == "deletion" else a[k] > random
                    row[f"{kind}_beats_random"] = bool(better) if np.isfinite(a[k]) else False
                row["deletion_left_half"] = half[k]
                row["deletion_left_half_random"] = half[len(methods) : -1].mean()
                out_rows.append(row)
        progress.update(len(chunk))
    curves = []
    for kind, total in totals.items():
        mean = total / max(counted, 1)
        for order in dict.fromkeys(names):
            picked = [k for k, name in enumerate(names) if name == order]
            curves.append(
                pd.DataFrame(
                    {
                        "kind": kind,
                        "order": order,
                        "fraction": fraction,
                        "output": mean[picked].mean(axis=0),
                    }
                )
            )
    return pd.DataFrame(out_rows), pd.concat(curves, ignore_index=True)


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
    from .attribute import attribute
    from .encode import reverse_complement

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
    from .attribute import attribute

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
    from .attribute import attribute

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


def saturation(
    model,
    X,
    rows,
    *,
    target: int = 0,
    min_logit: float = 4.0,
    max_ratio: float = 0.05,
    min_reliance: float = 1.0,
    background_output=None,
    **options,
) -> pd.DataFrame:
    """Regions whose output is saturated: |logit| >= ``min_logit``, the map of the
    probability is under ``max_ratio`` of the map of the logit (its gradient vanishes),
    while deleting the region (``background_output``, the logit of its background)
    moves the logit by at least ``min_reliance``: the model relies on bases that a
    probability map would hide.

    Returns ``logit, probability_ratio, reliance, saturated`` per row.

    Parameters
    ----------
    model : torch.nn.Module
    X : array-like, shape=(N, 4, L)
    rows : array-like of int
    target : int, optional
        Default is 0.
    min_logit, max_ratio, min_reliance : float, optional
        Defaults are 4.0, 0.05 and 1.0.
    background_output : numpy.ndarray or None, shape=(len(rows),), optional
        The logit of each region's background. Default is None: no reliance test.
    options
        :func:`seqsal.attribute.attribute` keywords: how the map was made.

    Returns
    -------
    saturation : pandas.DataFrame
    """
    from .attribute import attribute

    rows = np.asarray(rows)
    x = np.asarray(X[rows])
    options = {k: v for k, v in options.items() if k != "output"}
    _, by_logit, logit = attribute(model, x, target=target, output="logit", **options)
    _, by_probability, _ = attribute(model, x, target=target, output="probability", **options)
    logit = logit[:, target]
    ratio = np.abs(by_probability).sum(1) / np.maximum(np.abs(by_logit).sum(1), 1e-30)
    reliance = np.abs(logit - background_output) if background_output is not None else np.inf
    reliance = np.broadcast_to(reliance, logit.shape)
    return pd.DataFrame(
        {
            "logit": logit,
            "probability_ratio": ratio,
            "reliance": reliance,
            "saturated": (np.abs(logit) >= min_logit)
            & (ratio < max_ratio)
            & (reliance >= min_reliance),
        }
    )


def flatness(
    model,
    X,
    rows,
    *,
    target: int = 0,
    max_share: float = 0.25,
    seed: int = 0,
    **options,
) -> pd.DataFrame:
    """Regions where the output is flat around the sequence (saturated): the gradient's
    first-order estimate of what replacing the region by a dinucleotide shuffle of it
    changes, ``gradient . (x - shuffle)``, is under ``max_share`` of the true change, while the
    true change is at least the median over ``rows``. A gradient map then under-reads the
    bases the model relies on (a strong promoter on the plateau of the output, weak
    variants on its slope); this works for any output, regression included.

    Parameters
    ----------
    model : torch.nn.Module
    X : array-like, shape=(N, 4, L)
    rows : array-like of int
    target : int, optional
        Default is 0.
    max_share : float, optional
        Default is 0.25.
    seed : int, optional
        Seeds the backgrounds. Default is 0.
    options
        :func:`seqsal.attribute.attribute` keywords: ``rc_average``, ``batch_size`` and
        ``device`` are used (the output explained is the pre-activation one).

    Returns
    -------
    flatness : pandas.DataFrame
        ``output_change``, ``first_order`` and ``first_order_share`` per row, and
        ``saturated``.
    """
    from .attribute import attribute
    from .models import predict

    rows = np.asarray(rows)
    x = np.asarray(X[rows]).astype(np.float32)
    # a one-hot reference: (x - reference) sums to 0 at each position, so the map's
    # per-position centring of the gradient leaves the estimate unchanged
    reference = backgrounds(X, rows, "shuffle", seed=seed)
    keep = ("rc_average", "batch_size", "device")
    gradient, _, output = attribute(  # grad_x_input's hypothetical map is the gradient
        model,
        x,
        method="grad_x_input",
        target=target,
        **{k: v for k, v in options.items() if k in keep},
    )
    change = (
        output[:, target]
        - predict(model, reference, device=options.get("device", "cpu"))[:, target]
    )
    first_order = (gradient * (x - reference)).sum(axis=(1, 2))
    share = first_order / np.where(change == 0, np.nan, change)
    strong = np.abs(change) >= np.median(np.abs(change))
    return pd.DataFrame(
        {
            "output_change": change,
            "first_order": first_order,
            "first_order_share": share,
            "saturated": strong & (np.nan_to_num(share, nan=1.0) < max_share),
        }
    )


def receptive_fields(model, length: int, *, n_backgrounds: int = 8, seed: int = 0) -> pd.DataFrame:
    """Effective and theoretical receptive field of each layer, in forward order; of an
    ensemble, each member's, averaged per depth (its members read the input side by
    side, not one after another: chained, five 4-layer members would read as one
    20-layer stack).

    Parameters
    ----------
    model : torch.nn.Module
        A model, or an :class:`~seqsal.models.Ensemble` (strand-averaged or not).
    length : int
        Input length.
    n_backgrounds : int, optional
        Default is 8.
    seed : int, optional
        Default is 0.

    Returns
    -------
    fields : pandas.DataFrame
        ``depth, layer, sigma, theoretical`` per layer (:func:`layer_fields`); for an
        ensemble, sigma is the members' mean at each depth, ``sigma_sd`` their standard
        deviation, and ``members`` how many there are.
    """
    from .models import Ensemble, RCAverage

    inner = model.model if isinstance(model, RCAverage) else model
    if not isinstance(inner, Ensemble):
        return layer_fields(model, length, n_backgrounds=n_backgrounds, seed=seed)
    each = pd.concat(
        [
            layer_fields(member, length, n_backgrounds=n_backgrounds, seed=seed)
            for member in inner.members
        ]
    )
    fields = each.groupby("depth", sort=True).agg(
        layer=("layer", "first"),
        sigma=("sigma", "mean"),
        theoretical=("theoretical", "first"),
        sigma_sd=("sigma", "std"),
    )
    return fields.reset_index().assign(members=len(inner.members))


def layer_fields(model, length: int, *, n_backgrounds: int = 8, seed: int = 0) -> pd.DataFrame:
    """Effective and theoretical receptive field of each layer of one model, in forward
    order.

    A layer is a convolution, or a residual block (``x + f(x)``) with its convolutions.
    The effective field is the impulse response: the gradient of the central position of
    the layer's output (summed over channels) with respect to the input, |summed over
    bases| and averaged over ``n_backgrounds`` random sequences (a neutral background,
    uniform over bases), fitted with a Gaussian (its sigma, in bases). The theoretical
    field is the span of input bases that can reach that position through the
    convolutions and poolings before it.

    Parameters
    ----------
    model, length, n_backgrounds, seed
        As in :func:`receptive_fields`; ``model`` is one model, not an ensemble.

    Returns
    -------
    fields : pandas.DataFrame
        ``depth, layer, sigma, theoretical`` per layer.
    """
    import torch

    model = model.eval()
    from .models import Residual

    layers, residual = [], None  # (hooked name, module, its convolution's name)
    for name, module in model.named_modules():
        if residual is not None and name.startswith(f"{residual}."):
            continue  # inside the residual block just taken
        if isinstance(module, Residual):
            residual = name
            layers.append((name, module, f"{name}.conv"))
        elif isinstance(module, torch.nn.Conv1d):
            layers.append((name, module, name))
    outputs = {}
    handles = [
        m.register_forward_hook(lambda m, i, o, n=n: outputs.setdefault(n, o)) for n, m, _ in layers
    ]
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 4, (n_backgrounds, length))
    x = torch.zeros(n_backgrounds, 4, length)
    x[np.arange(n_backgrounds)[:, None], bases, np.arange(length)] = 1
    x.requires_grad_(True)
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    theoretical = _theoretical_fields(model)
    rows = []
    for depth, (name, _, last_conv) in enumerate(layers, start=1):
        out = outputs[name]
        (grad,) = torch.autograd.grad(out[:, :, out.shape[-1] // 2].sum(), x, retain_graph=True)
        profile = grad.abs().sum(1).mean(0).detach().numpy().astype(float)
        rows.append((depth, name, gaussian_sigma(profile), theoretical.get(last_conv, np.nan)))
    return pd.DataFrame(rows, columns=["depth", "layer", "sigma", "theoretical"])


def gaussian_sigma(profile: np.ndarray) -> float:
    """Sigma (in positions) of a Gaussian fitted to a non-negative profile; NaN when the
    profile is all zero or no Gaussian fits. Started from the half-maximum width.

    Parameters
    ----------
    profile : numpy.ndarray, shape=(L,)

    Returns
    -------
    sigma : float
    """
    from scipy.optimize import curve_fit

    if not profile.any():
        return float("nan")
    t = np.arange(len(profile), dtype=float)
    start = max((profile >= profile.max() / 2).sum() / 2.355, 0.5)
    try:
        (_, _, sigma), _ = curve_fit(
            lambda t, a, mu, s: a * np.exp(-((t - mu) ** 2) / (2 * s**2)),
            t,
            profile,
            p0=[profile.max(), float(profile.argmax()), start],
            maxfev=5000,
        )
    except RuntimeError:
        return float("nan")
    return abs(float(sigma))


def _theoretical_fields(model) -> dict:
    """Receptive field (bases) of each Conv1d, composing kernels, dilations and strides
    of the convolutions and poolings in the order the modules were defined."""
    import torch

    field, jump, out = 1, 1, {}
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.Conv1d):
            field += (m.kernel_size[0] - 1) * m.dilation[0] * jump
            jump *= m.stride[0]
            out[name] = field
        elif isinstance(m, (torch.nn.MaxPool1d, torch.nn.AvgPool1d)):
            kernel = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            stride = m.stride if isinstance(m.stride, int) else m.stride[0]
            field += (kernel - 1) * jump
            jump *= stride or kernel
    return out


def growth_law(depth, sigma) -> dict:
    """Least-squares fits of ``sigma = a + b * sqrt(depth)`` and ``sigma = a + b * depth``:
    coefficients, R^2 and which fits better.

    Parameters
    ----------
    depth, sigma : array-like, shape=(n,)
        Layer depths and their effective fields.

    Returns
    -------
    fits : dict
        ``sqrt`` and ``linear`` (each ``a``, ``b``, ``r2``) and ``better``.
    """
    depth, sigma = np.asarray(depth, float), np.asarray(sigma, float)
    ok = np.isfinite(sigma)
    fits = {}
    for law, t in (("sqrt", np.sqrt(depth[ok])), ("linear", depth[ok])):
        design = np.stack([np.ones_like(t), t], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, sigma[ok], rcond=None)
        residual = sigma[ok] - design @ [a, b]
        total = ((sigma[ok] - sigma[ok].mean()) ** 2).sum()
        fits[law] = {
            "a": float(a),
            "b": float(b),
            "r2": float(1 - (residual**2).sum() / total) if total > 0 else float("nan"),
        }
    fits["better"] = "sqrt" if fits["sqrt"]["r2"] >= fits["linear"]["r2"] else "linear"
    return fits


def shortcut_audit(
    attr: np.ndarray,
    intervals,
    *,
    kmers: pd.Series | None = None,
    artefacts=(),
    min_enrichment: float = 2.0,
    min_fraction: float = 0.05,
) -> dict:
    """How much of the attribution falls in nuisance intervals, and which frequent seqlet
    k-mers come from artefact sequences.

    Parameters
    ----------
    attr : numpy.ndarray, shape=(N, L)
    intervals : list of (name, start, end)
        Positions within each region (see :func:`parse_interval`).
    kmers : pandas.Series or None, optional
        Seqlet k-mer counts, most frequent first (see :func:`seqlet_kmers`).
    artefacts : list of str, optional
        Artefact sequences (adapters, primers, barcodes); a k-mer matches one when it
        occurs in it on either strand.
    min_enrichment, min_fraction : float, optional
        An interval is flagged when its share of the total |attribution| is at least
        ``min_fraction`` and ``min_enrichment`` times its share of the bases.

    Returns
    -------
    dict
        ``intervals`` (name, start, end, attribution_fraction, base_fraction, enrichment,
        flagged), ``artefact_kmers`` (kmer, seqlets, artefact) and ``flagged`` (any).
    """
    from .encode import reverse_complement_sequence

    # |attribution| summed over regions per position, ~8M values at a time (no copy of
    # every region's map)
    column = np.zeros(attr.shape[1])
    block = max(1, 2**23 // attr.shape[1])
    for first in range(0, len(attr), block):
        column += np.abs(attr[first : first + block]).sum(axis=0, dtype=np.float64)
    total, length = column.sum(), len(column)
    found = []
    for name, start, end in intervals:
        share = float(column[start:end].sum() / total) if total > 0 else float("nan")
        base_share = (end - start) / length
        enrichment = share / base_share
        found.append(
            {
                "name": name,
                "start": int(start),
                "end": int(end),
                "attribution_fraction": share,
                "base_fraction": base_share,
                "enrichment": enrichment,
                "flagged": bool(share >= min_fraction and enrichment >= min_enrichment),
            }
        )
    hits = []
    if kmers is not None:
        upper = [a.upper() for a in artefacts]
        for kmer, count in kmers.items():
            for artefact in upper:
                if kmer in artefact or reverse_complement_sequence(kmer) in artefact:
                    hits.append({"kmer": kmer, "seqlets": int(count), "artefact": artefact})
                    break
    return {
        "intervals": found,
        "artefact_kmers": hits,
        "flagged": any(f["flagged"] for f in found) or bool(hits),
    }


def seqlet_kmers(X, region_index, offset, width, *, k: int = 8, top: int = 20) -> pd.Series:
    """The ``top`` most frequent k-mers (both strands counted as one, the lexically
    smaller spelling kept) in the seqlets' sequences.

    Parameters
    ----------
    X : array-like, shape=(N, 4, L)
    region_index, offset, width : numpy.ndarray of int, shape=(S,)
        Each seqlet's region row, start within it and width.
    k : int, optional
        Default is 8.
    top : int, optional
        Default is 20.

    Returns
    -------
    kmers : pandas.Series
        Seqlet counts indexed by k-mer, most frequent first.
    """
    from .encode import one_hot_to_sequences, reverse_complement_sequence

    counts: dict = {}
    for i, o, w in zip(region_index, offset, width):
        sequence = one_hot_to_sequences(np.asarray(X[i : i + 1])[:, :, max(o, 0) : o + w])[0]
        seen = set()
        for s in range(len(sequence) - k + 1):
            kmer = sequence[s : s + k]
            if "N" in kmer:
                continue
            seen.add(min(kmer, reverse_complement_sequence(kmer)))
        for kmer in seen:
            counts[kmer] = counts.get(kmer, 0) + 1
    return pd.Series(counts, dtype=int).sort_values(ascending=False, kind="stable").head(top)


def seqlet_recovery(
    seqlets: pd.DataFrame, truth: pd.DataFrame, *, min_overlap: float = 0.5
) -> dict:
    """Precision and recall of seqlets against known sites.

    A seqlet and a site match when they overlap by at least ``min_overlap`` of the
    site's length. Precision: share of seqlets matching some site; recall: share of
    sites matched by some seqlet.

    Parameters
    ----------
    seqlets : pandas.DataFrame
        ``seqlets.bed``.
    truth : pandas.DataFrame
        Known sites (BED).
    min_overlap : float, optional
        Default is 0.5.

    Returns
    -------
    recovery : dict
        ``seqlet_precision``, ``seqlet_recall``, ``n_sites``.
    """
    matched_seqlets = np.zeros(len(seqlets), dtype=bool)
    matched_sites = np.zeros(len(truth), dtype=bool)
    if len(seqlets) and len(truth):
        i, j, bases = overlap_pairs(seqlets, truth)
        length = (truth["end"] - truth["start"]).to_numpy()
        hit = bases >= min_overlap * length[j]
        matched_seqlets[i[hit]] = True
        matched_sites[j[hit]] = True
    return {
        "n_seqlets": int(len(seqlets)),
        "n_sites": int(len(truth)),
        "seqlet_precision": float(matched_seqlets.mean()) if len(seqlets) else float("nan"),
        "seqlet_recall": float(matched_sites.mean()) if len(truth) else float("nan"),
    }


def truth_recovery(attr: np.ndarray, regions: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """AUROC and AUPRC of per-base |attribution| for bases inside known sites.

    Parameters
    ----------
    attr : numpy.ndarray, shape=(N, L)
    regions : pandas.DataFrame
    truth : pandas.DataFrame
        Known sites (BED).

    Returns
    -------
    recovery : dict
        ``auroc``, ``auprc`` (NaN without a site) and ``site_base_fraction``.
    """
    mask = truth_mask(regions, truth, attr.shape[1])
    return {
        "auroc": auroc(mask.ravel(), np.abs(attr).ravel()),
        "auprc": auprc(mask.ravel(), np.abs(attr).ravel()),
        "site_base_fraction": float(mask.mean()),
    }


def evaluate_maps(
    model,
    X,
    attrs: dict,
    regions: pd.DataFrame,
    pred: np.ndarray,
    seqlets: pd.DataFrame,
    *,
    run: dict,
    binary: bool = False,
    labels=None,
    truth: pd.DataFrame | None = None,
    seed_models: dict | None = None,
    nuisance=(),
    artefacts=(),
    n_steps: int = 20,
    n_random: int = 3,
    background: str = "shuffle",
    max_regions: int = 256,
    n_substitutions: int = 3,
    top_k: int = 20,
    oriented: bool = False,
    compare_to: dict | None = None,
    scored: dict | None = None,
    source: str = "onehot",
) -> dict:
    """The evaluate stage: every test of the maps, summarised.

    Parameters
    ----------
    model : torch.nn.Module
        The model the maps explain.
    X : array-like, shape=(N, 4, L)
        One-hot sequences (a memory-mapped stack: only the tested rows are read).
    attrs : dict
        ``{method: attr (N, L)}``, the first run's method first; every one is scored
        for faithfulness, the first also for stability.
    regions : pandas.DataFrame
        The regions, in the maps' order.
    pred : numpy.ndarray, shape=(N,)
        The attribution run's outputs of the explained target: regions are ranked by it.
    seqlets : pandas.DataFrame
        ``seqlets.bed``.
    run : dict
        The first run's :func:`seqsal.attribute.iter_attributions` keywords (``method``,
        ``target``, ``rc_average``, ``seed``, ``device``, ...): the stability tests redo it.
    binary : bool, optional
        The target is binary: positives are tested, and saturation. Default is False.
    labels : numpy.ndarray or None, shape=(N,), optional
        The target's labels (positives: 1). Default is None.
    truth : pandas.DataFrame or None, optional
        Known sites (BED): the maps' and seqlets' recovery of them. Default is None.
    seed_models : dict or None, optional
        ``{name: model}`` trained with other seeds. Default is None.
    nuisance : sequence of tuple, optional
        Intervals of :func:`parse_interval` for the shortcut audit. Default is none.
    artefacts : sequence of str, optional
        Artefact sequences looked for among seqlet k-mers. Default is none.
    n_steps, n_random, background
        As in :func:`faithfulness`.
    max_regions : int, optional
        As in :func:`select_regions`. Default is 256.
    n_substitutions : int, optional
        As in :func:`perturbation_stability`. Default is 3.
    top_k : int, optional
        Strongest bases compared in the stability tests. Default is 20.
    oriented : bool, optional
        The sequences act in the orientation given: their reverse complements are other
        sequences, so the strand-stability test is skipped. Default is False.
    compare_to : dict or None, optional
        ``{name: model}`` to compare with this one on the same regions
        (:func:`compare_models`), this model named ``"this run"``. Default is None.
    scored : dict or None, optional
        :func:`compare_models`' ``test``, ``labels``, ``tasks`` and ``targets``: the run's
        test split and labels, for the test scores of the comparison. Default is None.
    source : str, optional
        What ``X`` was read from, named in errors. Default is "onehot".

    Returns
    -------
    result : dict
        ``faithfulness`` (per region and method), ``stability`` (per tested region),
        ``summary`` (``summary.json``), ``curves`` and ``fields`` (the plots' data).
    """
    from .models import strand_averaged

    method, names = run["method"], regions["name"].to_numpy()
    explained = strand_averaged(model) if run.get("rc_average") else model
    rows = select_regions(pred, labels, max_regions=max_regions)
    if not len(rows):
        raise InputError(f"{source}: expected positive regions to test, found none")
    log.info(
        "faithfulness: deletion and insertion curves of %d regions, %d map(s)",
        len(rows),
        len(attrs),
    )
    curve_options = dict(n_steps=n_steps, n_random=n_random, background=background)
    per_region, curves = _run_faithfulness(model, X, attrs, rows, run, **curve_options)
    per_region.insert(0, "region", names[per_region["region_index"]])
    summary = {
        "tested": "positive regions, highest outputs first"
        if labels is not None
        else "regions with the highest outputs",
        "background": background,
        "faithfulness": summarize_faithfulness(per_region),
    }
    # stability of the first method's map: other strand, small substitutions, other seeds
    log.info(
        "stability: %ssmall substitutions, %d other seed(s)",
        "" if oriented else "the other strand, ",
        len(seed_models or {}),
    )
    stability, summary["stability"] = _stability_tests(
        model,
        X,
        attrs[method],
        rows,
        names,
        run,
        seed_models or {},
        n_substitutions,
        top_k,
        oriented,
    )
    if binary:  # a saturated sigmoid: the probability map vanishes
        first = per_region[per_region["method"] == method].set_index("region_index")
        background_output = first.loc[rows, "background_output"].to_numpy()
        stability, summary["saturation"] = _saturation_test(
            model, X, rows, background_output, stability, run
        )
    else:  # a flat output: the gradient misses what deleting the region changes
        flat = flatness(explained, X, rows, **{**run, "rc_average": False})
        stability = pd.concat([stability, flat], axis=1)
        summary["saturation"] = {
            "kind": "flat output",
            "n_regions": len(flat),
            "n_saturated": int(flat["saturated"].sum()),
            "median_first_order_share": float(np.nanmedian(flat["first_order_share"])),
            "regions": stability.loc[flat["saturated"].to_numpy(), "region"].tolist()[:20],
        }
    # effective receptive field of the model's convolutions
    log.info("receptive field of the convolutions")
    fields = receptive_fields(model, X.shape[-1])
    summary["receptive_field"] = {
        "layers": fields.to_dict(orient="records"),
        **({"fits": growth_law(fields["depth"], fields["sigma"])} if len(fields) >= 3 else {}),
    }
    log.info("shortcut audit: nuisance intervals and artefact k-mers")
    summary["shortcuts"] = _shortcuts(X, attrs[method], seqlets, regions, nuisance, artefacts)
    if truth is not None:
        summary["truth"] = {
            **{m: truth_recovery(a[:], regions, truth) for m, a in attrs.items()},
            **seqlet_recovery(seqlets, truth),
        }
    if compare_to:
        summary["comparison"] = compare_models(
            {"this run": model, **compare_to},
            X,
            rows,
            regions,
            run=run,
            truth=truth,
            nuisance=nuisance,
            n_steps=n_steps,
            n_random=n_random,
            background=background,
            **(scored or {}),
        )
    return {
        "faithfulness": per_region.drop(columns="region_index"),
        "stability": stability,
        "summary": summary,
        "curves": curves,
        "fields": fields,
    }


def compare_models(
    models: dict,
    X,
    rows,
    regions: pd.DataFrame,
    *,
    run: dict,
    test=None,
    labels=None,
    tasks=(),
    targets=(),
    truth: pd.DataFrame | None = None,
    nuisance=(),
    n_steps: int = 20,
    n_random: int = 3,
    background: str = "shuffle",
) -> dict:
    """Models side by side on the same regions (``evaluate.compare_to``): each one's map
    of the tested regions is made afresh, as the run's first map was made.

    Parameters
    ----------
    models : dict
        ``{name: torch.nn.Module}``, the run's own model first.
    X : array-like, shape=(N, 4, L)
    rows : array-like of int
        The regions tested (:func:`select_regions` of the run's model).
    regions : pandas.DataFrame
        The regions, in ``X``'s order.
    run : dict
        The first run's :func:`seqsal.attribute.attribute` keywords.
    test : numpy.ndarray of bool, shape=(N,) or None, optional
        The run's test split. Default is None: no test scores.
    labels : numpy.ndarray, shape=(N, T) or None, optional
        Every target's labels. Default is None.
    tasks, targets : sequence of str, optional
        Of the labels' columns.
    truth : pandas.DataFrame or None, optional
        Known sites. Default is None.
    nuisance : sequence of tuple, optional
        The shortcut audit's intervals. Default is none.
    n_steps, n_random, background
        As in :func:`faithfulness`.

    Returns
    -------
    comparison : dict
        ``{name: {"test": {target: scores}, "deletion_fraction_beats_random",
        "mean_deletion_auc", "known_site_auroc", "shortcuts": {interval: share},
        "map_pearson"}}``; ``map_pearson`` is the median per-region Pearson of the
        model's map with the first model's (1 for that one). Entries without their
        inputs are left out.
    """
    from .attribute import attribute

    rows = np.asarray(rows)
    X_rows = np.asarray(X[rows])
    place = regions.iloc[rows].reset_index(drop=True)
    method = run["method"]
    found, first = {}, None
    for name, model in models.items():
        log.info("comparison: %s", name)
        _, attr, _ = attribute(model, X_rows, **run)
        first = attr if first is None else first
        per_region, _ = _run_faithfulness(
            model,
            X_rows,
            {method: attr},
            np.arange(len(rows)),
            run,
            n_steps=n_steps,
            n_random=n_random,
            background=background,
            keys=rows,  # the backgrounds of the run's own faithfulness test
        )
        deletion = summarize_faithfulness(per_region)[method]
        entry = {
            "deletion_fraction_beats_random": deletion["deletion_fraction_beats_random"],
            "mean_deletion_auc": deletion["mean_deletion_auc"],
            "map_pearson": float(agreement(first, attr)["pearson"].median()),
        }
        if test is not None and labels is not None and np.any(test):
            pred = predict(model, X[np.flatnonzero(test)], device=run["device"])
            scores = score_predictions(labels[test], pred, list(tasks))
            n = {"n": int(np.sum(test))}
            entry["test"] = {str(t): {**n, **score} for t, score in zip(targets, scores)}
        if truth is not None:
            entry["known_site_auroc"] = truth_recovery(attr, place, truth)["auroc"]
        if nuisance:
            audit = shortcut_audit(attr, list(nuisance))["intervals"]
            entry["shortcuts"] = {i["name"]: i["attribution_fraction"] for i in audit}
        found[name] = entry
    return found


def _run_faithfulness(model, X, attrs, rows, run, **curves):
    """:func:`faithfulness` of the output the run explained (strand-averaged when the
    run was), with the run's target, seed and device."""
    from .models import strand_averaged

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


ORIENTED_STRANDS = "oriented sequences: the reverse complement is another sequence"


def _stability_tests(
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


def _saturation_test(model, X, rows, background_output, stability, run):
    """The stability frame with the saturation columns, and the saturation summary."""
    saturated = saturation(model, X, rows, background_output=background_output, **run)
    stability = pd.concat([stability, saturated], axis=1)
    summary = {
        "kind": "saturated sigmoid",
        "output": run.get("output", "logit"),
        "n_regions": len(saturated),
        "n_saturated": int(saturated["saturated"].sum()),
        "regions": stability.loc[saturated["saturated"].to_numpy(), "region"].tolist()[:20],
    }
    return stability, summary


def _shortcuts(X, attr, seqlets, regions, nuisance, artefacts) -> dict:
    """The shortcut audit: attribution in nuisance intervals, and seqlet k-mers (of the
    1,000 strongest seqlets) from artefact sequences."""
    from .seqlets import bed_to_offsets

    kmers = None
    if artefacts and len(seqlets):
        top = seqlets.reindex(seqlets["attr_sum"].abs().sort_values(ascending=False).index)
        top = top.head(1000)
        index, offset = bed_to_offsets(top, regions)
        kmers = seqlet_kmers(X, index, offset, (top["end"] - top["start"]).to_numpy())
    return {
        **shortcut_audit(attr, list(nuisance), kmers=kmers, artefacts=list(artefacts)),
        "artefacts_given": bool(artefacts),
    }
