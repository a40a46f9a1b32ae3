"""Does the map explain the model? Deletion faithfulness, strand stability and
recovery of known sites.

Deletion: bases are replaced by ``N`` (all-zero columns) in order of decreasing
attribution, in ``n_steps`` equal steps, and the model's output is recorded; each curve
is normalised to 1 for the intact sequence and 0 for the all-``N`` one, and its area
(AUC, lower = the attribution found what the model relies on) is compared with the same
curve for random orders of the same region.

Strand stability: each region's attributions against those of its reverse complement,
mapped back base by base (a DNA model should explain both strands of a site alike).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import auprc, auroc, pearson, spearman
from .models import predict
from .tracks import genome_positions


def _deletion_inputs(x: np.ndarray, orders: np.ndarray, n_steps: int) -> np.ndarray:
    """One (4, L) input per order and step, with the first k/n_steps of each order deleted."""
    length = x.shape[-1]
    counts = np.round(np.linspace(0, length, n_steps + 1)).astype(int)
    rank = np.empty_like(orders)
    np.put_along_axis(rank, orders, np.arange(length)[None, :].repeat(len(orders), 0), axis=1)
    keep = rank[:, None, :] >= counts[None, :, None]  # (orders, steps, L)
    return (x[None, None] * keep[:, :, None, :]).reshape(-1, 4, length)


def deletion_curves(
    model,
    X: np.ndarray,
    attr: np.ndarray,
    *,
    target: int = 0,
    n_steps: int = 20,
    n_random: int = 3,
    max_regions: int = 256,
    seed: int = 0,
    batch_size: int = 512,
    device="cpu",
):
    """Deletion curves of the attribution order and of random orders.

    Parameters
    ----------
    model : torch.nn.Module
    X : numpy.ndarray, shape=(N, 4, L)
    attr : numpy.ndarray, shape=(N, L)
    target : int, optional
        Output explained. Default is 0.
    n_steps : int, optional
        Deletion steps from none to all bases. Default is 20.
    n_random : int, optional
        Random orders per region. Default is 3.
    max_regions : int, optional
        Regions evaluated: those with the highest output. Default is 256.
    seed : int, optional
        Seed of the random orders. Default is 0.
    batch_size : int, optional
        Default is 512.
    device : str or torch.device, optional
        Default is "cpu".

    Returns
    -------
    per_region : pandas.DataFrame
        ``region_index, output, empty_output, auc_attribution, auc_random, beats_random``.
    curves : pandas.DataFrame
        ``region_index, order, fraction, output`` (normalised), long format.
    """
    rng = np.random.default_rng(seed)
    pred = predict(model, X, device=device, batch_size=batch_size)[:, target]
    empty = float(predict(model, np.zeros_like(X[:1]), device=device)[0, target])
    chosen = np.argsort(-pred, kind="stable")[:max_regions]
    fraction = np.linspace(0, 1, n_steps + 1)
    rows, curves = [], []
    for i in chosen:
        orders = np.stack(
            [np.argsort(-attr[i], kind="stable")]
            + [rng.permutation(X.shape[-1]) for _ in range(n_random)]
        )
        out = predict(
            model, _deletion_inputs(X[i], orders, n_steps), device=device, batch_size=batch_size
        )[:, target].reshape(len(orders), -1)
        scale = pred[i] - empty
        norm = (out - empty) / scale if abs(scale) > 1e-8 else np.full_like(out, np.nan)
        auc = np.trapezoid(norm, fraction, axis=1)
        rows.append((i, pred[i], empty, auc[0], auc[1:].mean(), auc[0] < auc[1:].mean()))
        for name, curve in (("attribution", norm[0]), ("random", norm[1:].mean(axis=0))):
            curves.append(
                pd.DataFrame(
                    {"region_index": i, "order": name, "fraction": fraction, "output": curve}
                )
            )
    per_region = pd.DataFrame(
        rows,
        columns=[
            "region_index",
            "output",
            "empty_output",
            "auc_attribution",
            "auc_random",
            "beats_random",
        ],
    )
    return per_region, pd.concat(curves, ignore_index=True)


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
    ours = np.asarray(attr[rows], dtype=np.float64)
    flipped_X = np.ascontiguousarray(reverse_complement(np.asarray(X[rows])))
    _, flipped, _ = attribute(model, flipped_X, **options)
    theirs = np.asarray(flipped, dtype=np.float64)[:, ::-1]  # back to the forward strand

    k = min(top_k, ours.shape[1])
    top = [np.argsort(-np.abs(m), axis=1, kind="stable")[:, :k] for m in (ours, theirs)]
    jaccard = [len(set(a) & set(b)) / len(set(a) | set(b)) for a, b in zip(*top)]
    return pd.DataFrame(
        {
            "rc_pearson": [pearson(a, b) for a, b in zip(ours, theirs)],
            "rc_spearman": [spearman(a, b) for a, b in zip(ours, theirs)],
            "rc_top_jaccard": jaccard,
        }
    )


def summarize_stability(stability: pd.DataFrame, top_k: int) -> dict:
    """Medians of :func:`strand_stability` over the regions tested."""
    return {
        "n_regions": len(stability),
        "top_k": top_k,
        **{f"median_{c}": float(stability[c].median()) for c in stability.columns},
    }


def summarize_deletion(per_region: pd.DataFrame) -> dict:
    """Mean deletion AUCs (attribution and random order) and the share of regions won."""
    return {
        "n_regions": int(len(per_region)),
        "mean_auc_attribution": float(per_region["auc_attribution"].mean()),
        "mean_auc_random": float(per_region["auc_random"].mean()),
        "fraction_beats_random": float(per_region["beats_random"].mean()),
    }


def truth_mask(regions: pd.DataFrame, truth: pd.DataFrame, length: int) -> np.ndarray:
    """Whether each base of each region (own strand) lies in a known site.

    Returns
    -------
    mask : numpy.ndarray of bool, shape=(N, L)
    """
    positions = genome_positions(regions, length)
    mask = np.zeros(positions.shape, dtype=bool)
    for chrom, sites in truth.groupby("chrom"):
        sites = sites.sort_values("start")
        starts = sites["start"].to_numpy()
        reach = np.maximum.accumulate(sites["end"].to_numpy())
        rows = np.flatnonzero(regions["chrom"].to_numpy() == chrom)
        p = positions[rows]
        index = np.searchsorted(starts, p, side="right") - 1
        mask[rows] = (index >= 0) & (p < reach[index.clip(0)])
    return mask


def _overlaps(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Overlap in bases of every interval of ``a`` with every one of ``b`` (same chrom)."""
    same = a["chrom"].to_numpy()[:, None] == b["chrom"].to_numpy()[None, :]
    lo = np.maximum(a["start"].to_numpy()[:, None], b["start"].to_numpy()[None, :])
    hi = np.minimum(a["end"].to_numpy()[:, None], b["end"].to_numpy()[None, :])
    return np.where(same, np.clip(hi - lo, 0, None), 0)


