"""Saturation: where the output is flat around a sequence, so that a gradient map under-reads
the bases the model relies on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..models import predict
from .faithfulness import backgrounds


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
    from ..attribute import attribute

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
    from ..attribute import attribute

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


def saturation_test(model, X, rows, background_output, stability, run):
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
