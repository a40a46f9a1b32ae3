"""``motifs.engine: modisco``: TF-MoDISco-lite's patterns, laid out as seqsal's motifs and
assigned to seqlets by overlap."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..errors import InputError
from .build import trim_span

log = logging.getLogger(__name__)


def modisco_motifs(X, hyp, *, min_seqlets: int = 20, pseudocount: float = 0.5) -> list:
    """Motifs of modisco-lite's TF-MoDISco (its defaults) on the same maps.

    Parameters
    ----------
    X, hyp : array-like, shape=(N, 4, L)
        One-hot sequences and hypothetical contributions of every region.
    min_seqlets : int, optional
        TF-MoDISco's ``final_min_cluster_size``. Default is 20.
    pseudocount : float, optional
        Added to each base count of the PPM, as in :func:`build_motifs`. Default is 0.5.

    Returns
    -------
    motifs : list of dict
        As from :func:`build_motifs`, each with its ``pattern`` (modisco-lite's own, in
        its h5 layout).

    Raises
    ------
    InputError
        When modisco-lite is not installed.
    """
    try:
        from modiscolite.tfmodisco import TFMoDISco
    except ImportError:
        raise InputError(
            "motifs.engine: expected modisco-lite installed for 'modisco' "
            "(pip install 'seqsal[modisco]'), found it missing"
        ) from None

    def channels_last(a):
        return np.ascontiguousarray(np.asarray(a, np.float32).transpose(0, 2, 1))

    log.info("TF-MoDISco (modisco-lite) on %d regions", len(X))
    positive, negative = TFMoDISco(
        one_hot=channels_last(X[:]),
        hypothetical_contribs=channels_last(hyp[:]),
        final_min_cluster_size=min_seqlets,
    )
    motifs = []
    for sign, found in ((1, positive or []), (-1, negative or [])):
        for pattern in found:
            n = len(pattern.seqlets)
            counts = pattern.sequence.T * n + pseudocount  # its sequence: the mean one-hot
            ppm, cwm = counts / counts.sum(axis=0), pattern.contrib_scores.T
            span = trim_span(cwm, ppm)
            seqlets = pattern.seqlets
            layout = {
                "motif_id": f"motif_{len(motifs) + 1}",
                "sign": sign,
                "sequence": pattern.sequence,
                "contrib_scores": pattern.contrib_scores,
                "hypothetical_contribs": pattern.hypothetical_contribs,
                "seqlets": {
                    "start": np.array([x.start for x in seqlets]),
                    "end": np.array([x.end for x in seqlets]),
                    "example_idx": np.array([x.example_idx for x in seqlets]),
                    "is_revcomp": np.array([x.is_revcomp for x in seqlets]),
                    **{
                        key: np.array([getattr(x, key) for x in seqlets])
                        for key in ("sequence", "contrib_scores", "hypothetical_contribs")
                    },
                },
            }
            motifs.append(
                {
                    "ppm": ppm[:, span],
                    "cwm": cwm[:, span],
                    "n_seqlets": n,
                    "sign": sign,
                    "span": span,
                    "pattern": layout,
                }
            )
    return motifs


def assign_by_overlap(motifs: list, index, offset, lengths) -> tuple:
    """Each of seqsal's seqlets takes the motif of the modisco seqlet it overlaps most (in
    the same region, on its own strand); none (-1) where it overlaps none.

    Parameters
    ----------
    motifs : list of dict
        As from :func:`modisco_motifs` (their ``pattern["seqlets"]``).
    index, offset, lengths : numpy.ndarray of int, shape=(S,)
        Each seqsal seqlet's region, first base (own strand) and length.

    Returns
    -------
    labels, strand : numpy.ndarray of int, shape=(S,)
        As from :func:`cluster_seqlets`: the motif (or -1) and 1 where the motif reads
        on the region's other strand.
    """
    theirs = pd.concat(
        [
            pd.DataFrame(
                {
                    "region": m["pattern"]["seqlets"]["example_idx"],
                    "start": m["pattern"]["seqlets"]["start"],
                    "end": m["pattern"]["seqlets"]["end"],
                    "rc": m["pattern"]["seqlets"]["is_revcomp"].astype(int),
                    "motif": k,
                }
            )
            for k, m in enumerate(motifs)
        ]
        or [pd.DataFrame(columns=["region", "start", "end", "rc", "motif"])]
    )
    ours = pd.DataFrame(
        {"region": np.asarray(index), "first": np.asarray(offset), "seqlet": np.arange(len(index))}
    ).assign(last=lambda d: d["first"] + np.asarray(lengths))
    pairs = ours.merge(theirs.astype({"region": np.int64}), on="region")
    pairs["overlap"] = np.minimum(pairs["last"], pairs["end"]) - np.maximum(
        pairs["first"], pairs["start"]
    )
    best = pairs[pairs["overlap"] > 0].sort_values(["seqlet", "overlap"], ascending=[True, False])
    best = best.drop_duplicates("seqlet")
    labels = np.full(len(index), -1)
    strand = np.zeros(len(index), dtype=int)
    labels[best["seqlet"].to_numpy()] = best["motif"].to_numpy()
    strand[best["seqlet"].to_numpy()] = best["rc"].to_numpy()
    return labels, strand