def seqlet_recovery(
    seqlets: pd.DataFrame, truth: pd.DataFrame, *, min_overlap: float = 0.5
) -> dict:
    """Precision and recall of seqlets against known sites.

    A seqlet and a site match when they overlap by at least ``min_overlap`` of the
    site's length. Precision: share of seqlets matching some site; recall: share of
    sites matched by some seqlet.
    """
    matched_seqlets = np.zeros(len(seqlets), dtype=bool)
    matched_sites = np.zeros(len(truth), dtype=bool)
    for chrom in set(seqlets["chrom"]) & set(truth["chrom"]):
        s = np.flatnonzero(seqlets["chrom"].to_numpy() == chrom)
        t = np.flatnonzero(truth["chrom"].to_numpy() == chrom)
        sites = truth.iloc[t]
        for chunk in np.array_split(s, max(1, len(s) // 2000)):
            hit = (
                _overlaps(seqlets.iloc[chunk], sites)
                >= min_overlap * (sites["end"] - sites["start"]).to_numpy()[None, :]
            )
            matched_seqlets[chunk] |= hit.any(axis=1)
            matched_sites[t] |= hit.any(axis=0)
    return {
        "n_seqlets": int(len(seqlets)),
        "n_sites": int(len(truth)),
        "seqlet_precision": float(matched_seqlets.mean()) if len(seqlets) else float("nan"),
        "seqlet_recall": float(matched_sites.mean()) if len(truth) else float("nan"),
    }


def truth_recovery(attr: np.ndarray, regions: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """AUROC and AUPRC of per-base |attribution| for bases inside known sites."""
    mask = truth_mask(regions, truth, attr.shape[1])
    return {
        "auroc": auroc(mask.ravel(), np.abs(attr).ravel()),
        "auprc": auprc(mask.ravel(), np.abs(attr).ravel()),
        "site_base_fraction": float(mask.mean()),
    }
