"""Another model beside this run's, on the same regions and tests."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..metrics import score_predictions
from ..models import predict
from .faithfulness import run_faithfulness, summarize_faithfulness
from .recovery import truth_recovery
from .shortcuts import shortcut_audit
from .stability import agreement

log = logging.getLogger(__name__)


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
    from ..attribute import attribute

    rows = np.asarray(rows)
    X_rows = np.asarray(X[rows])
    place = regions.iloc[rows].reset_index(drop=True)
    method = run["method"]
    found, first = {}, None
    for name, model in models.items():
        log.info("comparison: %s", name)
        _, attr, _ = attribute(model, X_rows, **run)
        first = attr if first is None else first
        per_region, _ = run_faithfulness(
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
