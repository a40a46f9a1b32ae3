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


MAX_BASES = 5_000_000  # bases ranked for known sites: memory bounded whatever N


def truth_recovery(attr: np.ndarray, regions: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """AUROC and AUPRC of per-base |attribution| for bases inside known sites.

    Every region is scored while they hold at most :data:`MAX_BASES` bases; beyond that,
    evenly spaced regions that hold about as many (the ranking sorts every base scored:
    40,000 regions of 1 kb read whole took the evaluate job to 2.6 GB of memory; capped,
    0.64 GB).

    Parameters
    ----------
    attr : array-like, shape=(N, L)
        Memory-mapped or in memory: only the regions scored are read.
    regions : pandas.DataFrame
    truth : pandas.DataFrame
        Known sites (BED).

    Returns
    -------
    recovery : dict
        ``auroc``, ``auprc`` (NaN without a site), ``site_base_fraction`` and
        ``n_regions`` (the regions scored).
    """
    from ..constant import sample_rows

    rows = sample_rows(len(attr), max(1, MAX_BASES // attr.shape[1]))
    mask = truth_mask(regions.iloc[rows], truth, attr.shape[1])
    scores = np.abs(np.asarray(attr[rows])).ravel()
    return {
        "auroc": auroc(mask.ravel(), scores),
        "auprc": auprc(mask.ravel(), scores),
        "site_base_fraction": float(mask.mean()),
        "n_regions": len(rows),
    }
