"""Scores shared by training and evaluation: correlations, AUROC, AUPRC, Jaccard."""

from __future__ import annotations

import numpy as np
from scipy import stats


def pearson(x, y) -> float:
    """Pearson correlation; NaN when either input is constant.

    Parameters
    ----------
    x, y : array-like, shape=(n,)

    Returns
    -------
    r : float
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def spearman(x, y) -> float:
    """Spearman rank correlation; NaN when either input is constant.

    Parameters
    ----------
    x, y : array-like, shape=(n,)

    Returns
    -------
    rho : float
    """
    return pearson(stats.rankdata(x), stats.rankdata(y))


def auroc(labels, scores) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN for one class.

    Parameters
    ----------
    labels : array-like of 0/1, shape=(n,)
    scores : array-like, shape=(n,)

    Returns
    -------
    auroc : float
    """
    labels = np.asarray(labels, bool)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auprc(labels, scores) -> float:
    """Area under the precision-recall curve as average precision; NaN with no positive.

    Parameters
    ----------
    labels : array-like of 0/1, shape=(n,)
    scores : array-like, shape=(n,)

    Returns
    -------
    auprc : float
    """
    labels = np.asarray(labels, bool)
    if not labels.any():
        return float("nan")
    order = np.argsort(-np.asarray(scores, float), kind="stable")
    hits = labels[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def score_predictions(y, pred, tasks) -> dict:
    """Score predictions per target: Pearson/Spearman or AUROC/AUPRC by task type.

    Parameters
    ----------
    y, pred : numpy.ndarray, shape=(N, T)
        Measured labels and predictions (logits for binary targets).
    tasks : list of str
        ``regression`` or ``binary`` per target.

    Returns
    -------
    metrics : list of dict
        One dict of scores per target.
    """
    scores = []
    for t, task in enumerate(tasks):
        if task == "binary":
            scores.append(
                {
                    "auroc": auroc(y[:, t] > 0.5, pred[:, t]),
                    "auprc": auprc(y[:, t] > 0.5, pred[:, t]),
                }
            )
        else:
            scores.append(
                {
                    "pearson": pearson(y[:, t], pred[:, t]),
                    "spearman": spearman(y[:, t], pred[:, t]),
                    "mse": float(np.mean((y[:, t] - pred[:, t]) ** 2)),
                }
            )
    return scores
