"""Known sites: how well seqlets and per-base maps find the sites planted or annotated in
``truth``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..intervals import overlap_pairs, truth_mask
from ..metrics import auprc, auroc


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
